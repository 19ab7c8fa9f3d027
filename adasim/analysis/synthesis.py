"""Counterexample synthesis: given an optimizer and its hyper-parameters, find a problem of the
online (or stochastic) family on which its closed-form drift points away from the optimum.

Objective (stated once, used everywhere): the **wrong-way ratio** ρ = drift / ḡ, the expected
motion per step (units of α, positive = up) divided by the mean gradient ḡ. The optimum is
x* = −1 (ḡ > 0) and, so that it is not a coin toss, ḡ must be at least `margin` (5 %) of the
mean absolute gradient. SGD has ρ = −1; ρ > 0 means the optimizer climbs to the worst point, and
the larger ρ, the faster it does so relative to how strongly the problem pulls the other way.
Gradients are scale-free for ε ≪ √v, so s = 1 and the search runs over (d, k, C) or (C, p).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.analysis.drift import analytic_drift, critical_value
from adasim.analysis.empirical import empirical_nuf
from adasim.engine import simulate
from adasim.errors import AdasimError, check_choice, check_range
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem
from adasim.problems.online import Online
from adasim.problems.stochastic import Stochastic
from adasim.schedules import Schedule

MARGIN = 0.05
FAMILIES = ("online", "stochastic", "both")

WHY_NOT = {
    "none": "it has no adaptive scale: every gradient gets the kernel's mass, so the drift is −ḡ, always toward the optimum",
    "max-ema": "its scale tends to the running maximum, the same for every gradient of the period, so the drift is −κ·ḡ",
    "mean": "its scale tends to the mean of g², the same for every gradient, so the drift is −κ·ḡ",
    "sum": "its scale grows without bound (no steady state): the factors tend to 0",
}


def gradient_means(problem: Problem) -> tuple[float, float]:
    """(ḡ, E|g|) from the problem's declared structure: over one period, or under the i.i.d. law."""
    pattern = problem.pattern()
    if pattern is not None:
        c = np.asarray(pattern.c, dtype=float)
        return float(np.mean(c)), float(np.mean(np.abs(c)))
    law = problem.law()
    if law is None:
        raise AdasimError(f"{problem.name}: the search needs a periodic or i.i.d. problem")
    return float(np.sum(law.probs * law.values)), float(np.sum(law.probs * np.abs(law.values)))


def wrong_way_ratio(problem: Problem, optimizer: Optimizer) -> tuple[float, float, float]:
    """(ρ, drift, ḡ) of the closed form; ρ = −inf where the optimum is not x* = −1 with the margin."""
    mean, mean_abs = gradient_means(problem)
    if mean < MARGIN * mean_abs:
        return -math.inf, math.nan, mean
    drift = analytic_drift(problem, optimizer)
    return drift / mean, drift, mean


@dataclass
class Search:
    """What the search covered, for the report."""

    family: str
    evaluated: int = 0
    periods: tuple[int, int] | None = None
    spikes: tuple[int, ...] = ()
    C_range: tuple[float, float] | None = None
    p_range: tuple[float, float] | None = None
    best_ratio: float = -math.inf

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None and not (isinstance(v, tuple) and not v)}
        out["best_ratio"] = float(self.best_ratio)
        return out


@dataclass
class Counterexample:
    """The most wrong-way problem found, the evidence and the confirming simulation."""

    optimizer: Optimizer
    found: bool
    problem: Problem | None
    ratio: float
    drift: float | None
    reason: str
    searches: list[Search]
    critical: dict[str, Any] = field(default_factory=dict)
    simulation: dict[str, Any] = field(default_factory=dict)
    simplest: tuple[float, Any] | None = None
    method: str = "closed form"
    simulated: Optimizer | None = None  # the optimizer with the step size of the confirming run

    @property
    def confirmed(self) -> bool:
        return bool(self.simulation.get("confirmed", False))

    def command(self) -> str | None:
        """An `adasim run` command line that reproduces the problem with this optimizer (and the
        optimizers it was compared with, at the settings the simulation used)."""
        if self.problem is None:
            return None
        from adasim.settings import run_command

        sim = self.simulation
        run = {"steps": sim["steps"]} if sim else {}
        others = list(sim.get("optimizers", {}).values()) if sim else []
        return run_command(self.problem, [self.simulated or self.optimizer, *others], run)

    def as_dict(self) -> dict[str, Any]:
        problem = None
        if self.problem is not None:
            problem = self.problem.config()
        return {
            "found": self.found,
            "optimizer": self.optimizer.name,
            "config": self.optimizer.config(),
            "method": self.method,
            "objective": "wrong-way ratio ρ = drift/ḡ (drift per step in units of α, ḡ the mean gradient); "
            f"x* = −1 with ḡ ≥ {MARGIN:g}·E|g|; found when ρ > 0",
            "problem": problem,
            "ratio": None if not math.isfinite(self.ratio) else self.ratio,
            "drift": self.drift,
            "command": self.command(),
            "critical": self.critical,
            "simulation": {k: v for k, v in self.simulation.items() if k != "optimizers"},
            "confirmed": self.confirmed,
            "reason": self.reason,
            "search": [s.as_dict() for s in self.searches],
            "simplest": None
            if not self.simplest or self.simplest[1] is None
            else {"problem": self.simplest[1].config(), "ratio": self.simplest[0]},
        }


