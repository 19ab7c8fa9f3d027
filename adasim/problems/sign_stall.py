"""A convex nonsmooth loss on W ∈ ℝ^{2×2} on which sign methods without momentum stall
(docs/REFERENCE.md §7):

    f(W) = |w₁₁ − w₂₂| + |w₁₂ + w₂₁| + |w₁₂ − w₂₁| + δ|w₁₁ + w₂₂ − 2|,    0 < δ < 1,

= |⟨D, W⟩| + |⟨J, W⟩| + |⟨K, W⟩| + δ|⟨I, W⟩ − 2| with D = diag(1, −1), J = [[0, 1], [1, 0]],
K = [[0, 1], [−1, 0]]: four Frobenius-orthogonal directions. Its unique minimiser is W* = I
(w₁₁ = w₂₂, w₁₂ = w₂₁ = 0, tr W = 2), min f = 0. The gradient oracle returns the subgradient

    G = s D + r J + k K + δσ I,   s, r, k, σ the signs of ⟨D, W⟩, ⟨J, W⟩, ⟨K, W⟩, tr W − 2,

with sign(0) := +1 (a valid subgradient at a kink), so s, r, k, σ ∈ {±1}. Deterministic: f_t = f.

- **signSGD stalls.** The diagonal of sign(G) is (sign(s + δσ), sign(−s + δσ)) = (s, −s) since
  δ < 1: tr W never changes, so f(W_t) ≥ δ|tr W_0 − 2| for every t and every step size (2δ from
  W_0 = 0). The other three coordinates still descend (each moves by α_t toward 0), so with
  α_t → 0 signSGD's f tends to δ|tr W_0 − 2| > 0.
- **Muon without momentum stalls.** det G = (s + δσ)(−s + δσ) − (r + k)(r − k) = δ² − 1 < 0, so
  the polar factor of G is a reflection, whose trace is 0: again tr W never changes. Exactly:
  msign(G) = (G − adj(G)ᵀ)/‖·‖ = (s D + r J)/√2, so ⟨K, W⟩ does not move either and exact-polar
  Muon (β1 = 0) ends at f = |⟨K, W_0⟩| + δ|tr W_0 − 2|.
- **SGD converges** with α_t → 0, Σ α_t = ∞ (α/√t): ⟨D, W⟩, ⟨J, W⟩, ⟨K, W⟩ each move by 2α_t
  toward 0 and tr W by 2δα_t toward 2 (⟨D, D⟩ = ⟨I, I⟩ = 2), so once Σ α_t ≥ |tr W_0 − 2|/(2δ)
  every term sits within 2α_t of 0: f(W_t) ≤ 2α_t(3 + δ²) → 0.

Momentum breaks the stall when the EMA of the alternating signs s, r, k stays below δ (the trace
term then sets the sign of the diagonal); that is not derived here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from adasim.errors import AdasimError, check_range
from adasim.problems.base import Domain, Problem, lane_column

MINIMISER = np.array([[1.0, 0.0, 0.0, 1.0]])  # W* = I, row by row


class SignStallParams(NamedTuple):
    slope: float  # δ, per lane


def _signs(z: np.ndarray) -> np.ndarray:
    """sign with sign(0) = +1 (NaN stays NaN)."""
    return np.where(z >= 0, 1.0, np.where(z < 0, -1.0, np.nan))


def sign_stall_loss(q: SignStallParams, x):
    """f per lane, split over the cells: (|⟨D, W⟩| + δ|tr W − 2|)/2 in w₁₁ and w₂₂,
    (|⟨J, W⟩| + |⟨K, W⟩|)/2 in w₁₂ and w₂₁ (the cells add up to f)."""
    x = np.asarray(x, dtype=np.float64)
    w11, w12, w21, w22 = x[..., 0], x[..., 1], x[..., 2], x[..., 3]
    slope = np.asarray(q.slope, dtype=np.float64)[..., 0] if np.ndim(q.slope) else q.slope
    diagonal = 0.5 * (np.abs(w11 - w22) + slope * np.abs(w11 + w22 - 2.0))
    off = 0.5 * (np.abs(w12 + w21) + np.abs(w12 - w21))
    return np.stack([diagonal, off, off, diagonal], axis=-1)


@dataclass(frozen=True, eq=False)
class SignStall(Problem):
    """f(W) = |w₁₁ − w₂₂| + |w₁₂ + w₂₁| + |w₁₂ − w₂₁| + δ|tr W − 2| on 2 × 2 matrices (see the module text)."""

    domain: Domain = field(default_factory=lambda: Domain(-math.inf, math.inf))
    slope: Any = 0.5  # δ in (0, 1)

    name = "sign-stall"
    summary = "W (2 × 2): f = |w₁₁−w₂₂| + |w₁₂+w₂₁| + |w₁₂−w₂₁| + δ|tr W − 2|, convex, nonsmooth, min 0 at W = I"
    source = "adasim: sign methods without momentum keep tr W fixed (sign(G) and msign(G) are traceless)"
    outcome = ("signSGD and exact-polar Muon (β1 = 0) never change tr W: f ≥ δ|tr W₀ − 2| (2δ from W₀ = 0) for any "
               "step sizes; SGD with α/√t reaches W* = I")  # fmt: skip
    lane_params = ("slope",)
    x_independent = False
    linear = False
    uses_seeds = False
    gradient_kernel = None
    loss_kernel = staticmethod(sign_stall_loss)

    def validate(self) -> None:
        check_range("slope δ", self.slope, 0.0, 1.0, lo_open=True, hi_open=True)
        if not np.all(self.domain.contains(MINIMISER)):
            raise AdasimError(f"the sign-stall problem's minimiser W* = I must lie in the domain, not {self.domain.describe()}")

    @property
    def dim(self) -> int:  # type: ignore[override]
        return 4

    @property
    def shape(self) -> tuple[int, int]:
        return 2, 2

    def block_sizes(self) -> tuple[int, ...]:
        return (2, 2)

    def kernel_params(self) -> SignStallParams:
        return SignStallParams(lane_column(self.slope))

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        """G = s D + r J + k K + δσ I per lane (sign(0) = +1), row by row: (L, 4)."""
        x = np.asarray(x, dtype=np.float64)
        w11, w12, w21, w22 = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
        s, r, k = _signs(w11 - w22), _signs(w12 + w21), _signs(w12 - w21)
        sigma = _signs(w11 + w22 - 2.0)
        slope = np.asarray(self.slope, dtype=np.float64)
        return np.stack([s + slope * sigma, r + k, r - k, -s + slope * sigma], axis=-1)

    def mean_gradient(self) -> np.ndarray:
        return np.array(0.0)

    def optimum(self) -> np.ndarray:
        """W* = I (f = 0)."""
        return MINIMISER.copy()

    def worst(self) -> np.ndarray:
        return np.full((1, 4), np.nan)

    def value(self, x: np.ndarray) -> np.ndarray:
        """f(W) per point, x (..., 4)."""
        return np.sum(sign_stall_loss(self.kernel_params(), x), axis=-1)

    def sweep_coordinate(self, x: np.ndarray) -> np.ndarray:
        """tr W / 2 per lane: the coordinate a sign method cannot move (1 at W*)."""
        x = np.asarray(x, dtype=np.float64)
        return 0.5 * (x[..., 0] + x[..., 3])

    def sweep_optimum(self) -> np.ndarray:
        return np.array([1.0])


__all__ = ["SignStall", "sign_stall_loss"]
