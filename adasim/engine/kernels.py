"""The source of the compiled kernels, generated for a layout (`Plan`): the block loop with time
outside and cells (lane × coordinate) inside, which reads each state field and per-cell
hyper-parameter from its array, calls the step, projects, and keeps the health flags, the regret's
running sums and the recorded rows; the step alone, with its conventions as constants
(`step_for`); the loop that draws a block of a problem's gradients (`filler_for`). Nothing here
knows an optimizer: everything comes from the definition's NamedTuples (see adasim.engine.compiled
for the design)."""

from __future__ import annotations

from typing import Any

import numpy as np

from adasim.engine.jit import compiled_function, generated, need_numba, with_conventions
from adasim.engine.layout import FIELDS, Layout
from adasim.optimizers.base import Out

OUT_FIELDS = Out._fields


def unsupported(layout: Layout) -> str | None:
    """Why this run cannot be compiled (None when it can)."""
    if layout.problem.gradient_kernel is None:
        return f"the problem '{layout.problem.name}' has a Python gradient function, not an elementwise kernel"
    if layout.optimizer.definition.matrix:
        return f"{layout.optimizer.name} acts on each lane's coordinates as one matrix (NumPy and Python engines)"
    where = layout.problem.projection()
    if where is not None:
        return f"the problem '{layout.problem.name}' projects every step on {where} (NumPy and Python engines)"
    if layout.coupled:  # a call per lane on arrays of coordinates: numba compiles that slowly
        phi = getattr(layout.optimizer.hp, "phi", None)
        how = f" (φ = {phi})" if phi not in (None, "identity") else ""
        return f"{layout.optimizer.name} shares values over blocks of coordinates{how}"
    return None


# -- the generated kernel ----------------------------------------------------------------------


def _at(name: str, value: Any) -> str:
    """`name[{cell}]` for a value that differs between cells, `name` for one they share."""
    return f"{name}[{{cell}}]" if np.ndim(value) else name


def _record(cls: type, values: dict[str, str]) -> str:
    return f"{cls.__name__}_({', '.join(values[f] for f in cls._fields)})"


