"""Closed forms for sign methods (signSGD, Signum, Lion): the drift of x ← x − α_t sign(c_t) with
c_t = w0·g_t + a·Σ_{i≥1} r^(i−1) g_{t−i} (docs/REFERENCE.md §6).

The mean step is α·E[sign c_t], so the drift per step is −E[sign c_t] in units of α:

- periodic gradients c_j (phase j): c settles to c*_j = w0 c_j + a Σ_{i=1..d} r^(i−1) c_{j−i}/(1 − r^d),
  and the drift is −(1/d) Σ_j sign(c*_j), exactly;
- i.i.d. gradients with finitely many values: E[sign c] = P(c > 0) − P(c < 0) in the stationary
  regime, with c = w0·g_t + a·Y and Y = Σ_{i≥0} r^i g_{t−1−i} =_d g + r·Y′. Bounds on the CDF of
  Y on a grid come from iterating that identity with the argument rounded up or down (a monotone
  map: the bounds are rigorous), so the drift is given as an interval whose width is the grid's
  resolution. signSGD (a = 0) is exact: P(g > 0) − P(g < 0), the side of the median, not of the
  mean.

>>> from adasim import Stochastic, SignSGD
>>> d = sign_drift(Stochastic(C=20.0, p=0.1), SignSGD())
>>> round(d.drift, 12), d.exact   # E[sign g] = 0.1 − 0.9: x climbs although E[g] = 1.1 > 0
(0.8, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.analysis.limits import scalar_optimizer
from adasim.arguments import takes_records
from adasim.display import Shown
from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer, SignWeights
from adasim.problems.base import Problem


@dataclass(frozen=True, repr=False)
class SignDrift(Shown):
    """E[Δx]/α per step of a sign method: within [lo, hi] (lo = hi when exact); `drift` is the
    midpoint. Positive means x moves up. `signs` are the steady-state signs per phase (periodic)."""

    lo: float
    hi: float
    exact: bool
    signs: np.ndarray | None = None
    c_star: np.ndarray | None = None

    @property
    def drift(self) -> float:
        return 0.5 * (self.lo + self.hi)

    def _shown(self) -> tuple[str, dict[str, Any]]:
        return "SignDrift", {"drift": self.drift, "interval": [self.lo, self.hi], "exact": self.exact}

    @property
    def direction(self) -> str:
        if self.lo > 0:
            return "up"
        if self.hi < 0:
            return "down"
        return "none" if self.lo == self.hi == 0 else "undecided"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"drift": self.drift, "drift_interval": [self.lo, self.hi], "exact": self.exact,
                               "direction": self.direction}  # fmt: skip
        if self.signs is not None:
            out.update(signs=self.signs.tolist(), c_star=self.c_star.tolist())
        return out


def weights_of(optimizer: Optimizer) -> SignWeights:
    """The sign mix the optimizer declares (scalar settings), or an error saying it is not a sign method."""
    w = scalar_optimizer(optimizer).sign_weights()
    if w is None:
        raise AdasimError(f"{optimizer.name}: not a sign method of the form x ← x − α sign(Σ w_i g_{{t−i}}) "
                          "(Lion with weight decay has a term in x)")  # fmt: skip
    return SignWeights(float(w.w0), float(w.a), float(w.r))


def steady_mix(w: SignWeights, c: np.ndarray) -> np.ndarray:
    """c*_j = w0 c_j + a Σ_{i=1..d} r^(i−1) c_{j−i} / (1 − r^d): the mix in the periodic steady state."""
    c = np.asarray(c, dtype=np.float64)
    d = c.size
    lags = np.arange(1, d + 1)
    weights = w.a * w.r ** (lags - 1) / (1.0 - w.r**d)
    past = np.stack([np.roll(c, i) for i in lags])  # past[i−1, j] = c_{j−i}
    return w.w0 * c + weights @ past


def periodic_sign_drift(c: np.ndarray, w: SignWeights) -> SignDrift:
    star = steady_mix(w, c)
    signs = np.sign(star)
    drift = -float(np.mean(signs))
    return SignDrift(drift, drift, True, signs, star)


TAIL = 1e-12  # the probability Hoeffding's inequality leaves outside the grid's window


def _cdf_bounds(values: np.ndarray, probs: np.ndarray, r: float, cells: int, tol: float, max_iter: int):
    """Bounds F_lo ≤ F ≤ F_hi on the CDF of Y = Σ_{i≥0} r^i g_i at the points of a uniform grid,
    from the identity Y = g + r·Y′ (Y′ an independent copy): F(y) = Σ_v p_v F((y − v)/r). The map
    is monotone in F, so iterating it from F = 1 (from F = 0) with its argument rounded up (down) to
    the grid stays above (below) the true F; both converge, to within the grid's resolution of each
    other. The grid covers E[Y] ± t, where Hoeffding's inequality (Σ_i (r^i (g_max − g_min))² =
    (g_max − g_min)²/(1 − r²)) puts less than TAIL of the mass beyond t on each side; outside it
    the bounds are 0 ≤ F ≤ TAIL below and 1 − TAIL ≤ F ≤ 1 above."""
    spread = float(values.max() - values.min())
    support = (float(values.min()) / (1.0 - r), float(values.max()) / (1.0 - r))
    mean = float(probs @ values) / (1.0 - r)
    t = spread * np.sqrt(np.log(1.0 / TAIL) / (2.0 * (1.0 - r * r)))
    y0, y1 = max(support[0], mean - t), min(support[1], mean + t)
    y = np.linspace(y0, y1, cells)
    h = (y1 - y0) / (cells - 1) if cells > 1 and y1 > y0 else 1.0
    arg = (y[None, :] - values[:, None]) / r  # (values, cells)
    pos = (arg - y0) / h
    up = np.clip(np.ceil(pos - 1e-9), -1, cells).astype(np.int64) + 1  # padded index: 0 ↔ below, cells+1 ↔ above
    down = np.clip(np.floor(pos + 1e-9), -1, cells).astype(np.int64) + 1
    below = TAIL if y0 > support[0] else 0.0
    above = TAIL if y1 < support[1] else 0.0
    hi = np.ones(cells + 2)
    lo = np.zeros(cells + 2)
    lo[0], hi[0] = 0.0, below
    lo[-1], hi[-1] = 1.0 - above, 1.0
    if above == 0.0:
        lo[-2] = 1.0  # F(max Y) = 1
    for _ in range(max_iter):
        new_hi = probs @ hi[up]
        new_lo = probs @ lo[down]
        change = max(float(np.max(np.abs(new_hi - hi[1:-1]))), float(np.max(np.abs(new_lo - lo[1:-1]))))
        hi[1:-1] = np.minimum(hi[1:-1], new_hi)
        lo[1:-1] = np.maximum(lo[1:-1], new_lo)
        if change < tol * (1.0 - r):  # the map contracts by r: a step's change bounds the distance left
            break
    return y, h, lo, hi


def iid_sign_drift(values: np.ndarray, probs: np.ndarray, w: SignWeights, cells: int = 1 << 15,
                   tol: float = 1e-13, max_iter: int = 5_000) -> SignDrift:  # fmt: skip
    """Bounds on −E[sign c] for i.i.d. gradients taking `values` with `probs`, in the stationary
    regime: c = w0·g + a·Y with Y = Σ_{i≥0} r^i g_i independent of g, so P(c > 0) =
    Σ_v p_v P(Y > −w0 v/a) and P(c < 0) = Σ_v p_v P(Y < −w0 v/a), read from the CDF bounds of
    `_cdf_bounds`. signSGD (a = 0) is exact: P(g > 0) − P(g < 0). The bounds hold after any
    number of iterations; `max_iter` caps the cost (about a second) where the memory r is so long
    (1 − r ≲ 10⁻³) that they would need more to close, and the interval is then wider."""
    values = np.asarray(values, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    keep = probs > 0
    values, probs = values[keep], probs[keep]
    if w.a == 0.0:
        mean_sign = float(np.sum(probs * np.sign(w.w0 * values)))
        return SignDrift(-mean_sign, -mean_sign, True)
    if w.r == 0.0:  # c = w0 g_t + a g_{t−1}: two independent draws, enumerated
        both = np.sign(w.w0 * values[:, None] + w.a * values[None, :])
        mean_sign = float(probs @ both @ probs)
        return SignDrift(-mean_sign, -mean_sign, True)
    y, h, lo, hi = _cdf_bounds(values, probs, w.r, cells, tol, max_iter)
    y0, n = y[0], y.size

    def at(F: np.ndarray, x: float, rounding) -> float:  # F at a point, from grid values (padded ends outside)
        i = rounding((x - y0) / h)
        return float(F[0]) if i < 0 else float(F[-1]) if i >= n else float(F[int(i) + 1])

    above_lo = above_hi = below_lo = below_hi = 0.0
    for v, p in zip(values, probs, strict=True):
        y_star = -w.w0 * v / w.a  # c > 0 ⇔ Y > y*
        above_lo += p * (1.0 - at(hi, y_star, np.ceil))  # P(Y > y*) = 1 − F(y*) ≥ 1 − F_hi(⌈y*⌉)
        above_hi += p * (1.0 - at(lo, y_star, np.floor))
        below_hi += p * at(hi, y_star, np.ceil)  # P(Y < y*) ≤ F(y*)
        below_lo += p * at(lo, y_star - h, np.floor)  # P(Y < y*) ≥ F(y* − h)
    sign_lo, sign_hi = above_lo - below_hi, above_hi - below_lo
    return SignDrift(-sign_hi, -sign_lo, sign_lo == sign_hi)


@dataclass(frozen=True, repr=False)
class SignFactors(Shown):
    """A sign method's closed form as `adasim nuf` reports it: the drift (`SignDrift`) and, where
    the step is the sign of the current gradient alone (signSGD: a = 0), the exact factor of each
    gradient, κ = 1/|g| (Q_s = 1/|g_s| with the identity kernel, docs/REFERENCE.md §6); a mix with
    memory (Signum, Lion) has a drift in closed form but no factor per gradient (κ None).
    `values` are the law's gradient values (i.i.d.) or None (periodic: `kappa` per phase)."""

    sign: SignDrift
    values: np.ndarray | None
    kappa: np.ndarray | None

    @property
    def drift(self) -> float:
        return self.sign.drift

    @property
    def error(self) -> np.ndarray:
        """Half the drift's interval (0 when exact)."""
        return np.array([0.5 * (self.sign.hi - self.sign.lo)])

    @property
    def note(self) -> str:
        interval = "" if self.sign.exact else f", within [{self.sign.lo:.6g}, {self.sign.hi:.6g}]"
        factors = "factor 1/|g| per gradient" if self.kappa is not None else "no factor per gradient (a sign of a mix)"
        return f"sign method: drift −E[sign c_t]{interval}; {factors}"

    def _shown(self) -> tuple[str, dict[str, Any]]:
        return "SignFactors", {"drift": self.drift, "exact": self.sign.exact}


