"""What the explorer shows for one position of its controls, as JSON-ready dicts.

The controls are the settings of `adasim run` (same names, same checks): the problem family
(online: g_t = C once every d steps (k spikes), else −s; stochastic: g_t = C w.p. p, else −s),
C, d, k, p, the seeds, β1, β2, the shift n, α and the schedule α_t, ε, and the optimizers.
For each position, `view` simulates every chosen optimizer for `steps` steps and returns
x_t, the last steps' (g_t, v_t), the net update factors κ measured on the run beside their closed
forms, and the drift −(1/d)Σ_j c_j κ_j (per step, in units of α) with its sign; `phase` returns,
per optimizer, the critical β2 (where the closed-form drift changes sign) and a small (β1, β2) map
of the drift's sign. Both are pure functions of a `Position`; the server, the static export and
the notebook widget only carry them to the page.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.analysis.drift import analytic_drift, critical_value, mean_gradient_sign
from adasim.analysis.empirical import NUF_FIELDS, NUFObserver
from adasim.analysis.report import NUFResult, closed_form
from adasim.engine import Layout, iterate
from adasim.engine.observers import Trace, health, observe
from adasim.engine.simulate import check_memory, run_bytes
from adasim.errors import AdasimError, check_choice, check_range, unknown_name
from adasim.optimizers import OPTIMIZERS, definition
from adasim.problems.presets import DEFAULT_OPTIMIZERS
from adasim.settings import RunSettings, number_text
from adasim.spec import Spec, build_spec

STEPS = 10_000  # the steps of every view (the issue's budget: 10^4 steps × 4 optimizers per redraw)
MAX_STEPS = 200_000
MAX_OPTIMIZERS = 6  # optimizers drawn at once
MAX_TEXT = 200  # characters of a query's key or value (optimizers: MAX_OPTIMIZERS of the longest names)
TRACE = ("x", "g", "v")  # the trace fields a view reads
NO_FACTORS = "no closed form"  # the verdict of an optimizer without net update factors
X_POINTS = 240  # log-spaced points of x_t sent to the page
GV_STEPS = 48  # the last steps' (g_t, v_t) pairs
FAMILIES = ("online", "stochastic")
CRITICAL_POINTS = 48  # grid of critical_value's bracketing scan (the root is then refined by brentq)
LIMIT_NOTE = (
    "the closed form is the limit t → ∞ (docs/REFERENCE.md §3): bias corrections → 1 and ADOPT's clip bound "
    "t^(1/4) → ∞ are not in it, and a stochastic run's factors are sample means"
)
# what no closed form depends on (κ = k/α and the drift are in units of α; the limit has no seeds):
# the caches of closed forms, critical values and maps are keyed without them
INDEPENDENT = ("lr", "schedule", "seeds", "steps")
MAP_BETA1 = (0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9)
MAP_BETA2 = tuple(float(f"{b:.3g}") for b in np.geomspace(1e-3, 0.999, 16))


def _stops(values: Any) -> tuple[str, ...]:
    """Slider stops as text: three significant digits, each once, in order."""
    return tuple(number_text(v) for v in sorted({float(f"{float(v):.3g}") for v in values}))


@dataclass(frozen=True)
class Control:
    """One control of the page: the setting it sets (build_spec's name), its label, the values a
    request may carry (lo..hi, either end open, integer or a choice: what the problem and every
    optimizer taking the setting accept, so that /api/view and /api/phase refuse the same) and
    the slider's stops."""

    name: str
    label: str
    stops: tuple[str, ...]
    default: str
    families: tuple[str, ...] = FAMILIES
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # lo itself refused (the problem or the optimizers refuse it)
    hi_open: bool = False
    integer: bool = False
    choices: tuple[str, ...] = ()  # a select instead of a slider
    defaults: tuple[tuple[str, str], ...] = ()  # per-family defaults (family, value)
    note: str = ""

    def __post_init__(self) -> None:
        if not self.choices:  # the defaults are stops, so that the page can show them exactly
            texts = {self.default, *dict(self.defaults).values()}
            merged = {float(t): t for t in texts} | {float(t): t for t in self.stops}
            object.__setattr__(self, "stops", tuple(merged[v] for v in sorted(merged)))

    def default_for(self, family: str) -> str:
        return dict(self.defaults).get(family, self.default)

    def parse(self, text: str) -> Any:
        """The value of `text` for this control, checked as `adasim run` checks it."""
        if self.choices:
            return check_choice(self.label, text, self.choices)
        try:
            value = float(text)
        except ValueError:
            raise AdasimError(f"{self.label} must be a number, got {text!r}") from None
        value = check_range(self.label, value, self.lo, self.hi, lo_open=self.lo_open, hi_open=self.hi_open, integer=self.integer)
        return int(value) if self.integer else float(value)

    def as_dict(self, family_defaults: bool = True) -> dict[str, Any]:
        out = {"name": self.name, "label": self.label, "stops": list(self.choices or self.stops),
               "kind": "select" if self.choices else "slider", "families": list(self.families), "note": self.note,
               "default": {f: self.default_for(f) for f in FAMILIES} if family_defaults else self.default}  # fmt: skip
        return out


CONTROLS: tuple[Control, ...] = (
    Control(
        "family",
        "problem",
        (),
        "online",
        choices=FAMILIES,
        note="online: g = C once every d steps, else −1; stochastic: g = C w.p. p, else −1",
    ),
    Control(
        "C",
        "C",
        _stops([*np.arange(2.5, 50.01, 0.5), *np.arange(52, 201, 2), 101]),
        "10",
        lo=0.0,
        hi=1e6,
        lo_open=True,
        defaults=(("stochastic", "101"),),
        note="the large gradient",
    ),
    Control("d", "period d", _stops(range(2, 31)), "3", ("online",), lo=2, hi=1000, integer=True),
    Control("k", "spikes k", _stops(range(1, 30)), "1", ("online",), lo=1, hi=999, integer=True, note="gradients C per period"),
    Control(
        "p",
        "p",
        _stops(np.geomspace(0.001, 0.5, 91)),
        "0.0101",
        ("stochastic",),
        lo=0.0,
        hi=1.0,
        lo_open=True,
        hi_open=True,
        note="probability of C (p = 0.0101 with C = 101 is δ = 0.02, the AdaShift paper's)",
    ),
    Control("seeds", "seeds", _stops(range(1, 9)), "4", ("stochastic",), lo=1, hi=64, integer=True),
    Control("beta1", "β1", _stops(np.arange(0.0, 0.991, 0.01)), "0", lo=0.0, hi=1.0, hi_open=True),
    Control("beta2", "β2", _stops(np.geomspace(1e-3, 0.999, 241)), "0.0099", lo=0.0, hi=1.0, hi_open=True),
    Control("n", "shift n", _stops(range(0, 11)), "1", lo=0, hi=1000, integer=True, note="AdaShift's v_t uses g_{t−n}"),
    Control("lr", "α", _stops(10.0 ** np.arange(-3.0, 0.001, 0.05)), "0.5", lo=0.0, hi=1e6, lo_open=True),
    Control("schedule", "schedule", (), "inv-sqrt", choices=("inv-sqrt", "constant"), note="α_t = α/√t or α"),
    Control(
        "eps",
        "ε",
        (),
        "default",
        choices=("default", "0", "1e-12", "1e-08"),
        note="added to the scale; default: each optimizer's own",
    ),
)
BY_NAME = {c.name: c for c in CONTROLS}


def _default(name: str) -> Any:
    """A control's default (the online family's), parsed: the one source of Position's defaults."""
    control = BY_NAME[name]
    return control.parse(control.default_for("online"))


@dataclass(frozen=True)
class Position:
    """The controls' values (one view). `optimizers` are names the page may toggle."""

    family: str = _default("family")
    C: float = _default("C")
    d: int = _default("d")
    k: int = _default("k")
    p: float = _default("p")
    seeds: int = _default("seeds")
    beta1: float = _default("beta1")
    beta2: float = _default("beta2")
    n: int = _default("n")
    lr: float = _default("lr")
    schedule: str = _default("schedule")
    eps: str = _default("eps")
    optimizers: tuple[str, ...] = DEFAULT_OPTIMIZERS
    steps: int = STEPS

    def spec(self) -> Spec:
        """The `adasim run` spec of this view (its command reproduces it)."""
        if self.family == "online":
            problem: dict[str, Any] = {"C": self.C, "s": 1.0, "d": self.d, "k": self.k}
            if self.k >= self.d:
                raise AdasimError(f"spikes k must be below the period d ({self.d}), got {self.k}")
            seeds = 1
        else:
            problem, seeds = {"C": self.C, "s": 1.0, "p": self.p}, self.seeds
        hyper: dict[str, Any] = {"beta1": self.beta1, "beta2": self.beta2, "n": self.n, "lr": self.lr, "schedule": self.schedule}
        if self.eps != "default":
            hyper["eps"] = float(self.eps)
        defs = [definition(o) for o in self.optimizers]
        hyper = {k: v for k, v in hyper.items() if k in ("lr", "schedule") or any(d.accepts(k) for d in defs)}
        return build_spec(self.family, problem=problem, optimizers=self.optimizers, hyper=hyper,
                          run=RunSettings(steps=self.steps, seeds=range(seeds), x0=0.0))  # fmt: skip

    def query(self) -> dict[str, str]:
        """The controls' values as the page's query (text, in CONTROLS order, then the optimizers)."""
        out = {c.name: number_text(getattr(self, c.name)) for c in CONTROLS}
        out["optimizers"] = ",".join(self.optimizers)
        return out

    def without(self, *names: str) -> Position:
        """This position with `names` at their defaults: the key of what does not depend on them."""
        return dataclasses.replace(self, **{n: getattr(Position, n) for n in names})


def parse_position(query: Mapping[str, str], allowed: Sequence[str] = (), steps: int = STEPS) -> Position:
    """A Position from the page's query (text values; absent ones take their defaults), checked
    as `adasim run` checks its options. Only the built-ins and the `allowed` names (user
    optimizers the server loaded) may be chosen: a request never loads a file."""
    fields = {f.name for f in dataclasses.fields(Position)} - {"steps"}
    known = (*OPTIMIZERS, *allowed)
    for key, text in query.items():
        _check_text(key, text, _longest(known) if key == "optimizers" else MAX_TEXT)
        if key not in fields:
            raise unknown_name("explorer setting", key, sorted(fields))
    family = BY_NAME["family"].parse(query.get("family", "online"))
    values: dict[str, Any] = {"family": family}
    for control in CONTROLS[1:]:
        text = query.get(control.name)
        values[control.name] = control.parse(control.default_for(family) if text is None else text)
    names = tuple(n for n in query.get("optimizers", ",".join(DEFAULT_OPTIMIZERS)).split(",") if n)
    if not names:
        raise AdasimError("choose at least one optimizer")
    if len(names) > MAX_OPTIMIZERS:
        raise AdasimError(f"at most {MAX_OPTIMIZERS} optimizers at once, got {len(names)}")
    for name in names:
        if name not in known:
            raise unknown_name("optimizer", name, known)
    values["optimizers"] = tuple(dict.fromkeys(names))
    values["steps"] = int(check_range("steps", steps, 100, MAX_STEPS, integer=True))
    return Position(**values)


def _longest(names: Sequence[str]) -> int:
    """The longest value of `optimizers` that can be right: MAX_OPTIMIZERS of the longest names."""
    return max(MAX_TEXT, MAX_OPTIMIZERS * (max(map(len, names)) + 1))


def _check_text(key: str, text: str, limit: int) -> None:
    """Refuse a query key or value that no setting can have: longer than MAX_TEXT (`limit` for the
    optimizers) or with control characters. Checked first, so that a 60 kB name never reaches the
    did-you-mean search (quadratic in its length) and every message stays one short line."""
    if len(key) > MAX_TEXT or not key.isprintable():
        raise AdasimError(f"no explorer setting has a name like {key[:40]!r}{'...' if len(key) > 40 else ''}")
    if len(text) > limit:
        raise AdasimError(f"the value of '{key}' has {len(text):,} characters; at most {limit:,} make sense")
    if not text.isprintable():
        raise AdasimError(f"the value of '{key}' holds a control character: {text[:40]!r}")


def position_of(spec: Spec, steps: int = STEPS) -> Position:
    """The explorer's view of a spec (a figure's settings), checked to be the same settings:
    the problem's parameters and every optimizer's configuration (the steps are the explorer's)."""
    problem = spec.problem
    if problem.name not in FAMILIES:
        raise AdasimError(f"the explorer shows the {' and '.join(FAMILIES)} problems, not {problem.name}")
    params = problem.params()
    values: dict[str, Any] = {"family": problem.name, "C": float(params["C"]), "steps": steps}
    if problem.name == "online":
        values.update(d=int(params["d"]), k=int(params["k"]))
    else:
        values.update(p=float(np.asarray(problem.probability())), seeds=spec.run_settings.lanes)
    configs = [o.config() for o in spec.optimizers]
    for key in ("beta1", "beta2", "n", "lr"):
        found = [c[key] for c in configs if key in c]
        if found:
            values[key] = float(found[0]) if key != "n" else int(found[0])
    values["schedule"] = configs[0]["schedule"]["kind"]
    eps = {c.get("eps") for c in configs} - {None}
    own = all(c.get("eps") == make_default(o.name).get("eps") for c, o in zip(configs, spec.optimizers, strict=True))
    values["eps"] = "default" if own else number_text(eps.pop()) if len(eps) == 1 else "mixed"
    values["optimizers"] = tuple(o.name for o in spec.optimizers)
    query = {k: number_text(v) if k != "optimizers" else ",".join(v) for k, v in values.items() if k != "steps"}
    position = parse_position(query, steps=steps)
    mine = position.spec()
    theirs = mine.problem.params()
    differ = [k for k in params if not np.array_equal(np.asarray(params[k], dtype=object), np.asarray(theirs[k], dtype=object))]
    for a, b in zip(mine.optimizers, spec.optimizers, strict=True):
        differ += [f"{b.name} {k}" for k in sorted(set(a.config()) | set(b.config())) if a.config().get(k) != b.config().get(k)]
    if differ:
        raise AdasimError(f"the explorer cannot show these settings: {', '.join(differ)} differ from what its controls set")
    return position


def make_default(name: str) -> dict[str, Any]:
    """The configuration of optimizer `name` with its own defaults."""
    return definition(name)().config()


def _round(values: Any, digits: int = 6) -> list[float | None]:
    """Floats for the page: `digits` significant digits (the page shows 4), None for non-finite."""
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else None for v in np.asarray(values, dtype=float).ravel()]