class Plan:
    """The shape of the kernel for one layout: which values are arrays, which constants."""

    def __init__(self, layout: Layout, fields: tuple[str, ...] = (), record: tuple[str, ...] = FIELDS,
                 regret: bool = True, regret_rows: bool = True) -> None:  # fmt: skip
        opt = layout.optimizer
        self.fields = tuple(f for f in FIELDS if f in fields)
        self.record = tuple(f for f in FIELDS if f in record)
        self.regret = bool(regret)
        self.regret_rows = bool(regret and regret_rows)
        d = opt.definition
        self.layout = layout
        self.definition = d
        self.hp_dynamic = d.lane_fields
        self.hp_static = {f: getattr(opt.hp, f) for f in d.conventions_fields}
        problem = layout.problem
        params = layout.params
        self.params_cls = type(params)
        self.p_static = {f: getattr(params, f) for f in params._fields if isinstance(getattr(params, f), str | bool)}
        self.p_dynamic = tuple(f for f in params._fields if f not in self.p_static)
        self.tables = set(problem.tables)
        self.clock_fields = () if d.clock is None else d.clock._fields
        self.shared = dict(zip(self.clock_fields, layout.shared, strict=True))
        self.carried = dict(zip(self.clock_fields, layout.carried, strict=True))
        # the clock values kept between steps in arrays: shared (CS, one value) or per cell (CL)
        self.kept_shared = tuple(f for f in self.clock_fields if self.shared[f] and self.carried[f])
        self.kept_cells = tuple(f for f in self.clock_fields if not self.shared[f] and self.carried[f])
        self.x_dependent = not problem.x_independent
        self.linear = problem.linear
        # where g comes from: one period shared by every cell (read with a running phase), a block
        # of per-cell gradients drawn by the problem's own compiled filler, or — when it depends on
        # x — the problem's kernel called inside the loop
        if self.x_dependent:
            self.gradients = "inline"
        elif layout.gradient_is_shared() and problem.pattern() is not None and layout.flip is None:
            self.gradients = "period"
        else:
            self.gradients = "block"
        # the source names the problem's values (KP) only to compute the gradients or the loss; a
        # kernel that names none is given none, so that one kernel (and one machine-code signature:
        # the values' types differ) serves every problem
        self.reads_params = self.gradients == "inline" or not self.linear
        self.args = d.arguments

    def filler_source(self) -> str:
        """The problem's gradients for a block of steps and every cell: G[b, i] = g_{t0+b} of cell i."""
        lay = self.layout
        p_vals = {f: (f"KP[{i}]" if f in self.tables else _at(f"KP[{i}]", getattr(lay.params, f)))
                  for i, f in enumerate(self.p_dynamic)}  # fmt: skip
        p_vals.update({f: repr(v) for f, v in self.p_static.items()})
        params = _record(self.params_cls, {k: v.format(cell="i") for k, v in p_vals.items()})
        return "\n".join([
            "def fill(t0, B, KP, KEY, G):",
            "    cells = G.shape[1]",
            "    for b in range(B):",
            "        t = t0 + b",
            "        for i in range(cells):",
            f"            G[b, i] = GRAD({params}, KEY[i], t)",
        ]) + "\n"  # fmt: skip

    def step_source(self) -> str:
        """The optimizer's step for this run's conventions, on plain numbers: the state, the per-cell
        hyper-parameters and the clock come in field by field (the conventions are constants) and
        the new state and the `Out` go back as one flat tuple. Every kernel of the same optimizer
        and conventions calls this one compiled function (LLVM inlines it into the cell loop), and
        its cached signature names no class of the user's."""
        d = self.definition
        state = [f"s_{f}" for f in d.state._fields]
        dyn = [f"h_{f}" for f in self.hp_dynamic]
        clock = [f"c_{f}" for f in self.clock_fields]
        hp = {f: f"h_{f}" for f in self.hp_dynamic} | {f: repr(v) for f, v in self.hp_static.items()}
        given = {"clock": _record(d.clock, {f: f"c_{f}" for f in self.clock_fields}) if d.clock else "None",
                 "x": "x", "past": "past", "blocks": "None"}  # fmt: skip
        inner = [_record(d.state, dict(zip(d.state._fields, state, strict=True))), _record(d.hyper, hp), "g", "t", "alpha"]
        inner += [given[a] for a in self.args]
        params = [*state, *dyn, "g", "t", "alpha", *(clock if "clock" in self.args else ())]
        params += [a for a in self.args if a in ("x", "past")]
        back = [*(f"s.{f}" for f in d.state._fields), *(f"o.{f}" for f in OUT_FIELDS)]
        return "\n".join([
            f"def step({', '.join(params)}):",
            f"    s, o = STEP({', '.join(inner)})",
            f"    return ({', '.join(back)},)",
        ]) + "\n"  # fmt: skip

    def source(self) -> str:
        d = self.definition
        lay = self.layout
        hp_vals = {f: _at(f"HP[{i}]", getattr(lay.hp, f)) for i, f in enumerate(self.hp_dynamic)}
        hp_vals.update({f: repr(v) for f, v in self.hp_static.items()})
        p_vals = {f: (f"KP[{i}]" if f in self.tables else _at(f"KP[{i}]", getattr(lay.params, f)))
                  for i, f in enumerate(self.p_dynamic)}  # fmt: skip
        p_vals.update({f: repr(v) for f, v in self.p_static.items()})
        lines = [
            "def kernel(t0, B, moving, sigma, LR, G, KP, KEY, HP, S, CS, CL, PAST, X, LO, HI, ACC, BADSTEP, BADNAN,",
            "           LSUM, GSUM, ROWS, REC, RECL, RECG, F):",
            "    cells = X.shape[0]",
            "    R = ROWS.shape[0]",
            "    r = 0",
            "    phase = (t0 - 1) % G.shape[0]",
            "    for b in range(B):",
            "        t = t0 + b",
            "        sig = sigma[b]",
            "        keep = r < R and ROWS[r] == b",
            "        rr = r if keep else R  # the recorded row, or the sink row R that nobody reads (no branch in the loop)",
        ]
        add = lines.append
        clock = d.clock
        if clock is not None:
            prev_sh = {f: (f"CS[{self.kept_shared.index(f)}][0]" if f in self.kept_shared else "0.0") for f in self.clock_fields}
            add(f"        c_prev = {_record(clock, prev_sh)}")
            if any(self.shared.values()):
                add(f"        hp0 = {_record(d.hyper, {k: v.format(cell='0') for k, v in hp_vals.items()})}")
                add("        c_sh = TICK(c_prev, hp0, t)")
                for k, f in enumerate(self.kept_shared):
                    add(f"        CS[{k}][0] = c_sh.{f}")
        if self.gradients == "period":  # G: one period of the gradients, read with a running phase
            add("        g_sh = G[phase]")
            add("        phase = phase + 1 if phase + 1 < G.shape[0] else 0")
        self._cell_body(lines, hp_vals, p_vals)
        add("        if keep:")
        add("            r += 1")
        return "\n".join(lines) + "\n"

    # the loop over cells, one call of the step per cell
    def _cell_body(self, lines: list[str], hp_vals: dict, p_vals: dict) -> None:
        d = self.definition
        add = lines.append
        add("        for i in range(cells):")
        self._clock_lines(lines, "i", "            ", _record(d.hyper, {k: v.format(cell="i") for k, v in hp_vals.items()}))
        params = _record(self.params_cls, {k: v.format(cell="i") for k, v in p_vals.items()})
        if self.gradients == "period":
            add("            g = g_sh")
        elif self.gradients == "block":
            add("            g = G[b, i]")
        else:
            add(f"            g = GRAD({params}, KEY[i], t, X[i])")
        add("            xb = X[i]")
        alpha = _at("LR", self.layout.lr).format(cell="i") + " * sig"
        call = [*(f"S[{j}][i]" for j in range(len(d.state._fields))), *(hp_vals[f].format(cell="i") for f in self.hp_dynamic)]
        call += ["g", "t", alpha]
        if "clock" in self.args:
            call += [f"c.{f}" for f in self.clock_fields]
        call += [{"x": "xb", "past": "PAST[:, i]"}[a] for a in self.args if a in ("x", "past")]
        new = [*(f"s_{j}" for j in range(len(d.state._fields))), *(f"o_{f}" for f in OUT_FIELDS)]
        add(f"            {', '.join(new)} = STEP({', '.join(call)})")
        for j in range(len(d.state._fields)):
            add(f"            S[{j}][i] = s_{j}")
        self._cell_tail(lines, "i", "            ", "g", "xb", alpha, params)

    def _clock_lines(self, lines: list[str], cell: str, pad: str, hp: str) -> None:
        """The clock of cell `cell`: the shared one, or ticked here from the cell's hyper-parameters `hp`."""
        d = self.definition
        if d.clock is None:
            return
        if all(self.shared.values()):
            lines.append(f"{pad}c = c_sh")
            return
        kept = {f: k for k, f in enumerate(self.kept_cells)}
        prev = {f: (f"CL[{kept[f]}][{cell}]" if f in kept else f"c_prev.{f}") for f in self.clock_fields}
        lines.append(f"{pad}ci = TICK({_record(d.clock, prev)}, {hp}, t)")
        now = {f: (f"c_sh.{f}" if self.shared[f] else f"ci.{f}") for f in self.clock_fields}
        lines.append(f"{pad}c = {_record(d.clock, now)}")
        for f, k in kept.items():
            lines.append(f"{pad}CL[{k}][{cell}] = ci.{f}")

    def _cell_tail(self, lines: list[str], i: str, pad: str, g: str, xb: str, alpha: str, params: str) -> None:
        """Projection, health, regret, the ring, full fields and recorded rows for cell `i`."""
        add = lines.append

        def field(name: str) -> str:
            return f"o_{name}"

        add(f"{pad}u = {field('step')}")
        lo, hi = _at("LO", self.layout.lo).format(cell=i), _at("HI", self.layout.hi).format(cell=i)
        # x_t = Π(x_{t−1} − step): ops.clip's NaN-propagating max then min, written out
        add(f"{pad}y = {xb} - u")
        add(f"{pad}y = y if (y >= {lo} or y != y) else {lo}")
        add(f"{pad}xv = (y if (y <= {hi} or y != y) else {hi}) if moving else {xb}")
        add(f"{pad}X[{i}] = xv")
        # health: a NaN in ACC (or in x, which keeps it) says a cell went non-finite in this block;
        # the block is then run again with BADSTEP given, which finds the step
        # (the state counts too: an overflowing v can give a step of 0 that looks fine)
        state = [f"S[{j}][{i}]" for j in range(len(self.definition.state._fields))]
        add(f"{pad}ACC[{i}] += (u - u){''.join(f' + ({v} - {v})' for v in state)}")
        add(f"{pad}if BADSTEP is not None:")
        add(f"{pad}    fresh = ((u - u) + (xv - xv){''.join(f' + ({v} - {v})' for v in state)} != 0.0) and BADSTEP[{i}] == 0.0")
        nan = " or ".join(["u != u", "xv != xv", *(f"{v} != {v}" for v in state)])
        add(f"{pad}    BADNAN[{i}] = (1.0 if ({nan}) else 0.0) if fresh else BADNAN[{i}]")
        add(f"{pad}    BADSTEP[{i}] = float(t) if fresh else BADSTEP[{i}]")
        if self.regret:
            loss = f"{g} * {xb}" if self.linear else f"LOSS({params}, {xb})"
            add(f"{pad}LSUM[{i}] += {loss}  # (warm-up blocks: the executor puts the sums back afterwards)")
            add(f"{pad}GSUM[{i}] += {g}")
        add(f"{pad}if PAST is not None:")
        add(f"{pad}    PAST[t % PAST.shape[0], {i}] = {g}")
        values = {"x": "xv", "g": g, "m": field("m"), "v": field("v"), "step": "u", "alpha": alpha, "pre": field("pre"),
                  "post": field("post")}  # fmt: skip
        for k, f in enumerate(self.fields):  # the per-step fields asked for
            add(f"{pad}F[{k}, b, {i}] = {values[f]}")
        for k, f in enumerate(self.record):
            add(f"{pad}REC[rr, {k}, {i}] = {values[f]}")  # a row holds every recorded field: rows are contiguous
        if self.regret_rows:
            add(f"{pad}RECL[rr, {i}] = LSUM[{i}]")
            add(f"{pad}RECG[rr, {i}] = GSUM[{i}]")


