"""Running one case of the battery: the case's problem on the optimizer's executor (the engine's
block stream, the same loop as `adasim run`), read by the check's observers, and the verdict.

**Progress.** Every number about where x went reads the *average iterate of the second half*
x̄ (the last iterate of SGD keeps jumping on these problems; its average converges), per seed:
its distance to x*, and its progress, the share of the way from x_1 to x* it covers,
(x̄ − x_1)·(x* − x_1)/|x* − x_1|² (1 at x*, 0 where it started, negative the wrong way).

**Verdict.** A case passes when its expected outcome holds (cases.EXPECT) *and* the optimizer
made progress: the median progress over seeds is at least `PROGRESS_SHARE` of SGD's on the same
case, with the case's lr and the same schedule (`baseline`). An optimizer that does not move,
or moves the wrong way and stops, fails.

**Drift cases.** On Reddi's and ADOPT's i.i.d. problems the mean gradient is a small fraction of
a spike's, and no method — SGD included — gets near x* within a check's steps: where x̄ ends is
noise. Their verdict reads the mechanism instead, as the AdaShift paper does: the drift the
measured factors imply, E[κ g] = Σ_v P(g = v)·κ̄_v·v (x moves by −α_t·E[κ g] per step on average),
estimated per seed and averaged, must point toward x* with its 95 % Student-t interval over the
seeds on x*'s side of 0; and
the optimizer must move: its path length Σ|u_t| over the second half at least `MOVE_SHARE` of
SGD's (a method with lr = 10⁻¹² has SGD's direction, not its motion). A significant drift away
from x* fails; an interval that holds 0 is *inconclusive*: the verdict cannot be given at that
many twins, and the report says so. These cases run at least `Loaded.drift_twins` twins per seed
(256; 16 when lanes are separate tensors of one torch optimizer, 4 when each is its own instance,
which costs an opt.step() call per lane and step).

**Model-free net update factor.** The run carries, beside each seed's lane, "twin" lanes that see
the same gradients except at one step s, where the twin's gradient is −g_s (the layout's `flip`).
The factor of g_s is

    κ_s = Σ_{t=s}^{s+H−1} (u_t − u'_t) / (2 α_s g_s),

u the lane's unprojected steps and u' the twin's: the displacement that g_s causes over its future
(H steps), in units of α_s. For a method whose scale depends on g² only and whose momentum is
linear in g (Adam, RMSProp, AMSGrad, AdaShift, ADOPT, ...) the flip changes the momentum alone, so
κ_s is exactly adasim's net update factor k_s/α_s, truncated after H steps (for β1 = 0 it is the
scale P_s itself; with momentum it includes α_t/α_s over the kernel's span, which a decaying
schedule makes slightly smaller than the constant-α closed form). Factors are averaged per phase
(periodic problems with a short period) or per gradient value (i.i.d. problems, long periods),
with a 95 % interval over the occurrences. Twins never change a seed's lane (lanes are
independent: adapters.py), so the verdict does not depend on how many there are.

**Effective scale.** The immediate response (u_s − u'_s)/(2 α_s g_s) is the step per unit gradient
that g_s receives in its own step; its correlation with g_s² over the twins is the correlation
the AdaShift paper blames (negative: large gradients get small steps).

**Drift.** The mean of −u_t/α_t over the second half of the run (per coordinate, averaged; for the
rotated case in the counterexample's own coordinates y = Rᵀx): positive when x moves up.

**Side by side.** A foreign optimizer runs the cases that share steps, dimension, lr and schedule
(so α_t) in one run (`joint_groups`, adasim.engine.foreign.Joint): one optimizer step per t for the
group. Lanes are independent (adapters.py), so each case's numbers are what it gives alone, bit
for bit (a test holds it); a group whose run raises runs again case by case.

**Regret.** R_T/T as `adasim run` reports it (adasim.engine.simulate.Regret): one definition.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.checks.adapters import TORCH_LAYOUTS, Loaded, StepError
from adasim.checks.cases import Case, is_matrix
from adasim.display import Shown
from adasim.errors import AdasimError

Z95 = 1.959963984540054
PROGRESS_SHARE = 0.25  # a case needs at least this share of SGD's progress toward x*
MOVE_SHARE = 1e-3  # a drift case needs a second-half path length at least this share of SGD's


@dataclass
class FactorRow:
    """The model-free factor of one phase or gradient value."""

    group: str  # "phase 0" or "g = 10"
    gradient: float
    mean: float
    std: float
    ci: tuple[float, float]
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "gradient": self.gradient, "mean": self.mean, "std": self.std,
                "ci95": list(self.ci), "count": self.count}  # fmt: skip


@dataclass(repr=False)
class CaseResult(Shown):
    """What one case measured (see the module text)."""

    case: Case
    passed: bool | None  # None: the case errored or could not exercise the optimizer
    error: str | None = None
    not_exercised: str | None = None
    inconclusive: bool = False
    final_x: dict[str, Any] = field(default_factory=dict)
    distance: float = math.nan  # median over seeds of |x̄ − x*|
    progress: float = math.nan  # median over seeds of x̄'s share of the way from x_1 to x*
    sgd_progress: float = math.nan
    path: float = math.nan  # median over seeds of Σ_{t > T/2} |u_t|
    sgd_path: float = math.nan
    factor_drift: float = math.nan  # E[κ g] from the measured factors (drift cases)
    factor_drift_ci: tuple[float, float] = (math.nan, math.nan)
    average_regret: float = math.nan
    drift: float = math.nan
    nuf: list[FactorRow] = field(default_factory=list)
    correlation: dict[str, Any] = field(default_factory=dict)
    verdict: str = ""
    seconds: float = 0.0
    engine: str = ""
    lr: float = math.nan
    command: str | None = None  # the `adasim run` command that reproduces the seeds' lanes
    trace_t: np.ndarray | None = None
    trace_x: np.ndarray | None = None  # (rows, seeds, D) of the seeds' lanes

    @property
    def status(self) -> str:
        if self.not_exercised is not None:
            return "not exercised"
        if self.inconclusive:
            return "inconclusive"
        return "error" if self.passed is None else ("pass" if self.passed else "FAIL")

    def _shown(self) -> tuple[str, dict[str, Any]]:
        rows = {"result": self.status, "distance of x̄ to x*": self.distance, "progress": self.progress,
                "drift": self.drift, "verdict": self.verdict or self.error or self.not_exercised}  # fmt: skip
        return f"CaseResult {self.case.name}", rows

    def as_dict(self) -> dict[str, Any]:
        c = self.case
        return {
            "case": c.name,
            "source": c.source,
            "about": c.about,
            "problem": c.problem.config(),
            "settings": {**c.settings(), "lr_used": _num(self.lr)},
            "passed": self.passed,
            "status": self.status,
            "error": self.error,
            "not_exercised": self.not_exercised,
            "final_x": self.final_x,
            "distance": _num(self.distance),
            "progress": _num(self.progress),
            "sgd_progress": _num(self.sgd_progress),
            "progress_needed": _num(PROGRESS_SHARE * self.sgd_progress),
            "path": _num(self.path),
            "sgd_path": _num(self.sgd_path),
            "factor_drift": _num(self.factor_drift),
            "factor_drift_ci95": [_num(v) for v in self.factor_drift_ci],
            "average_regret": _num(self.average_regret),
            "drift": _num(self.drift),
            "nuf": [r.as_dict() for r in self.nuf],
            "correlation": self.correlation,
            "verdict": self.verdict,
            "engine": self.engine,
            "reproduce": self.command,
            "seconds": round(self.seconds, 3),
        }


def _num(v: float) -> float | None:
    return None if not math.isfinite(v) else float(v)


def _flip_times(case: Case, T: int, H: int, S: int, K: int, rng: np.random.Generator) -> np.ndarray:
    """The steps whose gradient the twins negate, K per seed (seed-major): all phases of a period in
    turn, or for i.i.d. problems an equal number at occurrences of each gradient value in that
    seed's own sequence (so that rare spikes are measured as often as the common gradient), all
    within [T/2, T − H]."""
    first, last = T // 2 + 1, T - H
    pattern = case.problem.pattern()
    if pattern is not None:
        d = pattern.d
        start = first + (-(first - 1)) % d  # the first step of phase 0 after T/2
        one = np.array([start + i % max(d, 1) + (i // d) * d for i in range(S * K)], dtype=np.int64)
        return one
    G = case.problem.gradients(np.arange(first, last + 1, dtype=np.int64), np.arange(S, dtype=np.uint64))[:, :, 0]
    out = []
    for seed in range(S):
        g = G[:, seed]
        values = np.unique(g)
        per = max(K // len(values), 1)
        chosen: list[int] = []
        for v in values:
            where = np.flatnonzero(g == v) + first
            chosen += list(rng.choice(where, size=min(per, len(where)), replace=False))
        while len(chosen) < K:
            chosen.append(int(rng.integers(first, last + 1)))
        out.append(np.sort(np.array(chosen[:K], dtype=np.int64)))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def trace_rows(T: int) -> np.ndarray:
    """The steps whose x the report's figure draws: 200 log-spaced and 200 evenly spaced."""
    return np.unique(np.concatenate([np.geomspace(1, T, 200).astype(np.int64), np.linspace(1, T, 200).astype(np.int64)]))