@takes_records
def sign_factors(problem: Problem, optimizer: Optimizer) -> SignFactors:
    """The sign method's drift and, for the sign of the current gradient alone, its factors."""
    drift = sign_drift(problem, optimizer)
    w = weights_of(optimizer)
    alone = w.a == 0.0 and w.w0 > 0.0
    pattern, law = problem.pattern(), problem.law()
    if pattern is not None:
        c = np.asarray(pattern.c, dtype=np.float64)
        return SignFactors(drift, None, _recip_abs(c) if alone else None)
    values = np.asarray(law.values, dtype=np.float64)  # type: ignore[union-attr]
    return SignFactors(drift, values, _recip_abs(values) if alone else None)


def _recip_abs(c: np.ndarray) -> np.ndarray:
    out = np.full(c.shape, np.nan)
    np.divide(1.0, np.abs(c), out=out, where=c != 0.0)
    return out


@takes_records
def sign_drift(problem: Problem, optimizer: Optimizer, cells: int = 1 << 15) -> SignDrift:
    """The drift of a sign method on a periodic or an i.i.d. problem (one setting)."""
    w = weights_of(optimizer)
    if problem.lanes() != 1:
        raise AdasimError("closed forms take one problem setting at a time")
    pattern, law = problem.pattern(), problem.law()
    if pattern is not None:
        return periodic_sign_drift(np.asarray(pattern.c, dtype=np.float64), w)
    if law is not None:
        return iid_sign_drift(law.values, law.probs, w, cells)
    raise AdasimError(f"{problem.name}: its gradients are neither periodic nor i.i.d., so there is no closed form")