def period_gradients(layout: Layout) -> np.ndarray:
    """One period of the gradients when every cell sees the same ones: the problem's declared
    pattern (the kernel's own values), or — for a problem with none — the kernel evaluated over
    the whole run would be needed, so a problem whose shared gradients are not periodic is drawn
    per cell instead (Plan.g_shared is then False)."""
    return np.array(layout.problem.pattern().c, dtype=np.float64, order="C")  # writable: one array type per kernel


def kernel_for(layout: Layout, fields: tuple[str, ...] = (), record: tuple[str, ...] = FIELDS, regret: bool = True,
               regret_rows: bool = True) -> Any:  # fmt: skip
    """The compiled kernel for this layout's definition and conventions (and problem, when its
    gradients depend on x), and for what it keeps: the per-step fields, the fields of recorded
    steps, the regret's sums (and their values at the recorded steps) (cached)."""
    need_numba()
    plan = Plan(layout, fields, record, regret, regret_rows)
    d = plan.definition
    parts: list[str] = []
    names: dict[str, Any] = {"STEP": step_for(plan, parts)}
    if d.tick is not None:
        names["TICK"] = compiled_function(d.tick, parts)
    problem = layout.problem
    records = [d.hyper, d.clock]
    about = f"the optimizer {d.name!r}"
    if plan.gradients == "inline":  # the problem's kernel inside the loop (its gradients depend on x)
        names["GRAD"] = compiled_function(problem.gradient_kernel, parts)
        if not problem.linear:
            names["LOSS"] = compiled_function(problem.loss_kernel, parts)
        records.append(plan.params_cls)
        about += f" on the {problem.name} problem"
    names.update({f"{cls.__name__}_": cls for cls in records if cls is not None})
    return generated("kernel", d.name, about, plan.source(), names, parts)