def _to_y(problem: Any, u: np.ndarray) -> np.ndarray:
    """Steps in the counterexample's own coordinates (y = Rᵀx for the rotated problem)."""
    to_y = getattr(problem, "to_y", None)
    return u if to_y is None else to_y(u)


class SecondHalf:
    """Observer: the seeds' lanes over the second half — the sum of x (for x̄), of −u/α averaged
    over the coordinates (in the counterexample's own coordinates), and the path length Σ|u|."""

    def __init__(self, layout: Any, S: int, T: int) -> None:
        self.layout, self.S, self.T = layout, S, T
        self.x_sum = np.zeros((S, layout.dim))
        self.drift_sum = np.zeros(S)
        self.path = np.zeros(S)

    def block(self, blk: Any, t: np.ndarray) -> None:
        late = 2 * t > self.T
        if not late.any():
            return
        S = self.S
        alpha = self.layout.optimizer.alpha(t[late])[:, :, 0]  # (B, 1)
        self.x_sum += blk.x[late, :S].sum(axis=0)
        u = blk.step[late, :S]
        self.drift_sum += np.sum(np.mean(-_to_y(self.layout.problem, u), axis=-1) / alpha, axis=0)
        self.path += np.sum(np.linalg.norm(u, axis=-1), axis=0)

    def x_bar(self) -> np.ndarray:
        return self.x_sum / (self.T - self.T // 2)

    def drift(self) -> float:
        return float(np.mean(self.drift_sum) / (self.T - self.T // 2))


class Twins:
    """Observer: each twin lane's displacement difference from its seed's lane over the H steps
    from its flipped step s, and at s itself (see the module text)."""

    def __init__(self, owner: np.ndarray, flip_at: np.ndarray, H: int, optimizer: Any) -> None:
        self.owner, self.flip_at, self.H, self.optimizer = owner, flip_at, H, optimizer
        self.twin = np.flatnonzero(flip_at > 0)
        s = flip_at[self.twin]
        self.first, self.last = int(s.min()), int(s.max())
        self.acc = np.zeros(len(self.twin))
        self.immediate = np.zeros(len(self.twin))

    def block(self, blk: Any, t: np.ndarray) -> None:
        if not (t[0] < self.last + self.H and t[-1] >= self.first):
            return
        step = blk.step[:, :, 0]
        diff = step[:, self.owner[self.twin]] - step[:, self.twin]  # (B, twins)
        since = t[:, None] - self.flip_at[self.twin][None, :]
        self.acc += np.sum(np.where((since >= 0) & (since < self.H), diff, 0.0), axis=0)
        alpha = self.optimizer.alpha(t)[:, :, 0]
        self.immediate += np.sum(np.where(since == 0, diff, 0.0) / (2.0 * alpha), axis=0)

    def factors(self, problem: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(s, g_s, κ_s, the immediate scale) per twin."""
        s = self.flip_at[self.twin]
        keys = problem.keys(np.asarray(self.owner[self.twin], dtype=np.uint64))  # each twin's (step, seed) pair
        with np.errstate(over="ignore"):
            g = np.broadcast_to(problem.gradient_kernel(problem.kernel_params(), keys, s[:, None]), (len(s), problem.dim))[:, 0]
        alpha_s = self.optimizer.alpha(s)[:, 0, 0]
        return s, g, self.acc / (2.0 * alpha_s * g), self.immediate / g


class Healthy:
    """Observer: raises at the first block in which a lane stopped being finite."""

    def block(self, blk: Any, t: np.ndarray) -> None:
        if blk.bad_step.any():
            _numerical_trouble(blk.bad_step, blk.bad_nan)


def run_case(loaded: Loaded, case: Case, twins: int | None = None, lr: float | None = None, engine: str = "auto",
             baseline: bool = True) -> CaseResult:  # fmt: skip
    """Run `case` on the loaded optimizer (see the module text for what is measured). `baseline`
    False leaves out the comparison with SGD (and so the verdict)."""
    from adasim.engine.observers import observe

    run = _Run(loaded, case, twins, lr, baseline)
    if run.done:
        return run.result
    try:
        run.start(loaded.executor(run.layout, ("x", "step"), ("x",), engine))
        last = observe(run.blocks, run.observers)
    except AdasimError as err:
        return run.failed(err)
    return run.finish(last)


def work(case: Case) -> int:
    """A case's share of the battery's work, in lane-steps (seeds × steps): what a progress bar counts."""
    return case.n_seeds * case.steps


def run_cases(loaded: Loaded, cases: list[Case], twins: int | None = None, lr: float | None = None,
              engine: str = "auto", baseline: bool = True, progress: Callable[[int], None] | None = None,
              ) -> list[CaseResult]:  # fmt: skip
    """Run the cases, those `joint_groups` puts together side by side in one run of the optimizer
    (adasim.engine.foreign.Joint): the same results as run_case one by one — the lanes are
    independent — with one optimizer step per t for the group. A group whose joint run fails
    (the optimizer raised) runs again case by case, so that each error is its own case's.
    `progress(n)` is told of the `work` of each case (or group) as it finishes."""
    out: dict[str, CaseResult] = {}
    for group in joint_groups(loaded, cases, lr):
        if len(group) > 1:
            joint = _run_joint(loaded, group, twins, lr, baseline)
            if joint is not None:
                out.update((r.case.name, r) for r in joint)
                if progress is not None:
                    progress(sum(work(c) for c in group))
                continue
        for c in group:
            out[c.name] = run_case(loaded, c, twins, lr, engine, baseline)
            if progress is not None:
                progress(work(c))
    if baseline:
        for c in cases:
            if c.expect == "invariant":
                reference = out.get(c.reference) or run_case(loaded, _reference(c), 0, lr, engine, baseline=False)
                judge_invariance(out[c.name], reference)
    return [out[c.name] for c in cases]


def _reference(case: Case) -> Case:
    from adasim.checks.cases import ALL_CASES

    return ALL_CASES[str(case.reference)]


def judge_invariance(res: CaseResult, reference: CaseResult) -> None:
    """An invariant case's verdict: its seeds' iterates against its reference's (the same draws,
    gradients × case.scale), at the report's trace rows. The deviation is the largest |Δx| over the
    rows and seeds in units of the largest distance the reference travelled from x_1; a pass needs
    it at most case.tol (10 %: rounding alone moves a path by a few per cent — torch's bfloat16
    Muon by 2.5 % — while steps in the gradient's units move it across the box), and the
    reference to have moved (an optimizer that stands still is trivially invariant: not exercised)."""
    case = res.case
    if res.error is not None or res.not_exercised is not None:
        return
    if reference.error is not None or reference.trace_x is None:
        res.error = f"its reference case {case.reference} did not run: {reference.error or reference.not_exercised}"
        res.passed = None
        return
    x0 = np.asarray(case.x0, dtype=float)
    travelled = float(np.max(np.abs(reference.trace_x - x0)))
    with np.errstate(all="ignore"):
        gap = float(np.max(np.abs(res.trace_x - reference.trace_x)))
    if not travelled > 0.0:
        res.not_exercised = f"it did not move on {case.reference}, so invariance says nothing"
        res.verdict = "not exercised: " + res.not_exercised
        return
    deviation = gap / travelled if math.isfinite(gap) else math.inf
    res.distance = deviation
    res.passed = deviation <= case.tol
    where = (f"with gradients × {case.scale:g} its iterates differ from {case.reference}'s by {deviation:.2g} of the "
             f"distance they travel ({travelled:.3g}; a pass needs ≤ {case.tol:g})")  # fmt: skip
    res.verdict = ("scale-invariant: " if res.passed else "not scale-invariant: ") + where


def joint_groups(loaded: Loaded, cases: list[Case], lr: float | None = None) -> list[list[Case]]:
    """The cases that can share one run of a foreign optimizer: x-independent problems with the same
    steps, dimension, lr and schedule (so the same α_t) — each other case alone. adasim's own
    optimizers run compiled, one case at a time; so do torch optimizers run one instance per lane
    (a joint run would make as many opt.step() calls, in fewer, longer units of work)."""
    if loaded.kind == "adasim" or loaded.not_exercised is not None or loaded.layout == TORCH_LAYOUTS[-1]:
        return [[c] for c in cases]
    groups: dict[Any, list[Case]] = {}
    for i, c in enumerate(cases):
        rate = lr if lr is not None else (loaded.user_lr if loaded.user_lr is not None else c.lr)
        key = (c.steps, c.dim, rate, repr(c.schedule.config())) if c.problem.x_independent else i
        groups.setdefault(key, []).append(c)
    return list(groups.values())


def _run_joint(loaded: Loaded, group: list[Case], twins: int | None, lr: float | None,
               baseline: bool) -> list[CaseResult] | None:  # fmt: skip
    """The group's cases on one Joint stepper, advanced block by block in turn; None when the joint
    run itself failed."""
    from adasim.engine.foreign import Joint, StepperExecutor
    from adasim.engine.observers import feed

    runs = [_Run(loaded, c, twins, lr, baseline) for c in group]
    live = [r for r in runs if not r.done]
    if len(live) < 2:
        return None
    try:
        joint = Joint([r.layout for r in live], lambda x0: loaded.stepper(x0, live[0].lr, loaded.layout))
        for i, r in enumerate(live):
            r.start(StepperExecutor(r.layout, joint.part(i), ("x", "step"), True, ("x",)))
    except AdasimError:
        return None
    last: dict[int, Any] = {}
    going = dict(enumerate(live))
    with np.errstate(all="ignore"):  # the streams' own errstate contexts interleave: restore once, here
        while going:
            for i, r in list(going.items()):
                try:
                    blk = next(r.blocks, None)
                    if blk is None:
                        del going[i]
                        continue
                    last[i] = blk
                    feed(blk, r.observers)
                except StepError:
                    return None  # the optimizer failed on the joint block: each case on its own says which
                except AdasimError as err:  # this case's own trouble (its lanes went non-finite)
                    r.failed(err)
                    joint.drop(i)
                    del going[i]
    for i, r in enumerate(live):
        if not r.done:
            r.finish(last[i])
    return [r.result for r in runs]


class _Run:
    """One case's run: its layout, observers and result, set up before an executor is chosen
    (run_case gives it its own, _run_joint a part of a joint one) and read when the stream ends."""

    def __init__(self, loaded: Loaded, case: Case, twins: int | None, lr: float | None, baseline: bool) -> None:
        from adasim.engine.layout import Layout

        self.began = time.perf_counter()
        self.loaded, self.case, self.baseline = loaded, case, baseline
        self.result = result = CaseResult(case, passed=None)
        self.done = False
        if loaded.not_exercised is not None and not is_matrix(case):
            result.not_exercised = loaded.not_exercised
            result.verdict = "not exercised: " + loaded.not_exercised
            self.done = True
            return
        problem = case.problem
        T, S, D = case.steps, case.n_seeds, case.dim
        lr = loaded.user_lr if lr is None else lr
        self.lr = result.lr = case.lr if lr is None else lr
        measure = problem.x_independent and D == 1
        H = min(max(T // 10, 50), 2000)
        K = 0 if not measure or case.expect == "invariant" else (loaded.twins if twins is None else int(twins))
        if case.expect == "drift" and baseline and measure:  # the verdict reads the factors
            K = max(K, loaded.drift_twins)
        flips = _flip_times(case, T, H, S, K, np.random.default_rng(12345)) if K else np.zeros(0, dtype=np.int64)
        self.owner = np.concatenate([np.arange(S), np.repeat(np.arange(S), K)])  # the seed of each lane
        flip_at = np.concatenate([np.zeros(S, dtype=np.int64), flips])
        self.rows = trace_rows(T)
        try:
            self.optimizer = loaded.optimizer(self.lr, case.schedule)
            self.layout = Layout.build(problem, self.optimizer, self.owner.astype(np.uint64), case.x0,
                                       flip=flip_at if K else None)  # fmt: skip
        except AdasimError as err:
            self.failed(err)
            return
        self.twins = Twins(self.owner, flip_at, H, self.optimizer) if K else None

    def start(self, executor: Any) -> None:
        """Attach the executor and the observers: `blocks` is the case's stream."""
        from adasim.engine.observers import Regret, Trace
        from adasim.engine.stream import iterate

        self.result.engine = executor.name
        self.result.command = _command(self.loaded, self.case, self.optimizer)
        self.regret, self.trace = Regret(self.layout), Trace(("x",))
        self.half = SecondHalf(self.layout, self.case.n_seeds, self.case.steps)
        self.observers = [self.regret, self.trace, Healthy(), self.half] + ([self.twins] if self.twins is not None else [])
        self.blocks = iterate(self.case.problem, self.optimizer, self.case.steps, executor=executor, record=self.rows,
                              regret=True)  # fmt: skip

    def failed(self, err: Exception) -> CaseResult:
        self.result.error = str(err)
        self.result.seconds = time.perf_counter() - self.began
        self.done = True
        return self.result

    def finish(self, last: Any) -> CaseResult:
        case, result, layout = self.case, self.result, self.layout
        T, S = case.steps, case.n_seeds
        x_end = last.x_end[:S]
        x_star = case.x_star()
        x_start = layout.x0[:S]
        x_bar = self.half.x_bar()
        result.trace_t, result.trace_x = self.rows, self.trace.arrays(("x",))["x"][:, :S]
        result.final_x = {
            "median": np.median(x_end, axis=0).tolist(),
            "q25": np.quantile(x_end, 0.25, axis=0).tolist(),
            "q75": np.quantile(x_end, 0.75, axis=0).tolist(),
            "x_star": x_star.tolist(),
            "mean_second_half": np.median(x_bar, axis=0).tolist(),
        }
        result.distance = float(np.median(np.linalg.norm(x_bar - x_star, axis=-1)))
        result.progress = float(np.median(progress(x_bar, x_start, x_star)))
        result.path = float(np.median(self.half.path))
        result.average_regret = float(np.mean(self.regret.average(last, T)[:S]))
        result.drift = self.half.drift()
        if self.twins is not None:
            s, g_flip, kappa, scale = self.twins.factors(case.problem)
            result.nuf = _factor_rows(case, s, g_flip, kappa)
            result.correlation = _correlation(g_flip**2, scale)
            if case.expect == "drift":
                result.factor_drift, result.factor_drift_ci = _factor_drift(case, self.owner[self.twins.twin], g_flip, kappa)
        if self.baseline and case.expect != "invariant":  # invariance is judged against its reference's run (run_cases)
            result.sgd_progress, result.sgd_path = sgd_baseline(case)
            result.passed = _passes(result, x_bar, x_start)
            result.verdict = _verdict(result)
        result.seconds = time.perf_counter() - self.began
        self.done = True
        return result


def progress(x_bar: np.ndarray, x_start: np.ndarray, x_star: np.ndarray) -> np.ndarray:
    """Per seed: the share of the way from x_1 to x* that x̄ covers (1 at x*, < 0 the wrong way)."""
    way = x_star - x_start
    with np.errstate(all="ignore"):
        return np.sum((x_bar - x_start) * way, axis=-1) / np.sum(way * way, axis=-1)


def expected(case: Case, x_bar: np.ndarray, x_start: np.ndarray) -> bool:
    """The case's expected outcome (cases.EXPECT) on the seeds' average iterates x̄ (S, D)."""
    problem = case.problem
    if case.expect == "toward":
        return bool(np.median(progress(x_bar, x_start, case.x_star())) >= 0.25)
    dist = np.linalg.norm(x_bar - case.x_star(), axis=-1)
    return bool(np.median(dist) <= case.tol * width(problem))


def width(problem: Any) -> float:
    """The size a `converge` case's tol is a share of: the box's widest side × √D, or a ball's
    diameter 2r (a ball is the whole constraint of the problems that have one)."""
    if problem.projection() is not None:
        return 2.0 * float(np.max(problem.radius))
    lo = np.broadcast_to(np.asarray(problem.domain.lo, float), (problem.dim,))
    hi = np.broadcast_to(np.asarray(problem.domain.hi, float), (problem.dim,))
    return float(np.max(hi - lo)) * math.sqrt(problem.dim)


def _passes(res: CaseResult, x_bar: np.ndarray, x_start: np.ndarray) -> bool | None:
    """True, False, or None when a drift case's interval holds 0 (res.inconclusive is then set)."""
    case = res.case
    if case.expect == "drift":
        if not res.path >= MOVE_SHARE * res.sgd_path:
            return False
        lo, hi = res.factor_drift_ci
        if not (math.isfinite(lo) and math.isfinite(hi)):
            res.inconclusive = True
            return None
        toward = float(np.sign(np.sum(case.x_star() - x_start[0])))  # x moves by −α E[κ g] per step
        near, far = (-hi, -lo) if toward > 0 else (lo, hi)  # the interval of the motion toward x*
        if near > 0:
            return True
        if far < 0:
            return False
        res.inconclusive = True
        return None
    return expected(case, x_bar, x_start) and res.progress >= PROGRESS_SHARE * res.sgd_progress


def _factor_drift(case: Case, seed: np.ndarray, g: np.ndarray, kappa: np.ndarray) -> tuple[float, tuple[float, float]]:
    """E[κ g] = Σ_v P(g = v)·κ̄_v·v from the twins' factors and the problem's law: estimated per seed
    (the seeds are independent; a seed's twins share its history), then the mean over seeds with
    its 95 % Student-t interval."""
    law = case.problem.law()
    if law is None or len(kappa) == 0:
        return math.nan, (math.nan, math.nan)
    probs = {float(v): float(p) for v, p in zip(law.values, law.probs, strict=True)}
    per_seed = []
    for s in np.unique(seed):
        pick = seed == s
        values = np.unique(g[pick])
        if set(values.tolist()) != set(probs):
            continue  # this seed's twins missed a value
        per_seed.append(sum(probs[float(v)] * float(np.mean(kappa[pick & (g == v)])) * float(v) for v in values))
    if len(per_seed) < 2:
        return math.nan, (math.nan, math.nan)
    mean, lo, hi = student_interval(np.asarray(per_seed))
    return float(mean), (float(lo), float(hi))


def student_interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over the last axis (the seeds, n ≥ 2): the mean and its 95 % Student-t interval."""
    from scipy.special import stdtrit  # Student t's quantile (scipy.stats.t.ppf's own; scipy.stats takes ~1 s to import)

    n = values.shape[-1]
    mean = np.mean(values, axis=-1)
    half = stdtrit(n - 1, 0.975) * np.std(values, axis=-1, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


@functools.cache
def _sgd_baseline(case: Case) -> tuple[float, float]:
    from adasim.checks.adapters import load

    res = run_case(load("sgd"), case, twins=0, baseline=False)
    if res.error is not None:
        raise AdasimError(f"SGD, the baseline of case {case.name}, failed: {res.error}")
    return res.progress, res.path


def sgd_baseline(case: Case) -> tuple[float, float]:
    """SGD's median progress and second-half path length on the case (its lr, its schedule): what
    PROGRESS_SHARE and MOVE_SHARE are shares of."""
    return _sgd_baseline(case)


def _command(loaded: Loaded, case: Case, optimizer: Any) -> str | None:
    """The `adasim run` command that reproduces the seeds' lanes (adasim's own optimizers)."""
    if loaded.kind != "adasim":
        return None
    from adasim.settings import run_command

    try:
        return run_command(case.problem, [optimizer], {"steps": case.steps, "seeds": case.n_seeds, "x0": case.x0})
    except (AdasimError, KeyError, TypeError, ValueError):
        return None


def _numerical_trouble(bad_step: np.ndarray, bad_nan: np.ndarray) -> None:
    hit = bad_step > 0
    t = int(bad_step[hit].min())
    nan = bool(np.any(bad_nan[hit & (bad_step == t)] > 0))
    raise AdasimError(f"numerical trouble: the step went non-finite ({'NaN' if nan else 'an overflow (inf)'}) at step {t}")


def _mean_ci(values: np.ndarray) -> tuple[float, float, tuple[float, float]]:
    n = len(values)
    mean = float(np.mean(values))
    std = float(np.std(values, ddof=1)) if n > 1 else 0.0
    half = Z95 * std / math.sqrt(n) if n > 1 else math.inf
    return mean, std, (mean - half, mean + half)


def _factor_rows(case: Case, s: np.ndarray, g: np.ndarray, kappa: np.ndarray) -> list[FactorRow]:
    pattern = case.problem.pattern()
    rows = []
    if pattern is not None and pattern.d <= 16:
        phase = (s - 1) % pattern.d
        for j in range(pattern.d):
            pick = phase == j
            if pick.any():
                mean, std, ci = _mean_ci(kappa[pick])
                rows.append(FactorRow(f"phase {j}", float(pattern.c[j]), mean, std, ci, int(pick.sum())))
        return rows
    for v in np.unique(g):
        pick = g == v
        mean, std, ci = _mean_ci(kappa[pick])
        rows.append(FactorRow(f"g = {v:g}", float(v), mean, std, ci, int(pick.sum())))
    return rows


def _correlation(g2: np.ndarray, scale: np.ndarray) -> dict[str, Any]:
    n = len(g2)
    if n < 4 or np.std(g2) == 0 or np.std(scale) == 0:
        return {"pearson_g2_scale": None, "ci95": None, "count": n,
                "note": "the gradient or the effective scale does not vary: no correlation to measure"}  # fmt: skip
    rho = float(np.corrcoef(g2, scale)[0, 1])
    z = math.atanh(max(min(rho, 1 - 1e-15), -1 + 1e-15))
    half = Z95 / math.sqrt(n - 3)
    return {"pearson_g2_scale": rho, "ci95": [math.tanh(z - half), math.tanh(z + half)], "count": n}


def _verdict(res: CaseResult) -> str:
    """One sentence about the same statistic the verdict reads (x̄, the average iterate of the
    second half): what happened, and when it failed the mechanism in the factors."""
    case = res.case
    if case.expect == "drift":
        return _drift_verdict(res)
    if case.expect == "invariant":
        return res.verdict
    where = (f"x̄ at median distance {res.distance:.3g} from x*, {res.progress:.2f} of the way from x_1 "
             f"(SGD {res.sgd_progress:.2f})")  # fmt: skip
    needed = PROGRESS_SHARE * res.sgd_progress
    if res.passed:
        done = {"converge": "converged", "toward": "moved toward x*"}
        return f"{done[case.expect]} ({where})"
    reached = expected_text(case)
    if res.progress < needed and res.progress <= 0.0:
        text = f"made no progress toward x* ({where}; a pass needs {needed:.2f})"
    elif res.progress < needed:
        text = f"too little progress toward x* ({where}; a pass needs {needed:.2f})"
    else:
        text = f"did not {reached}: {where}"
    text += f", drift {res.drift:+.3g}·α per step"
    mean = float(np.mean(case.problem.mean_gradient()))
    wrong_way = mean != 0 and np.sign(res.drift) == np.sign(mean)  # x* lies down the mean gradient
    if not wrong_way:
        return text
    text += ", away from x*"
    if res.nuf and len(res.nuf) >= 2:
        spike = max(res.nuf, key=lambda r: abs(r.gradient))
        small = [r for r in res.nuf if np.sign(r.gradient) != np.sign(spike.gradient)]
        if small:
            other = max(small, key=lambda r: r.count)
            if spike.mean < other.mean:
                text += (f"; the gradient {spike.gradient:g} moves x {spike.mean:.2g}·α while each {other.gradient:g} moves it "
                         f"{other.mean:.2g}·α: the small gradients win")  # fmt: skip
    return text


def _drift_verdict(res: CaseResult) -> str:
    lo, hi = res.factor_drift_ci
    drift = f"E[κ g] = {res.factor_drift:+.3g} (95 % {lo:+.3g} … {hi:+.3g})"
    moves = res.path >= MOVE_SHARE * res.sgd_path
    if not moves:
        return (f"does not move: path length {res.path:.3g} over the second half, {MOVE_SHARE:g} of SGD's "
                f"({res.sgd_path:.3g}) needed")  # fmt: skip
    if not math.isfinite(res.factor_drift):
        return "inconclusive: no factors measured (twins), so the drift's direction cannot be read"
    if res.inconclusive:
        return (f"inconclusive: the measured factors cannot tell the drift's direction, {drift}; more twin lanes "
                "(--twins) narrow the interval")  # fmt: skip
    if res.passed:
        where = ", ".join(f"{v:.3g}" for v in res.final_x.get("mean_second_half", []))
        return (f"its factors drive x toward x*: {drift}; path length {res.path:.3g} (SGD {res.sgd_path:.3g}); "
                f"x̄ = {where}, where the first half's transient left it")  # fmt: skip
    text = f"its factors drive x away from x*: {drift}"
    if len(res.nuf) >= 2:
        spike = max(res.nuf, key=lambda r: abs(r.gradient))
        other = max((r for r in res.nuf if r is not spike), key=lambda r: r.count)
        text += (f"; the gradient {spike.gradient:g} moves x {spike.mean:.2g}·α while each {other.gradient:g} moves it "
                 f"{other.mean:.2g}·α")  # fmt: skip
    return text


def expected_text(case: Case) -> str:
    return {"converge": "converge", "toward": "move a quarter of the way toward x*", "drift": "drift toward x*",
            "invariant": f"take the same steps with gradients × {case.scale:g}"}[case.expect]  # fmt: skip
