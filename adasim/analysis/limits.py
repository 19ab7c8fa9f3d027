"""Pieces shared by the closed forms: the scale's form and the kernel sums of a periodic sequence."""

from __future__ import annotations

import numpy as np

from adasim.analysis.recurrences import ema
from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer, ScaleLimit

REASONS = {
    "sum": "its scale v_t = Σ g² grows without bound, so every factor tends to 0: there is no steady state",
    "custom": "a user-defined rule has no closed form",
    "unknown": "it does not declare how its scale behaves in the limit (scale_limit()), so there is no closed form",
}


def scale_form(v: np.ndarray, limit: ScaleLimit) -> np.ndarray:
    """form(v): 1/(√v + ε), 1/√(v + ε) or 1/max(√v, ε) (docs/REFERENCE.md §2)."""
    v = np.asarray(v, dtype=np.float64)
    if limit.form == "inside":
        return 1.0 / np.sqrt(v + limit.eps)
    if limit.form == "max":
        return 1.0 / np.maximum(np.sqrt(v), limit.eps)
    return 1.0 / (np.sqrt(v) + limit.eps)


def scalar_optimizer(optimizer: Optimizer) -> Optimizer:
    if optimizer.lanes() != 1:
        raise AdasimError("closed forms take one setting at a time: pick a lane with optimizer.at_lane(i)")
    return optimizer


def check_limit(optimizer: Optimizer) -> ScaleLimit:
    limit = optimizer.scale_limit()
    if limit.statistic in REASONS:
        raise AdasimError(f"{optimizer.name}: {REASONS[limit.statistic]}")
    return limit


SHORT_PERIOD = 64


def periodic_ema(a: float, u: np.ndarray) -> np.ndarray:
    """The periodic steady state of z_j = a·z_{j−1} + u_j (indices mod d): z_j = Σ_{i≥0} a^i u_{j−i}."""
    u = np.asarray(u, dtype=np.float64)
    d = len(u)
    if a == 0.0:
        return u.copy()
    # one period from 0, then the geometric tail of the wrapped-around state; the period runs as
    # the filter's own recurrence z = u + a·z (a short loop is faster than the filter's set-up)
    if d <= SHORT_PERIOD:
        z = np.empty(d)
        acc = 0.0
        for j, uj in enumerate(u.tolist()):
            acc = uj + a * acc
            z[j] = acc
    else:
        z = ema(a, 1.0, u[:, None, None], np.zeros((1, 1)))[:, 0, 0]
    last = z[-1] / (1.0 - a**d)
    return z + a ** np.arange(1, d + 1) * last


def periodic_ema_backward(a: float, u: np.ndarray) -> np.ndarray:
    """R_j = Σ_{i≥0} a^i u_{j+i} (indices mod d)."""
    return periodic_ema(a, u[::-1])[::-1]
