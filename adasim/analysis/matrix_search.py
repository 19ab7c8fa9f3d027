"""`find-counterexample` for optimizers that act on matrices (Muon, PolarGrad, Shampoo, SOAP, ...):
no closed form covers a Newton–Schulz step, so the search screens by simulation.

**Family.** The stochastic counterexample (C w.p. p, else −1; p = (1 + δ)/(C + 1), so the mean
gradient is ḡ = pC − (1 − p) = δ > 0 and x* = −1) on the diagonal of W (m × m, one independent stream
per diagonal entry: adasim.problems.Matrix), on the box [−1, 1] per entry. f̄(W) = ḡ Σ_i W_ii is
convex and Lipschitz; f̄(W) − f̄* = ḡ Σ_i (W_ii + 1), reported per diagonal entry as the gap
ḡ·mean_i(W_ii + 1) (ḡ at the start W = 0, 2ḡ at the worst point).

**Screen.** Each (C, δ) of a grid runs `screen_steps` steps at a small constant α without the box;
the drift is the mean motion of y = mean_i W_ii per step in units of α over the second half, and
the objective is the wrong-way ratio ρ = drift/ḡ of adasim.analysis.synthesis (ρ > 0: away from
x*). On a diagonal W exact-polar Muon is Signum (docs/REFERENCE.md §7), whose momentum is a
weighted vote of the last ~1/(1 − μ) gradients: when a spike arrives less often than that, the
vote is −1 most of the time (the median gradient wins) though the mean is positive.

**Confirm.** The best problem whose spikes are frequent enough for a run to average them
(p·T ≥ MIN_SPIKES; rarer ones leave every method's iterate wherever the last spike put it) runs
`steps` steps from W = 0 under constant α, α/√t and α/t, each α chosen so that SGD's expected
path Σ α_t ḡ is 4 (two widths of the box), for the optimizer and the ones it is compared with
(error-feedback Muon: the repair of Parshakova et al. 2026; momentum SGD with the same μ: the
path EF follows). Reported: the median gap over seeds of the last 10 % of the steps. The target:
Muon keeps the gap ≥ ḡ/2 under all three while the comparisons reach the minimum
(gap ≤ REACHED·ḡ); if they do not, the next candidate is tried (at most TRIES).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.errors import AdasimError, check_range
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Domain
from adasim.problems.matrix import Matrix
from adasim.schedules import Schedule

SCHEDULE_KINDS = ("constant", "inv-sqrt", "inv")
GRID_C = (3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
GRID_DELTA = (0.1, 0.5, 1.0)
REACHED = 0.1  # a run "reaches the minimum" when its gap is at most this share of the start's (ḡ); momentum SGD
# (μ = 0.95) ends at 0.067·ḡ under constant α on the problem the default search confirms (C = 100, δ = 0.1)
MIN_SPIKES = 1000  # a candidate is confirmed only if a seed expects this many spikes in the confirming run (p·T)
TRIES = 3  # candidates confirmed at most, in order of ρ
PATH = 4.0  # SGD's expected path Σ α_t ḡ in the confirming runs: two widths of the box


def problem_of(C: float, delta: float, size: int, domain: Domain | None = None) -> Matrix:
    """The stochastic counterexample with p = (1 + δ)/(C + 1) on W's diagonal (m × m)."""
    return Matrix(size=size, base="stochastic", C=float(C), s=1.0, p=(1.0 + delta) / (C + 1.0), domain=domain)


def mean_gradient(problem: Matrix) -> float:
    return float(np.mean(problem.mean_gradient()))


def gap(problem: Matrix, x: np.ndarray) -> np.ndarray:
    """ḡ·mean_i (W_ii − x*_ii) for points x (..., m²): f̄(W) − f̄* per diagonal entry."""
    W = np.asarray(x).reshape((*np.shape(x)[:-1], problem.size, problem.size))
    return mean_gradient(problem) * np.mean(np.diagonal(W, axis1=-2, axis2=-1) + 1.0, axis=-1)


