"""The compiled executor: numba runs the optimizer's own step in one machine-code loop per block,
time outside and cells (lane × coordinate) inside, so that LLVM vectorises across cells.

Nothing here knows an optimizer. For a definition (and a problem) a kernel is generated from the
NamedTuples' fields: it reads each state field and per-cell hyper-parameter from its array, calls
the step, projects, and keeps the health flags, the regret's running sums and the recorded rows.
The step is compiled once per optimizer and conventions, as a function of plain numbers, from
the definition's step with each `hp.<convention>` replaced by its value (`with_conventions`:
numba then prunes the other conventions' branches, so no string comparison is left in the loop);
LLVM inlines it into the cell loop, so that every kernel of that optimizer — other fields, rows,
gradients — reuses its typing and lowering (a step that loops over the past gradients is too
large for LLVM's inliner and is inlined by numba instead). A clock value that every lane shares is ticked
once per step, outside the cell loop. A step that couples the coordinates of a block (φ over
blocks of several coordinates) runs on NumPy: its per-lane array code is what numba compiles
slowest (about 15 s a kernel).
Floats are IEEE operations only (`error_model="numpy"`, no fastmath), the same as the NumPy
executor's. The generated source is written to a cache folder and compiled once; numba keeps the
machine code on disk, keyed by a digest of everything that was inlined into it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import os
import re
import sys
import tempfile
import textwrap
import types
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from adasim.engine.executors import Chunk, Executor
from adasim.engine.layout import FIELDS, Layout, negate_flipped
from adasim.errors import AdasimError
from adasim.optimizers.base import Out
from adasim.usercode import UserCodeError, who

OUT_FIELDS = Out._fields


@cache
def _numba() -> Any:
    try:
        import numba
    except Exception as err:  # not installed, or broken (e.g. built for another NumPy)
        return err
    return numba


def available() -> bool:
    """True when numba imports (and ADASIM_ENGINE does not say `numpy`)."""
    if os.environ.get("ADASIM_ENGINE", "").strip().lower() == "numpy":
        return False
    return not isinstance(_numba(), BaseException)


def unavailable_reason() -> str:
    err = _numba()
    if os.environ.get("ADASIM_ENGINE", "").strip().lower() == "numpy":
        return "ADASIM_ENGINE=numpy"
    return "" if not isinstance(err, BaseException) else f"numba could not be imported ({type(err).__name__}: {err})"


def unsupported(layout: Layout) -> str | None:
    """Why this run cannot be compiled (None when it can)."""
    if layout.problem.gradient_kernel is None:
        return f"the problem '{layout.problem.name}' has a Python gradient function, not an elementwise kernel"
    if layout.coupled:  # a call per lane on arrays of coordinates: numba compiles that slowly
        phi = getattr(layout.optimizer.hp, "phi", None)
        how = f" (φ = {phi})" if phi not in (None, "identity") else ""
        return f"{layout.optimizer.name} shares values over blocks of coordinates{how}"
    return None


def cache_dir() -> Path:
    """Where generated kernels (and numba's machine code beside them) are kept."""
    root = os.environ.get("ADASIM_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "adasim")
    path = Path(root) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".probe"
        probe.write_text("")
        probe.unlink()
        return path
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"adasim-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


# -- compiling the user's functions -------------------------------------------------------------


def _source_digest(fn: Any) -> str:
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        text = repr(fn.__code__.co_code) + repr(fn.__code__.co_consts)
    return text


_JITTED: dict[Any, tuple[Any, list[str]]] = {}
_REGISTERED: set[Any] = set()


def _helpers(fn: Any, sources: list[str]) -> None:
    """Make the plain Python functions `fn` calls by name callable from compiled code
    (numba's register_jitable), recursively, and collect their sources."""
    from numba.extending import register_jitable

    from adasim.engine.numba_ops import OVERLOADED

    for name in fn.__code__.co_names:
        obj = fn.__globals__.get(name)
        if isinstance(obj, types.FunctionType) and obj not in OVERLOADED and not _is_library(obj):
            sources.append(_source_digest(obj))
            if obj not in _REGISTERED:
                _REGISTERED.add(obj)
                register_jitable(inline="always")(obj)
            _helpers(obj, sources)


def compiled_function(fn: Any, parts: list[str]) -> Any:
    """numba's version of a step, tick or kernel. The plain Python functions it calls by name
    are compiled with it (recursively), so a helper needs no decorator. The sources of
    everything compiled are added to `parts`, for the cache digest."""
    numba = _numba()
    if fn not in _JITTED:
        sources = [_source_digest(fn)]
        _helpers(fn, sources)
        _JITTED[fn] = (numba.njit(inline="always", error_model="numpy")(fn), sources)
    jitted, sources = _JITTED[fn]
    parts.extend(sources)
    return jitted


def jit(fn: Any) -> Any:
    """An analysis's inner loop, written once as loops over NumPy arrays: compiled by numba on
    its first call (cached on disk; the plain functions it calls by name are compiled with it),
    or left as Python when numba is not available. `.python` is the plain function."""
    compiled: list[Any] = []

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        if not compiled:
            if available():
                _helpers(fn, [])
                compiled.append(_numba().njit(cache=True, error_model="numpy", nogil=True)(fn))
            else:
                compiled.append(fn)
        return compiled[0](*args)

    call.python = fn  # type: ignore[attr-defined]
    return call


_SPECIALISED: dict[tuple[Any, tuple[tuple[str, Any], ...]], Any] = {}


def with_conventions(fn: Any, values: dict[str, Any]) -> Any:
    """`fn` (a step whose second parameter is the hyper-parameter record) with every read of a
    convention field, `hp.<field>`, replaced by its value — a constant to numba, whose dead-branch
    pruning then drops the other conventions' code before typing, so that no string comparison is
    left in the cell loop for LLVM to fold (it did not for AMSGrad or Adafactor, whose loops were
    not vectorised). `fn` itself when that cannot be done safely: no source, a closure, a
    decorator, or a step that rebinds or shadows the record's name."""
    key = (fn, tuple(sorted(values.items())))
    if key not in _SPECIALISED:
        _SPECIALISED[key] = _specialise(fn, values) or fn
    return _SPECIALISED[key]


def _specialise(fn: Any, values: dict[str, Any]) -> Any:
    if not values or fn.__code__.co_freevars:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    func = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(func, ast.FunctionDef) or func.name != fn.__name__ or func.decorator_list or len(func.args.args) < 2:
        return None
    hp = func.args.args[1].arg
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and node.id == hp and not isinstance(node.ctx, ast.Load):
            return None  # rebound: a later hp.<field> may not be the run's record
        if isinstance(node, ast.arg) and node.arg == hp and node is not func.args.args[1]:
            return None  # shadowed by an inner function's parameter

    class Constants(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> Any:
            reads = isinstance(node.value, ast.Name) and node.value.id == hp and isinstance(node.ctx, ast.Load)
            if reads and node.attr in values:
                return ast.copy_location(ast.Constant(values[node.attr]), node)
            return self.generic_visit(node)

    tree = ast.fix_missing_locations(Constants().visit(tree))
    ast.increment_lineno(tree, fn.__code__.co_firstlineno - 1)  # numba's messages keep the file's line numbers
    space = dict(fn.__globals__)  # a copy: the module's own names are not touched
    exec(compile(tree, fn.__code__.co_filename, "exec"), space)  # the step's own source, constants substituted
    return space[fn.__name__]


def _is_library(fn: Any) -> bool:
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] in ("numpy", "math", "numba", "cmath")


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
            add(f"{pad}REC[{k}, rr, {i}] = {values[f]}")
        if self.regret_rows:
            add(f"{pad}RECL[rr, {i}] = LSUM[{i}]")
            add(f"{pad}RECG[rr, {i}] = GSUM[{i}]")


class CompiledExecutor(Executor):
    """Runs blocks through the kernel generated for this layout."""

    name = "compiled"

    def __init__(
        self, layout: Layout, fields: tuple[str, ...] = (), regret: bool = True, record: tuple[str, ...] = FIELDS,
        regret_rows: bool = True,
    ) -> None:  # fmt: skip
        super().__init__(layout, fields, regret, record, regret_rows)
        reason = unsupported(layout)
        if reason is not None:
            raise AdasimError(f"the compiled engine cannot run this: {reason}")
        self.kernel = kernel_for(layout, self.fields, self.record, self.regret, self.regret_rows)
        L, D = layout.lanes, layout.dim
        cells = L * D
        self.HP = tuple(_cells(getattr(layout.hp, f), L, D) for f in layout.optimizer.definition.lane_fields)
        self.plan = Plan(layout, self.fields, self.record, self.regret, self.regret_rows)
        self.G = period_gradients(layout) if self.plan.gradients == "period" else np.zeros((1, 1))
        self.filler = filler_for(layout) if self.plan.gradients == "block" else None
        self.KP = tuple(
            np.array(getattr(layout.params, f), order="C") if f in self.plan.tables else _cells(getattr(layout.params, f), L, D)
            for f in self.plan.p_dynamic
        )
        self.KP_kernel = self.KP if self.plan.reads_params else ()
        self.KEY = np.array(layout.keys.reshape(cells), order="C")
        self.S = tuple(np.ascontiguousarray(a.reshape(cells)) for a in self.state)
        clock0 = layout.clock0
        if clock0 is not None:
            self.CS = tuple(np.array([float(getattr(clock0, f))]) for f in self.plan.kept_shared)
            self.CL = tuple(np.full(cells, float(getattr(clock0, f))) for f in self.plan.kept_cells)
        else:
            self.CS, self.CL = (), ()
        self.PAST = None if self.past is None else np.ascontiguousarray(self.past.reshape(self.past.shape[0], cells))
        self.Xc = np.ascontiguousarray(self.x.reshape(cells))
        self.LO, self.HI = _cells(layout.lo, L, D, per_coordinate=True), _cells(layout.hi, L, D, per_coordinate=True)
        self.LR = _cells(layout.lr, L, D)
        self.BADSTEP = np.zeros(cells)
        self.BADNAN = np.zeros(cells)
        self.LSUM = np.zeros(cells)
        self.GSUM = np.zeros(cells)

    reuse = False  # True: the per-step fields of a block are valid until the next block (no new memory per block)

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A scratch array kept between blocks (fresh memory costs page faults on every block)."""
        buffers = self.__dict__.setdefault("_buffers", {})
        if name not in buffers or buffers[name].shape != shape:
            buffers[name] = np.empty(shape)
        return buffers[name]

    def compile(self) -> None:
        """Compile the kernel (and the problem's gradient filler) now, on a block of no steps, so
        that a step numba cannot compile is found before the run starts."""
        self._first = True
        self.run(1, 0, True, np.empty(0, dtype=np.int64))
        self._first = False

    def _carried(self) -> list[np.ndarray]:
        """Every array the kernel updates in place (to run a block again from its start)."""
        out = [*self.S, *self.CS, *self.CL, self.Xc]
        out += [self.LSUM, self.GSUM] + ([] if self.PAST is None else [self.PAST])
        return out

    def run(self, t0: int, B: int, moving: bool, rows: np.ndarray) -> Chunk:
        lay = self.layout
        L, D = lay.lanes, lay.dim
        cells = L * D
        t = np.arange(t0, t0 + B, dtype=np.int64)
        sigma = lay.optimizer.schedule(t)
        G = self.G
        if self.filler is not None:  # this block's gradients, drawn by the problem's compiled kernel
            G = self._buffer("G", (B, cells))
            with np.errstate(all="ignore"):
                (compile_once if getattr(self, "_first", False) else _call)(self.filler, t0, B, self.KP, self.KEY, G)
            if lay.flip is not None:  # twin lanes: a lane's gradient negated at its one step
                G[...] = negate_flipped(lay, G.reshape(B, L, D), t0).reshape(B, cells)
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        R = len(rows)
        F = self._buffer("F", (len(self.plan.fields), B, cells)) if self.reuse else np.empty((len(self.plan.fields), B, cells))
        # the recorded rows (row R: the sink) are this executor's scratch, valid until the next block:
        # fresh memory every block cost page faults on every row (Block's text; Trace copies them out)
        rec = self._buffer("rec", (len(self.plan.record), R + 1, cells))
        recl, recg = (self._buffer(n, (R + 1, cells) if self.regret_rows else (1, 1)) for n in ("recl", "recg"))
        snapshot = [a.copy() for a in self._carried()]
        acc = np.zeros(cells)

        def call(badstep: Any, badnan: Any) -> None:
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", _numba().errors.NumbaIRAssumptionWarning)  # numba's own pedantry
                    call_kernel = compile_once if getattr(self, "_first", False) else _call
                    call_kernel(self.kernel, t0, B, bool(moving), sigma, self.LR, G, self.KP_kernel, self.KEY, self.HP, self.S,
                                self.CS, self.CL, self.PAST, self.Xc, self.LO, self.HI, acc, badstep, badnan, self.LSUM,
                                self.GSUM, rows, rec, recl, recg, F)  # fmt: skip
            except AdasimError:
                raise
            except Exception as err:  # a typing error in a user's step surfaces at the first call
                raise _compile_error(lay, err) from None

        call(None, None)
        fresh = (~np.isfinite(acc) | ~np.isfinite(self.Xc)) & (self.BADSTEP == 0.0)
        if fresh.any():  # run the block again from its start, finding the step where each cell failed
            for a, saved in zip(self._carried(), snapshot, strict=True):
                a[...] = saved
            call(self.BADSTEP, self.BADNAN)
        if not moving:  # warm-up steps do not count in the regret
            self.LSUM[...], self.GSUM[...] = snapshot[-2 - (self.PAST is not None)], snapshot[-1 - (self.PAST is not None)]
        shape = (L, D)
        self.x = self.Xc.reshape(shape)
        self.loss_sum = self.LSUM.reshape(shape)
        self.g_sum = self.GSUM.reshape(shape)
        self.bad_step = self.BADSTEP.reshape(shape)
        self.bad_nan = self.BADNAN.reshape(shape)
        out = {f: F[k].reshape(B, L, D) for k, f in enumerate(self.plan.fields)}
        recorded = {f: rec[k, :R].reshape(R, L, D) for k, f in enumerate(self.plan.record)} if R else {}
        regret_rows = self.regret_rows and R
        return self._chunk(
            t,
            out,
            rows,
            recorded,
            recl[:R].reshape(R, L, D) if regret_rows else None,
            recg[:R].reshape(R, L, D) if regret_rows else None,
        )


def _call(function: Any, *args: Any) -> None:
    function(*args)


def period_gradients(layout: Layout) -> np.ndarray:
    """One period of the gradients when every cell sees the same ones: the problem's declared
    pattern (the kernel's own values), or — for a problem with none — the kernel evaluated over
    the whole run would be needed, so a problem whose shared gradients are not periodic is drawn
    per cell instead (Plan.g_shared is then False)."""
    return np.array(layout.problem.pattern().c, dtype=np.float64, order="C")  # writable: one array type per kernel


def _cells(value: Any, L: int, D: int, per_coordinate: bool = False) -> Any:
    """A scalar stays a float/int; a (L, 1) column, (D,) row or (L, D) array becomes (L·D,)."""
    if np.ndim(value) == 0:
        return value if isinstance(value, int | np.integer) and not isinstance(value, bool) else float(value)
    arr = np.asarray(value)
    if per_coordinate and arr.ndim == 1:
        arr = arr[None, :]
    return np.array(np.broadcast_to(arr, (L, D)).reshape(L * D))  # a writable copy: one array type per kernel


def _compile_error(layout: Layout, err: BaseException) -> AdasimError:
    d = layout.optimizer.definition
    text = " ".join(str(err).split())
    for cut in ("During:", "<source elided>"):
        text = text.split(cut)[0]
    text = re.sub(r"Failed in \w+ mode pipeline \(step: [^)]*\)\s*", "", text).strip()[:300]
    numba = _numba()
    errors = numba.core.errors
    if isinstance(err, getattr(errors, "TypingError", ()) | getattr(errors, "UnsupportedError", ())):
        return UserCodeError(f"{who(d)}: numba cannot compile its step ({text}); run with --engine numpy")
    return UserCodeError(f"{who(d)}: the compiled run failed: {type(err).__name__}: {text}")


_COMPILED: dict[str, Any] = {}


@functools.lru_cache(maxsize=1)
def _inlined_sources() -> tuple[str, ...]:
    """The source of the modules every generated function inlines (read once per process)."""
    modules = ("adasim.ops", "adasim.elementary", "adasim.engine.numba_ops", "adasim.engine.compiled")
    return tuple(Path(sys.modules[m].__file__).read_text() for m in modules)


def _generated(kind: str, label: str, about: str, body: str, names: dict[str, Any], parts: list[str],
               inline: str = "never") -> Any:  # fmt: skip
    """Compile the function `kind` of generated source `body` (globals `names`): written to the
    cache folder under a digest of everything it inlines, so numba's disk cache can keep it.
    `inline="always"`: numba copies it into its callers (then nothing is cached for it alone)."""
    numba = _numba()
    parts += [*_inlined_sources(), body, numba.__version__, np.__version__]
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]
    if digest in _COMPILED:
        return _COMPILED[digest]
    safe = "".join(ch if ch.isalnum() else "_" for ch in label)
    path = cache_dir() / f"{kind}_{safe}_{digest}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(f'"""Generated by adasim for {about}: do not edit."""\nimport numpy as np\n\n' + body)
        os.replace(tmp, path)
    module_name = f"adasim_{kind}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[module_name] = module  # numba's disk cache finds the function's globals through it
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    vars(module).update({"np": np, **names})
    try:
        jitted = numba.njit(cache=True, error_model="numpy", nogil=True, inline=inline)(getattr(module, kind))
    except Exception:
        jitted = numba.njit(cache=False, error_model="numpy", nogil=True, inline=inline)(getattr(module, kind))
    jitted.adasim_lock = path.with_suffix(".lock")  # compiled under this lock (see compile_once)
    _COMPILED[digest] = jitted
    return jitted


def compile_once(function: Any, *args: Any) -> None:
    """Call a generated function for the first time — which compiles it — while holding its lock
    file, so that processes that need the same function at once (pytest workers, a sweep's pool)
    compile it once and the others load it from numba's disk cache."""
    lock = getattr(function, "adasim_lock", None)
    try:
        import fcntl
    except ImportError:  # not POSIX: compile without the lock
        fcntl = None  # type: ignore[assignment]
    if lock is None or fcntl is None:
        function(*args)
        return
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            function(*args)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _need_numba() -> None:
    if isinstance(_numba(), BaseException):
        raise AdasimError(f"the compiled engine needs numba: {unavailable_reason()} (use --engine numpy)")


def kernel_for(layout: Layout, fields: tuple[str, ...] = (), record: tuple[str, ...] = FIELDS, regret: bool = True,
               regret_rows: bool = True) -> Any:  # fmt: skip
    """The compiled kernel for this layout's definition and conventions (and problem, when its
    gradients depend on x), and for what it keeps: the per-step fields, the fields of recorded
    steps, the regret's sums (and their values at the recorded steps) (cached)."""
    _need_numba()
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
    return _generated("kernel", d.name, about, plan.source(), names, parts)


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
    step = _generated("step", d.name, f"the step of the optimizer {d.name!r}", plan.step_source(), names, sources, inline)
    parts += sources  # the kernel's digest covers the step it calls
    return step


def filler_for(layout: Layout) -> Any:
    """The compiled loop that draws a block of the problem's gradients for every cell."""
    _need_numba()
    plan = Plan(layout)
    parts: list[str] = []
    names = {"GRAD": compiled_function(layout.problem.gradient_kernel, parts), f"{plan.params_cls.__name__}_": plan.params_cls}
    return _generated("fill", layout.problem.name, f"the gradients of the {layout.problem.name} problem", plan.filler_source(),
                      names, parts)  # fmt: skip
