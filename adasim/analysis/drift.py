"""The analytic factors and drift of any problem with a closed form, and the critical values
where the drift changes sign (found by bracketing on a grid, then Brent's method)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq

from adasim.analysis.periodic import PeriodicNUF, as_online, periodic_nuf
from adasim.analysis.stationary import StationaryNUF, gradient_law, stationary_nuf
from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem
from adasim.problems.finite_sum import FiniteSum
from adasim.problems.online import Online
from adasim.problems.stochastic import Stochastic


def is_periodic(problem: Problem) -> bool:
    return isinstance(problem, Online) or (isinstance(problem, FiniteSum) and problem.sampling == "cyclic")


def is_iid(problem: Problem) -> bool:
    return isinstance(problem, Stochastic) or (isinstance(problem, FiniteSum) and problem.sampling == "iid")


def analytic_nuf(problem: Problem, optimizer: Optimizer) -> PeriodicNUF | StationaryNUF:
    """The closed-form factors: periodic steady state or i.i.d. stationary limit."""
    if is_periodic(problem):
        return periodic_nuf(problem, optimizer)
    if is_iid(problem):
        return stationary_nuf(problem, optimizer)
    raise AdasimError(f"{problem.name} ({getattr(problem, 'sampling', '')}): no closed form; use the empirical factors")


def analytic_drift(problem: Problem, optimizer: Optimizer) -> float:
    """E[Δx]/α per step in the limit; positive means x moves up."""
    return analytic_nuf(problem, optimizer).drift


def mean_gradient_sign(problem: Problem) -> float:
    if is_periodic(problem):
        return float(np.sign(as_online(problem).mean_gradient()))
    return float(np.sign(gradient_law(problem).mean))


@dataclass(frozen=True)
class Critical:
    """Where the wrong-way drift (drift × sign of the mean gradient, > 0 = away from the optimum)
    changes sign as one parameter varies."""

    parameter: str
    critical: float | None
    roots: tuple[float, ...]
    bracket: tuple[float, float]
    wrong_way_below: bool | None  # does the optimizer move away from the optimum below the critical value?
    grid: np.ndarray
    wrong_way: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        return {
            "solve_for": self.parameter,
            "critical": self.critical,
            "roots": list(self.roots),
            "bracket": list(self.bracket),
            "wrong_way_below": self.wrong_way_below,
        }


def _grid(parameter: str, problem: Problem, points: int, lo: float | None, hi: float | None) -> np.ndarray:
    if parameter == "beta2":
        lo = 0.0 if lo is None else lo
        hi = 1.0 - 1e-6 if hi is None else hi
        if not 0.0 <= lo < hi < 1.0:
            raise AdasimError("the β2 bracket must satisfy 0 ≤ lo < hi < 1")
        # uniform in log(1 − β2), so the region near 1 is resolved
        return np.unique(np.concatenate([[lo], 1.0 - np.geomspace(1.0 - lo if lo > 0 else 1.0, 1.0 - hi, points)]))
    if parameter == "C":
        if is_periodic(problem):
            on = as_online(problem)
            floor = (int(on.d) - int(on.k)) * float(on.s) / int(on.k)  # below this, the optimum flips
        elif isinstance(problem, Stochastic) and problem.p is None:
            delta = 0.02 if problem.delta is None else float(problem.delta)
            floor = max(delta, 0.0) + 1e-3  # p = (1+δ)/(C+1) < 1 needs C > δ
        elif isinstance(problem, Stochastic):
            p = float(problem.p)
            floor = (1.0 - p) * float(problem.s) / p  # below this, the optimum flips
        else:
            floor = 1e-3
        lo = floor * (1 + 1e-6) if lo is None else lo
        hi = max(lo, 1.0) * 1e4 if hi is None else hi
        if not 0 < lo < hi:
            raise AdasimError("the C bracket must satisfy 0 < lo < hi")
        return np.geomspace(lo, hi, points)
    raise AdasimError(f"can solve for beta2 or C, not '{parameter}'")


def critical_value(
    problem: Problem,
    optimizer: Optimizer,
    solve_for: str = "beta2",
    *,
    lo: float | None = None,
    hi: float | None = None,
    points: int | None = None,
) -> Critical:
    """The value of β2 (or C) where the analytic drift changes sign, other settings fixed."""
    if points is None:
        points = 160 if is_periodic(problem) else 24
    grid = _grid(solve_for, problem, points, lo, hi)

    def wrong_way(x: float) -> float:
        if solve_for == "beta2":
            if not hasattr(optimizer, "beta2"):
                raise AdasimError(f"{optimizer.name} has no β2")
            prob, opt = problem, optimizer.replace(beta2=float(x))
        else:
            prob, opt = problem.replace(C=float(x)), optimizer
        return analytic_drift(prob, opt) * mean_gradient_sign(prob)

    values = np.array([wrong_way(x) for x in grid])
    roots = _roots(wrong_way, grid, values)
    critical = None
    below = None
    if roots:
        critical = max(roots) if solve_for == "beta2" else min(roots)
        i = int(np.searchsorted(grid, critical))
        below = bool(values[max(i - 1, 0)] > 0)
    return Critical(solve_for, critical, tuple(roots), (float(grid[0]), float(grid[-1])), below, grid, values)


def _roots(fn: Callable[[float], float], grid: np.ndarray, values: np.ndarray) -> list[float]:
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
