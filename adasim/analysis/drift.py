"""The analytic factors and drift of any problem with a closed form, and the critical values
where the drift changes sign (found by bracketing on a grid, then Brent's method)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.analysis.periodic import PeriodicNUF, periodic_nuf
from adasim.analysis.stationary import StationaryNUF, stationary_nuf
from adasim.arguments import takes_records
from adasim.display import Shown
from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem


def is_periodic(problem: Problem) -> bool:
    """The problem declares a period of its gradients (one setting)."""
    return problem.lanes() == 1 and problem.pattern() is not None


def is_iid(problem: Problem) -> bool:
    """The problem declares an i.i.d. law of its gradients (one setting)."""
    return problem.lanes() == 1 and problem.law() is not None


@takes_records
def analytic_nuf(problem: Problem, optimizer: Optimizer) -> PeriodicNUF | StationaryNUF:
    """The closed-form factors: periodic steady state or i.i.d. stationary limit."""
    if is_periodic(problem):
        return periodic_nuf(problem, optimizer)
    if is_iid(problem):
        return stationary_nuf(problem, optimizer)
    raise AdasimError(f"{problem.name}: its gradients are neither periodic nor i.i.d., so there is no closed form; "
                      "use the empirical factors")  # fmt: skip


@takes_records
def analytic_drift(problem: Problem, optimizer: Optimizer) -> float:
    """E[Δx]/α per step in the limit; positive means x moves up. Sign methods (signSGD, Signum,
    Lion) have no factors of this kind; their drift is −E[sign c_t] (adasim.analysis.sign; the
    midpoint of its interval on i.i.d. problems)."""
    if optimizer.lanes() == 1 and optimizer.sign_weights() is not None:
        from adasim.analysis.sign import sign_drift

        return sign_drift(problem, optimizer).drift
    return analytic_nuf(problem, optimizer).drift


def mean_gradient_sign(problem: Problem) -> float:
    return float(np.sign(np.asarray(problem.mean_gradient(), dtype=float)))


@dataclass(frozen=True, repr=False)
class Critical(Shown):
    """Where the wrong-way drift (drift × sign of the mean gradient, > 0 = away from the optimum)
    changes sign as one parameter varies."""

    parameter: str
    critical: float | None
    roots: tuple[float, ...]
    bracket: tuple[float, float]
    wrong_way_below: bool | None  # does the optimizer move away from the optimum below the critical value?
    grid: np.ndarray
    wrong_way: np.ndarray

    def _shown(self) -> tuple[str, dict[str, Any]]:
        return f"Critical {self.parameter}", {"critical": self.critical, "wrong way below": self.wrong_way_below,
                                              "roots": list(self.roots), "bracket": list(self.bracket)}  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "solve_for": self.parameter,
            "critical": self.critical,
            "roots": list(self.roots),
            "bracket": list(self.bracket),
            "wrong_way_below": self.wrong_way_below,
        }


def _grid(parameter: str, problem: Problem, points: int, lo: float | None, hi: float | None) -> np.ndarray:
    if parameter in ("beta1", "beta2"):
        lo = 0.0 if lo is None else lo
        hi = 1.0 - 1e-6 if hi is None else hi
        if not 0.0 <= lo < hi < 1.0:
            raise AdasimError(f"the {parameter} bracket must satisfy 0 ≤ lo < hi < 1")
        # uniform in log(1 − β2), so the region near 1 is resolved
        return np.unique(np.concatenate([[lo], 1.0 - np.geomspace(1.0 - lo if lo > 0 else 1.0, 1.0 - hi, points)]))
    if parameter == "C":
        lo = c_floor(problem) * (1 + 1e-6) if lo is None else lo
        hi = max(lo, 1.0) * 1e4 if hi is None else hi
        if not 0 < lo < hi:
            raise AdasimError("the C bracket must satisfy 0 < lo < hi")
        return np.geomspace(lo, hi, points)
    raise AdasimError(f"can solve for beta1, beta2 or C, not '{parameter}'")


def c_floor(problem: Problem) -> float:
    """The smallest spike C for which the problem is defined and its mean gradient keeps the sign
    it has now (below it the optimum flips): found by bisection in log C on the problem itself."""
    sign = mean_gradient_sign(problem)

    def holds(c: float) -> bool:
        try:
            return mean_gradient_sign(problem.replace(C=c)) == sign
        except AdasimError:
            return False

    C = float(problem.C)
    if not holds(C):
        return 1e-3
    lo = C
    while lo > 1e-12 and holds(lo / 2.0):
        lo /= 2.0
    if lo <= 1e-12:
        return 1e-12
    bad, good = lo / 2.0, lo
    for _ in range(200):  # to the last bits: the critical value sits close to this edge
        mid = math.sqrt(bad * good)
        if mid in (bad, good):
            break
        bad, good = (bad, mid) if holds(mid) else (mid, good)
    return good


@takes_records
def critical_value(
    problem: Problem,
    optimizer: Optimizer,
    solve_for: str = "beta2",
    *,
    lo: float | None = None,
    hi: float | None = None,
    points: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Critical:
    """The value of β2 (β1, or C) where the analytic drift changes sign, other settings fixed
    (β1 for the sign methods, whose drift depends on the memory of the EMA they take the sign of).
    `progress(done, total)` is told of the drifts evaluated: the grid's, then about
    ROOT_EVALUATIONS per sign change to refine it."""
    if points is None:
        points = 160 if is_periodic(problem) else 24
    grid = _grid(solve_for, problem, points, lo, hi)
    count = {"done": 0, "total": len(grid)}

    def wrong_way(x: float) -> float:
        if progress is not None:
            count["done"] += 1
            count["total"] = max(count["total"], count["done"] + 1)
            progress(count["done"], count["total"])
        return _wrong_way(x)

    def _wrong_way(x: float) -> float:
        if solve_for in ("beta1", "beta2"):
            if not optimizer.definition.accepts(solve_for):
                raise AdasimError(f"{optimizer.name} has no {solve_for} it can be solved for")
            prob, opt = problem, optimizer.replace(**{solve_for: float(x)})
        else:
            prob, opt = problem.replace(C=float(x)), optimizer
        return analytic_drift(prob, opt) * mean_gradient_sign(prob)

    values = np.array([wrong_way(x) for x in grid])
    changes = int(np.sum(np.isfinite(values[:-1]) & np.isfinite(values[1:]) & (values[:-1] * values[1:] < 0)))
    count["total"] = len(grid) + ROOT_EVALUATIONS * changes
    roots = _roots(wrong_way, grid, values)
    if progress is not None:
        progress(count["done"], count["done"])
    critical = None
    below = None
    if roots:
        critical = max(roots) if solve_for in ("beta1", "beta2") else min(roots)
        i = int(np.searchsorted(grid, critical))
        below = bool(values[max(i - 1, 0)] > 0)
    return Critical(solve_for, critical, tuple(roots), (float(grid[0]), float(grid[-1])), below, grid, values)


ROOT_EVALUATIONS = 12  # drifts brentq evaluates to refine one sign change (to xtol 1e-12), for a progress bar's total


def _roots(fn: Callable[[float], float], grid: np.ndarray, values: np.ndarray) -> list[float]:
    from scipy.optimize import brentq  # imported here to keep the CLI's start-up short

    out = []
    for i in range(len(grid) - 1):
        a, b = values[i], values[i + 1]
        if not (math.isfinite(a) and math.isfinite(b)):
            continue
        if a == 0.0:
            out.append(float(grid[i]))
        elif a * b < 0:
            out.append(float(brentq(fn, grid[i], grid[i + 1], xtol=1e-12, rtol=1e-12)))
    return out