def step_size(kind: str, steps: int, g_bar: float) -> float:
    """α with Σ_{t ≤ T} α_t ḡ = PATH for the schedule."""
    t = np.arange(1, steps + 1, dtype=np.float64)
    total = float(np.sum(Schedule(kind)(t)))
    return PATH / (total * g_bar)


def screen(optimizer: Optimizer, size: int = 2, screen_steps: int = 4000, seeds: int = 4, engine: str = "numpy",
           grid: Any = None) -> list[dict[str, Any]]:  # fmt: skip
    """Every (C, δ) of the grid (default GRID_C × GRID_DELTA): its measured drift and wrong-way
    ratio (module text)."""
    from adasim.engine import simulate

    lr = 1e-3
    opt = optimizer.replace(lr=lr, schedule=Schedule("constant"))
    rows = []
    for C, delta in grid if grid is not None else [(C, d) for C in GRID_C for d in GRID_DELTA]:
        problem = problem_of(C, delta, size, Domain(-math.inf, math.inf))
        run = simulate(problem, opt, screen_steps, seeds=list(range(seeds)), x0=0.0, engine=engine, record=("x",),
                       stride=max(1, screen_steps // 200), log_spaced=False)  # fmt: skip
        t, y = run.trace.t, problem.sweep_coordinate(run.trace.x)
        half = t >= screen_steps // 2
        t0, t1 = t[half][0], t[half][-1]
        drift = float(np.mean(y[half][-1] - y[half][0]) / (lr * max(t1 - t0, 1)))
        g_bar = mean_gradient(problem)
        rows.append({"C": C, "delta": delta, "p": float(problem.p), "mean_gradient": g_bar, "drift": drift,
                     "ratio": drift / g_bar if run.ok.all() else -math.inf})  # fmt: skip
    return rows


@dataclass
class MatrixCounterexample:
    """The screen, the best problem and the confirming runs (module text)."""

    optimizer: Optimizer
    compare: tuple[Optimizer, ...]
    screened: list[dict[str, Any]]
    problem: Matrix | None
    ratio: float
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # schedule → {"lr", optimizer name → gap}
    steps: int = 0
    seeds: int = 0
    min_spikes: float = MIN_SPIKES
    tried: list[dict[str, Any]] = field(default_factory=list)  # every candidate confirmed, in order

    @property
    def found(self) -> bool:
        return self.problem is not None and self.ratio > 0.0

    @property
    def stuck(self) -> bool:
        """The optimizer's gap stays at least half the start's (ḡ/2) under every schedule."""
        if not self.runs:
            return False
        g_bar = mean_gradient(self.problem)  # type: ignore[arg-type]
        return all(r["gap"][self.optimizer.name] >= 0.5 * g_bar for r in self.runs.values())  # NaN: not stuck

    @property
    def unconfirmable(self) -> bool:
        """Found, but no candidate's spikes are frequent enough for a confirming run of this length."""
        return self.found and not self.tried

    def reached(self, name: str) -> bool:
        g_bar = mean_gradient(self.problem)  # type: ignore[arg-type]
        return bool(self.runs) and all(r["gap"][name] <= REACHED * g_bar for r in self.runs.values())

    @property
    def confirmed(self) -> bool:
        """The target: the optimizer stuck, every comparison at the minimum."""
        return self.found and self.stuck and all(self.reached(o.name) for o in self.compare)

    def as_dict(self) -> dict[str, Any]:
        from adasim.settings import run_command

        problem = None if self.problem is None else self.problem.config()
        best = None
        if self.problem is not None and self.runs:
            lr = self.runs["inv-sqrt"]["lr"]
            opts = [o.replace(lr=lr, schedule=Schedule("inv-sqrt")) for o in (self.optimizer, *self.compare)]
            best = run_command(self.problem, opts, {"steps": self.steps, "seeds": self.seeds, "engine": "numpy"})
        return {
            "found": self.found,
            "optimizer": self.optimizer.name,
            "config": self.optimizer.config(),
            "method": "simulation screening (matrix optimizer: no closed form)",
            "objective": "wrong-way ratio ρ = drift/ḡ of y = mean_i W_ii on the stochastic counterexample embedded on "
            "W's diagonal; confirmed when the gap ḡ·mean_i(W_ii + 1) stays ≥ ḡ/2 under constant α, α/√t and α/t "
            f"while the comparison reaches ≤ {REACHED:g}·ḡ",
            "problem": problem,
            "ratio": None if not math.isfinite(self.ratio) else self.ratio,
            "screened": self.screened,
            "runs": self.runs,
            "tried": self.tried,
            "steps": self.steps,
            "seeds": self.seeds,
            "stuck": self.stuck,
            "compared": {o.name: self.reached(o.name) for o in self.compare},
            "confirmed": self.confirmed,
            "command": best,
        }


def find_matrix_counterexample(
    optimizer: Optimizer,
    compare: tuple[Optimizer, ...] = (),
    *,
    size: int = 2,
    steps: int = 100_000,
    seeds: int = 4,
    screen_steps: int = 4000,
    simulate_check: bool = True,
    min_spikes: float = MIN_SPIKES,
    grid: Any = None,
    progress: Any = None,
) -> MatrixCounterexample:
    """Screen the family, then confirm the best problem under three schedules (module text).
    `progress(n)` is told of n more optimizer runs (len(GRID_C)·len(GRID_DELTA) + 3·(1 + len(compare))
    per candidate confirmed)."""
    if not optimizer.definition.matrix:
        raise AdasimError(f"{optimizer.name} acts entry by entry: find-counterexample's closed forms cover it")
    if optimizer.lanes() != 1:
        raise AdasimError("find-counterexample takes one setting of the optimizer")
    size = int(check_range("size", size, 1, 16, integer=True))
    steps = int(check_range("steps of the confirming simulation", steps, 100, 10**7, integer=True))
    seeds = int(check_range("seeds", seeds, 1, 64, integer=True))
    screen_steps = int(check_range("steps of a screening run", screen_steps, 100, 10**6, integer=True))
    screened = screen(optimizer, size, screen_steps, seeds, grid=grid)
    if progress is not None:
        progress(len(screened))
    best = max(screened, key=lambda r: r["ratio"])
    candidates = [r for r in sorted(screened, key=lambda r: -r["ratio"]) if r["ratio"] > 0 and r["p"] * steps >= min_spikes]
    problem = problem_of(best["C"], best["delta"], size) if best["ratio"] > 0 else None
    cx = MatrixCounterexample(optimizer, compare, screened, problem, best["ratio"], steps=steps, seeds=seeds,
                              min_spikes=min_spikes)  # fmt: skip
    if problem is None or not simulate_check:
        return cx
    for row in candidates[:TRIES]:
        cx.problem, cx.ratio, cx.runs = problem_of(row["C"], row["delta"], size), row["ratio"], {}
        _confirm(cx, progress)
        cx.tried.append({"C": row["C"], "delta": row["delta"], "ratio": row["ratio"], "runs": cx.runs,
                         "confirmed": cx.confirmed})  # fmt: skip
        if cx.confirmed:
            break
    return cx


def _confirm(cx: MatrixCounterexample, progress: Any) -> None:
    from adasim.engine import simulate

    problem, steps = cx.problem, cx.steps
    g_bar = mean_gradient(problem)  # type: ignore[arg-type]
    for kind in SCHEDULE_KINDS:
        lr = step_size(kind, steps, g_bar)
        row: dict[str, Any] = {"lr": lr, "gap": {}}
        for opt in (cx.optimizer, *cx.compare):
            run = simulate(problem, opt.replace(lr=lr, schedule=Schedule(kind)), steps, seeds=list(range(cx.seeds)),
                           x0=0.0, engine="numpy", record=("x",), stride=max(1, steps // 1000), log_spaced=False)  # fmt: skip
            tail = run.trace.t > 0.9 * steps
            gaps = np.median(gap(problem, run.trace.x[tail]), axis=0) if run.ok.all() else np.array([math.nan])  # type: ignore[arg-type]
            row["gap"][opt.name] = float(np.median(gaps))
            if progress is not None:
                progress(1)
        cx.runs[kind] = row


__all__ = ["GRID_C", "GRID_DELTA", "SCHEDULE_KINDS", "MatrixCounterexample", "find_matrix_counterexample", "gap", "screen"]