def _period_grid(max_period: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(2, max_period, min(48, max_period - 1))).astype(int))


SPIKES = (1, 2, 4, 8)
C_TOP = 1e6


def _c_min(d: int, k: int) -> float:
    """The smallest spike with ḡ ≥ margin·E|g| (s = 1)."""
    return (d - k) / k * (1 + MARGIN) / (1 - MARGIN) * (1 + 1e-9)


def _search_online(opt: Optimizer, max_period: int, points: int = 28) -> tuple[Search, tuple[float, Online | None], Any]:
    """Grid over d (log-spaced up to max_period), k ∈ SPIKES and C (log-spaced from the margin),
    then C polished for the best (d, k). Also returns the simplest counterexample: the smallest
    period with ρ > 0 (best C for it)."""
    search = Search("online", periods=(2, max_period), spikes=SPIKES)
    best: tuple[float, Online | None] = (-math.inf, None)
    simplest: tuple[float, Online | None] = (-math.inf, None)
    for d in _period_grid(max_period):
        best_d: tuple[float, Online | None] = (-math.inf, None)
        for k in SPIKES:
            if k >= d:
                continue
            c_min = _c_min(int(d), k)
            for C in np.geomspace(c_min, max(c_min * 10, C_TOP), points):
                prob = Online(C=float(C), s=1.0, d=int(d), k=k)
                rho = wrong_way_ratio(prob, opt)[0]
                search.evaluated += 1
                if rho > best_d[0]:
                    best_d = (rho, prob)
        if best_d[0] > best[0]:
            best = best_d
        if simplest[1] is None and best_d[0] > 1e-9:
            simplest = best_d
    search.C_range = (1.0, C_TOP)
    if best[1] is not None:
        best = _refine_online(opt, best, search)
    if simplest[1] is not None:
        simplest = _refine_online(opt, simplest, search)
    search.best_ratio = best[0]
    return search, best, simplest


def wrong_way_map(opt: Optimizer, k: int, max_period: int, points: int = 40) -> dict[str, np.ndarray]:
    """ρ over (d, C) for k spikes: NaN where x* = −1 does not hold with the margin."""
    periods = _period_grid(max_period)
    c_axis = np.geomspace(1.0, C_TOP, points)
    ratio = np.full((len(periods), points), np.nan)
    for i, d in enumerate(periods):
        if k >= d:
            continue
        for j, C in enumerate(c_axis):
            if _c_min(int(d), k) < C:
                ratio[i, j] = wrong_way_ratio(Online(C=float(C), s=1.0, d=int(d), k=k), opt)[0]
    return {"periods": periods, "C": c_axis, "ratio": ratio, "k": k}