def _fixed(values: Any, decimals: int = 5) -> list[float | None]:
    """Points of x_t in [−1, 1] for the page: `decimals` places (vectorised; None for non-finite)."""
    x = np.round(np.asarray(values, dtype=float), decimals)
    return [v if math.isfinite(v) else None for v in x.tolist()]


def _verdict(wrong_way: float) -> str:
    """Which way a wrong-way drift moves x."""
    return "away from x*" if wrong_way > 0 else "toward x*" if wrong_way < 0 else "no drift"


def runnable(position: Position) -> tuple[Spec, dict[str, AdasimError]]:
    """The spec of the optimizers of `position` that run with its settings, and why each other one
    cannot (ADOPT with ε = 0, a user optimizer refusing a value): a view draws the others instead of
    failing whole. Raises when none can run: a setting of the problem (k ≥ d, ...) fails them all."""
    try:
        return position.spec(), {}
    except AdasimError:
        pass
    refused: dict[str, AdasimError] = {}
    for name in position.optimizers:
        try:
            dataclasses.replace(position, optimizers=(name,)).spec()
        except AdasimError as err:
            refused[name] = err
    kept = tuple(o for o in position.optimizers if o not in refused)
    if not kept:
        raise next(iter(refused.values()))
    return dataclasses.replace(position, optimizers=kept).spec(), refused