def step_for(plan: Plan, parts: list[str]) -> Any:
    """The compiled step of `plan`'s optimizer with its conventions as constants (Plan.step_source;
    cached: one per optimizer, conventions and numba/NumPy versions)."""
    d = plan.definition
    sources: list[str] = []
    names = {"STEP": compiled_function(with_conventions(d.step, plan.hp_static), sources)}
    names.update({f"{cls.__name__}_": cls for cls in (d.hyper, d.state, d.clock) if cls is not None})
    # a step that reads the ring of past gradients loops over it: too large for LLVM to inline, so numba does.
    # (Two processes that need a new step at once may both compile it: compile_once locks the kernel only.)
    inline = "always" if "past" in d.arguments else "never"
    step = generated("step", d.name, f"the step of the optimizer {d.name!r}", plan.step_source(), names, sources, inline)
    parts += sources  # the kernel's digest covers the step it calls
    return step


def filler_for(layout: Layout) -> Any:
    """The compiled loop that draws a block of the problem's gradients for every cell."""
    need_numba()
    plan = Plan(layout)
    parts: list[str] = []
    names = {"GRAD": compiled_function(layout.problem.gradient_kernel, parts), f"{plan.params_cls.__name__}_": plan.params_cls}
    return generated("fill", layout.problem.name, f"the gradients of the {layout.problem.name} problem", plan.filler_source(),
                      names, parts)  # fmt: skip