def _refine_online(opt: Optimizer, best: tuple[float, Online], search: Search) -> tuple[float, Online]:
    """Polish C for the best (d, k) by a bounded 1-D search in log C."""
    rho0, prob = best
    d, k = int(prob.d), int(prob.k)
    c_min = _c_min(d, k)
    lo, hi = math.log(max(c_min, float(prob.C) / 3)), math.log(float(prob.C) * 3)

    def neg(logc: float) -> float:
        search.evaluated += 1
        rho = wrong_way_ratio(Online(C=math.exp(logc), s=1.0, d=d, k=k), opt)[0]
        return -rho if math.isfinite(rho) else 1e300

    from scipy.optimize import minimize_scalar  # lazily: keeps the CLI's start-up short

    res = minimize_scalar(neg, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    if -res.fun > rho0:
        return -res.fun, Online(C=math.exp(res.x), s=1.0, d=d, k=k)
    return best


def _search_stochastic(opt: Optimizer, points: int = 10) -> tuple[Search, tuple[float, Stochastic | None]]:
    search = Search("stochastic", C_range=(1.5, 1e4), p_range=(1e-4, 0.5))
    best: tuple[float, Stochastic | None] = (-math.inf, None)
    for C in np.geomspace(1.5, 1e4, points):
        p_min = (1 + MARGIN) / (1 - MARGIN) / (C + 1) * (1 + 1e-9)  # pC − (1−p) ≥ margin·(pC + 1 − p)
        for p in np.geomspace(p_min, 0.5, points):
            if p >= 1:
                continue
            prob = Stochastic(C=float(C), s=1.0, p=float(p))
            rho, _, _ = wrong_way_ratio(prob, opt)
            search.evaluated += 1
            if rho > best[0]:
                best = (rho, prob)
    search.best_ratio = best[0]
    return search, best


SCREEN_PERIODS = (3, 5, 10, 20, 50, 100, 300)
SCREEN_SPIKES = (1, 2)
SCREEN_C = (1.0, 2.0, 5.0, 20.0)  # multiples of the smallest spike that keeps x* = −1 with the margin


def _screen_online(opt: Optimizer, max_period: int, periods_per_run: int = 40) -> tuple[Search, tuple[float, Online | None]]:
    """Without a closed form: simulate each candidate problem and measure the drift from the
    net update factors of the run (constant α, the second half of the run)."""
    search = Search("online (simulation screening: no closed form)", spikes=SCREEN_SPIKES)
    periods = [d for d in SCREEN_PERIODS if d <= max_period]
    search.periods = (min(periods), max(periods))
    best: tuple[float, Online | None] = (-math.inf, None)
    screened = opt.replace(lr=1e-3, schedule=Schedule("constant"))
    for d in periods:
        for k in SCREEN_SPIKES:
            if k >= d:
                continue
            for factor in SCREEN_C:
                prob = Online(C=_c_min(d, k) * factor, s=1.0, d=d, k=k)
                steps = max(periods_per_run * d, 4000)
                drift = empirical_nuf(prob, screened, steps, burn_in=steps // 2, samples=0).drift
                search.evaluated += 1
                rho = drift / float(prob.mean_gradient())
                if rho > best[0]:
                    best = (rho, prob)
    search.C_range = (min(SCREEN_C), max(SCREEN_C))
    search.best_ratio = best[0]
    return search, best


def confirm(
    problem: Problem, optimizer: Optimizer, drift: float, max_steps: int = 2_000_000, compare: tuple[Optimizer, ...] = ()
) -> tuple[dict[str, Any], Optimizer]:
    """Simulate the optimizer (and, beside it, the optimizers in `compare`) from x = 0 with
    α_t = α/√t, α chosen so that the predicted drift would cross the domain twice within the steps.
    Returns the simulation's record and the optimizer as it was simulated."""
    steps = max_steps
    lr = min(1.0, 4.0 / (2.0 * math.sqrt(steps) * max(abs(drift), 1e-12)))
    schedule = Schedule("inv-sqrt")
    simulated = optimizer.replace(lr=lr, schedule=schedule)
    ends: dict[str, float] = {}  # the median of x over the last 10 % of the steps (what confirms)
    finals: dict[str, float] = {}  # x_T itself (what the printed `adasim run` command shows)
    shown: dict[str, Optimizer] = {}
    for opt in (simulated, *(o.replace(lr=lr, schedule=schedule) for o in compare)):
        run = simulate(problem, opt, steps, seeds=0, x0=0.0, record=("x",))
        tail = run.trace.x[int(len(run.trace.t) * 0.9) :, 0, 0]
        ends[opt.name] = float(np.median(tail)) if run.ok.all() else float("nan")
        finals[opt.name] = float(run.final_x[0, 0]) if run.ok.all() else float("nan")
        if opt is not simulated:
            shown[opt.name] = opt
    target = 1.0 if drift > 0 else -1.0
    confirmed = math.isfinite(ends[optimizer.name]) and abs(ends[optimizer.name] - target) <= 0.1
    record = {"steps": steps, "lr": lr, "schedule": "inv-sqrt", "x0": 0.0, "end_x": ends, "final_x": finals,
              "confirmed": bool(confirmed), "optimizers": shown}  # fmt: skip
    return record, simulated


MAX_PERIOD = 1_000_000  # the closed forms cost O(d) per period: 10^5 takes about 30 s, 10^6 about 5 minutes


def find_counterexample(
    optimizer: Optimizer,
    family: str = "online",
    max_period: int = 10_000,
    *,
    simulate_check: bool = True,
    max_steps: int = 2_000_000,
    compare: tuple[Optimizer, ...] = (),
) -> Counterexample:
    """Search the family for the problem with the largest wrong-way ratio (see the module text)."""
    check_choice("family", family, FAMILIES)
    if optimizer.lanes() != 1:
        raise AdasimError("find-counterexample takes one setting of the optimizer")
    max_period = int(check_range("max period", max_period, 2, MAX_PERIOD, integer=True))
    max_steps = int(check_range("steps of the confirming simulation", max_steps, 1, integer=True))
    limit = optimizer.scale_limit()
    if limit.statistic == "sum":
        raise AdasimError(f"{optimizer.name}: {WHY_NOT['sum']}")
    searches: list[Search] = []
    candidates: list[tuple[float, Any]] = []
    simplest = None
    screening = limit.statistic in ("custom", "unknown")
    if screening:
        s_sc, best_sc = _screen_online(optimizer, int(max_period))
        searches.append(s_sc)
        candidates.append(best_sc)
        if family in ("stochastic", "both"):
            searches.append(Search("stochastic (skipped: without a closed form only the online family is screened)"))
    elif family in ("online", "both"):
        s_on, best_on, simplest = _search_online(optimizer, int(max_period))
        searches.append(s_on)
        candidates.append(best_on)
    if family in ("stochastic", "both") and not screening:
        if limit.statistic == "max-ema":
            searches.append(Search("stochastic (skipped: no stationary closed form for a running maximum)"))
        else:
            s_st, best_st = _search_stochastic(optimizer)
            searches.append(s_st)
            candidates.append(best_st)
    ratio, problem = max(candidates, key=lambda c: c[0]) if candidates else (-math.inf, None)
    found = problem is not None and ratio > 1e-9
    if not found:
        why = WHY_NOT.get(limit.statistic)
        shown = "−inf" if not math.isfinite(ratio) else f"{ratio:.4g}"
        count = sum(s.evaluated for s in searches)
        reason = (why + "; " if why else "") + f"the largest wrong-way ratio over {count:,} problems was {shown} ≤ 0"
        if limit.statistic == "ema" and (limit.shift >= 1 or limit.where == "pre"):
            reason += (
                "; the scale is built from older gradients, so on i.i.d. problems the factors do not depend on the current "
                "gradient; on periodic ones only shifts that are multiples of the period re-correlate them"
            )
        method = "simulation screening" if screening else "closed form"
        return Counterexample(optimizer, False, None, ratio, None, reason, searches, method=method)
    drift = ratio * _mean(problem)
    method = "simulation screening" if screening else "closed form"
    cx = Counterexample(optimizer, True, problem, ratio, drift, "", searches, simplest=simplest, method=method)
    cx.critical = {} if screening else _criticals(problem, optimizer)
    how = "the drift measured by simulation (no closed form)" if screening else "the closed-form drift"
    cx.reason = f"{how} {drift:+.4g}·α per step points away from x* = −1 (ρ = {ratio:.4g})"
    if simulate_check:
        cx.simulation, cx.simulated = confirm(problem, optimizer, drift, max_steps, compare)
        if not cx.confirmed:
            cx.reason += f"; the simulation of {cx.simulation['steps']:,} steps did not reach the worst point"
    return cx


def _mean(problem: Problem) -> float:
    return float(problem.mean_gradient())


def _criticals(problem: Problem, optimizer: Optimizer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("beta2", "C"):
        if name == "beta2" and not hasattr(optimizer, "beta2"):
            continue
        try:
            res = critical_value(problem, optimizer, name)
        except AdasimError as err:
            out[name] = {"error": str(err)}
            continue
        out[name] = {"critical": res.critical, "roots": list(res.roots), "wrong_way_below": res.wrong_way_below}
    return out