def view_bytes(position: Position) -> int:
    """The memory a view needs at its peak: its largest run, as `simulate` estimates it before
    refusing a run above ADASIM_MEMORY_LIMIT (adasim.engine.simulate.run_bytes, with the view's
    TRACE fields recorded at every step); a view runs its optimizers one after another."""
    spec, _ = runnable(position)
    most = 0.0
    for opt in spec.optimizers:
        run = spec.run_settings
        most = max(most, run_bytes(Layout.build(spec.problem, opt, run.seeds, run.x0), run.steps, len(TRACE)))
    return int(most)


def view(position: Position, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Simulate every optimizer of `position`: x_t (median over seeds, log-spaced steps), the last
    steps' (g_t, v_t) of the first seed, κ per phase (online) or per gradient value (stochastic)
    measured after the first half of the run and in closed form, and the drift in units of α.
    An optimizer without net update factors (a step that is not a sum of its gradients times
    factors: Lion, AdamW, ...) still has its x_t and (g_t, v_t), with `factors` saying why it has
    no κ; one that cannot run with these settings has only `trouble`. `progress(n)` is told of n
    more steps simulated; it may raise to stop the view (the server's cancellation)."""
    spec, refused = runnable(position)
    problem = spec.problem
    out: dict[str, Any] = {
        "position": position.query(),
        "command": spec.command(),
        "steps": spec.run_settings.steps,
        "optimum": _round(problem.optimum()[0])[0],
        "worst": _round(problem.worst()[0])[0],
        "mean_gradient": _round(np.atleast_1d(problem.mean_gradient()))[0],
        "domain": _round([problem.domain.lo, problem.domain.hi]),
        "grouped_by": "phase" if problem.pattern() is not None else "gradient value",
        "optimizers": [],
    }
    runs = dict(zip((o for o in position.optimizers if o not in refused), spec.optimizers, strict=True))
    for name in position.optimizers:
        if name in refused:
            out["optimizers"].append({"name": name, "label": name, "trouble": f"{refused[name]}; not drawn"})
        else:
            out["optimizers"].append(_drawn(position, spec, name, runs[name], progress))
    return out


def _drawn(position: Position, spec: Spec, name: str, opt: Any, progress: Callable[[int], None] | None) -> dict[str, Any]:
    """One optimizer's entry of a view (see `view`), from one pass of its run read by two observers:
    the trace (x, g, v at every step) and the factors (κ after the first half; none for a step
    that is not a sum of its gradients times factors). The run is freed on return, so that a view
    holds one run at a time (what `view_bytes` counts)."""
    problem, run = spec.problem, spec.run_settings
    steps = int(run.steps)  # type: ignore[arg-type]
    layout = Layout.build(problem, opt, run.seeds, run.x0)
    check_memory(layout, steps, len(TRACE))
    try:
        nuf, why = NUFObserver(problem, opt, steps, burn_in=steps // 2, samples=0), None
    except AdasimError as err:  # its kernel is 'none': no factors
        nuf, why = None, str(err)
    trace = Trace(TRACE, rows=steps)
    fields = NUF_FIELDS if nuf is not None else ()
    blocks = iterate(problem, opt, run=run, fields=fields, record=np.arange(1, steps + 1),
                     min_block=nuf.min_block if nuf is not None else 1)  # fmt: skip
    last = observe(blocks, [trace] + ([nuf] if nuf is not None else []), progress=progress)
    status, bad_step = health(last)
    entry: dict[str, Any] = {"name": name, "label": opt.name}
    bad = [i for i, s in enumerate(status) if s != "ok"]
    if bad:
        entry["trouble"] = f"{opt.name}: {status[bad[0]]} at step {int(bad_step[bad[0]])}; nothing to draw"
        return entry
    recorded = trace.arrays(TRACE)
    rows = np.unique(np.geomspace(1, steps, X_POINTS).astype(int)) - 1
    x = np.median(recorded["x"][:, :, 0], axis=1)
    entry.update(
        t=[int(t) for t in recorded["t"][rows]],
        x=_fixed(x[rows]),
        g=_round(recorded["g"][-GV_STEPS:, 0, 0], 5),
        v=_round(recorded["v"][-GV_STEPS:, 0, 0], 5),
        final_x=_round([x[-1]])[0],
    )
    del recorded, trace
    emp = None
    if nuf is not None:
        try:
            emp = nuf.result()
        except AdasimError as err:
            why = str(err)
    _stop_point(progress)  # a stochastic closed form takes up to a second
    analytic, reason = _closed_form(dataclasses.replace(position.without(*INDEPENDENT), optimizers=(name,)))
    if emp is None:
        entry.update(nuf=[], factors=why, no_closed_form=reason or why,
                     drift={"measured": None, "closed": None, "wrong_way": None, "verdict": NO_FACTORS})  # fmt: skip
        return entry
    return {**entry, **_factors(problem, opt, emp, analytic, reason)}


def _stop_point(progress: Callable[[int], None] | None) -> None:
    """Where a view told to stop (its progress hook raises) stops between the passes of a run."""
    if progress is not None:
        progress(0)


def _factors(problem: Any, opt: Any, emp: Any, analytic: Any, reason: str | None) -> dict[str, Any]:
    """The factors and the drift of one optimizer's entry: measured, closed form, and the verdict."""
    nuf = NUFResult(opt, emp, analytic, reason).as_dict()
    closed_drift = nuf["drift"]["analytic"]
    out: dict[str, Any] = {
        "nuf": [{"phase": r.get("phase"), "gradient": _round([r["gradient"]])[0], "measured": _round([r["empirical"]])[0],
                 "closed": None if r["analytic"] is None else _round([r["analytic"]])[0], "count": int(r["count"])}
                for r in nuf["nuf"]],
        "no_closed_form": reason,
    }  # fmt: skip
    if "analytic_error" in nuf:
        out["closed_error"] = nuf["analytic_error"]
    rows_both = [r for r in out["nuf"] if r["closed"] and r["measured"] is not None]
    if any(abs(r["measured"] / r["closed"] - 1) > 1e-3 for r in rows_both):
        out["closed_note"] = LIMIT_NOTE
    drift = closed_drift if closed_drift is not None else emp.drift
    wrong_way = drift * mean_gradient_sign(problem)
    out["drift"] = {"measured": _round([emp.drift])[0], "closed": None if closed_drift is None else _round([closed_drift])[0],
                    "wrong_way": _round([wrong_way])[0], "verdict": _verdict(wrong_way)}  # fmt: skip
    return out


def phase(position: Position) -> dict[str, Any]:
    """Per optimizer with a β2 and a closed form: the critical β2 at the current β1 (None when the
    drift keeps its sign on (0, 1)) and the sign of the wrong-way drift on MAP_BETA1 × MAP_BETA2
    (+1 away from x*, −1 toward it, 0 none, None without a closed form); rows are β1 (one row for
    an optimizer without β1). Neither depends on α, the schedule or the seeds. The stochastic
    family has neither here: its stationary closed forms take 0.1–1 s each (`adasim critical`
    finds its critical β2). Checked as `view` checks: an optimizer that cannot run with these
    settings has a note instead, and a setting no optimizer can run with is refused."""
    spec, refused = runnable(position)
    out: dict[str, Any] = {"position": position.query(), "beta1": list(MAP_BETA1), "beta2": list(MAP_BETA2), "optimizers": []}
    if position.family != "online":
        command = spec.command("critical", run=False)
        out["note"] = f"no critical β2 or map for the stochastic family here (each closed form takes up to a second): {command}"
        return out
    for name in position.optimizers:
        if name in refused:
            out["optimizers"].append({"name": name, "critical_beta2": None, "critical_note": str(refused[name]), "map": None})
            continue
        one = position.without(*INDEPENDENT)
        one = dataclasses.replace(one, optimizers=(name,))
        out["optimizers"].append({"name": name, **_critical(one.without("beta2")), **_map(one.without("beta1", "beta2"))})
    return out


def _closed(position: Position) -> tuple[Any, Any] | None:
    spec = position.spec()
    opt = spec.optimizers[0]
    if not opt.definition.accepts("beta2"):
        return None
    return spec.problem, opt


@functools.lru_cache(maxsize=256)
def _closed_form(position: Position) -> tuple[Any, str | None]:
    """The closed form of the one optimizer of `position` (or why there is none): the stochastic
    family's are Laplace integrals (~50 ms each), so they are kept for moves of α and the seeds."""
    spec = position.spec()
    return closed_form(spec.problem, spec.optimizers[0])


@functools.lru_cache(maxsize=512)
def _critical(position: Position) -> dict[str, Any]:
    found = _closed(position)
    if found is None:
        return {"critical_beta2": None, "critical_note": "no β2"}
    problem, opt = found
    try:
        crit = critical_value(problem, opt, "beta2", points=CRITICAL_POINTS)
    except AdasimError as err:
        return {"critical_beta2": None, "critical_note": str(err)}
    note = None if crit.critical is not None else "the drift keeps its sign for every β2"
    return {"critical_beta2": crit.critical, "critical_note": note, "wrong_way_below": crit.wrong_way_below}


@functools.lru_cache(maxsize=128)
def _map(position: Position) -> dict[str, Any]:
    found = _closed(position)
    if found is None:
        return {"map": None}
    problem, opt = found
    sign = mean_gradient_sign(problem)
    betas1 = MAP_BETA1 if opt.definition.accepts("beta1") else (None,)
    cells = []
    for b1 in betas1:
        row = []
        for b2 in MAP_BETA2:
            settings = {"beta2": b2} if b1 is None else {"beta1": b1, "beta2": b2}
            try:
                row.append(int(np.sign(analytic_drift(problem, opt.replace(**settings)) * sign)))
            except AdasimError:
                row.append(None)
        cells.append(row)
    return {"map": cells, "map_rows": "beta1" if betas1[0] is not None else None}
