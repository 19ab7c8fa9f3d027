"""Closed forms for the periodic steady state of the online problem (docs/REFERENCE.md §3).

With phases j = 0..d−1 and phase gradients c_j, an EMA statistic settles to
v*_j = (1−β2)/(1−β2^d) Σ_{i<d} β2^i φ(c²_{j−n−i}); the scale is P_j (or Q_j) = form(v*_j); the
net update factor of a gradient at phase j, in units of α, is κ_j = Q_j Σ_{i≥0} K_i P_{j+i}
(a geometric sum over one period for an EMA kernel, a finite sum for a window). Everything follows
from what the optimizer declares (`kernel()`, `scale_limit()`), with no case per optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.analysis.limits import check_limit, periodic_ema, periodic_ema_backward, scalar_optimizer, scale_form
from adasim.arguments import takes_records
from adasim.display import Shown
from adasim.errors import AdasimError, require_finite_squares
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Pattern, Problem


@dataclass(frozen=True, repr=False)
class PeriodicNUF(Shown):
    """Per phase j: gradient c_j, steady-state statistic v*_j, first moment m*_j and factor κ_j."""

    c: np.ndarray
    v: np.ndarray
    m: np.ndarray
    kappa: np.ndarray
    drift: float  # E[Δx]/α per step = −(1/d) Σ_j c_j κ_j; positive means x moves up

    @property
    def d(self) -> int:
        return len(self.c)

    def _shown(self) -> tuple[str, dict[str, Any]]:
        return "PeriodicNUF", {"d": self.d, "c": self.c, "kappa": self.kappa, "drift": self.drift, "direction": self.direction}

    @property
    def drift_per_period(self) -> float:
        return self.drift * self.d

    @property
    def direction(self) -> str:
        return "up" if self.drift > 0 else "down" if self.drift < 0 else "none"

    def as_dict(self) -> dict[str, Any]:
        return {
            "c": self.c.tolist(),
            "v": self.v.tolist(),
            "m": self.m.tolist(),
            "kappa": self.kappa.tolist(),
            "drift": self.drift,
            "drift_per_period": self.drift_per_period,
        }


def pattern_of(problem: Problem) -> Pattern:
    """The declared period of the gradients (one setting), or an error saying there is none."""
    if problem.lanes() != 1:
        raise AdasimError("closed forms take one problem setting at a time")
    pattern = problem.pattern()
    if pattern is None:
        raise AdasimError(f"{problem.name}: no periodic steady state (the gradients are not periodic)")
    return pattern


@takes_records
def periodic_nuf(problem: Problem, optimizer: Optimizer) -> PeriodicNUF:
    """κ_j, v*_j, m*_j and the drift of the steady state, for scalar settings."""
    c = np.asarray(pattern_of(problem).c, dtype=np.float64)
    if problem.dim != 1:
        raise AdasimError("the periodic closed form is for one-dimensional problems")
    opt = scalar_optimizer(optimizer)
    limit = check_limit(opt)
    if limit.statistic != "none":
        require_finite_squares(c, f"{opt.name} on {problem.name}")
    d = len(c)
    if limit.statistic == "none":
        v = np.full(d, np.nan)
        scale = np.ones(d)
    else:
        c2 = c * c  # one coordinate: every spatial reduction φ is the identity
        if limit.statistic == "mean":
            v = np.full(d, float(np.mean(c2)))
        else:
            beta2 = limit.beta2
            u = (1.0 - beta2) * np.roll(c2, limit.shift)  # u_j = (1−β2) φ(c²_{j−n})
            v = periodic_ema(beta2, u)
            if limit.statistic == "max-ema":
                v = np.full(d, _running_max_limit(u, v, beta2, limit.corrected_max))
        scale = scale_form(v, limit)
    kernel = opt.kernel()
    q = scale if limit.where == "pre" else np.ones(d)
    p = scale if limit.where == "post" else np.ones(d)
    if kernel.kind == "identity" or (kernel.kind == "ema" and float(kernel.lam) < 1.0):
        kappa = q * p
        m = q * c
    elif kernel.kind == "ema":
        beta1 = float(kernel.beta1)
        kappa = q * (1.0 - beta1) * periodic_ema_backward(beta1, p)
        m = (1.0 - beta1) * periodic_ema(beta1, q * c)
    else:
        beta1, w = float(kernel.beta1), int(kernel.window)
        omega = beta1 ** np.arange(w, dtype=np.float64)
        omega /= omega.sum()
        kappa = q * sum(omega[i] * np.roll(p, -i) for i in range(w))
        m = sum(omega[i] * np.roll(q * c, i) for i in range(w))
    drift = -float(np.sum(c * kappa)) / d
    return PeriodicNUF(c=c, v=v, m=m, kappa=kappa, drift=drift)


def _running_max_limit(u: np.ndarray, v_star: np.ndarray, beta2: float, corrected: bool) -> float:
    """lim max_{τ≤t} of the statistic. The raw EMA from 0 stays below its steady state, so its
    running max tends to max_j v*_j. Bias-corrected values (optax) can overshoot during the
    transient; that part is computed exactly from t = 1 until β2^t < 1e-17."""
    top = float(np.max(v_star))
    if not corrected:
        return top
    d = len(u)
    horizon = int(np.ceil(np.log(1e-17) / np.log(beta2))) if beta2 > 0 else 1
    periods = -(-max(horizon, 1) // d)
    seq = np.tile(u, periods)
    from adasim.analysis.recurrences import ema

    v = ema(beta2, 1.0, seq[:, None, None], np.zeros((1, 1)))[:, 0, 0]
    t = np.arange(1, len(seq) + 1, dtype=np.float64)
    corrected_v = v / (1.0 - np.power(beta2, t))
    return max(top, float(np.max(corrected_v)))
