"""A ball of matrices that a matrix problem adds to the executors' box, and the projection on it,
per lane (W ∈ ℝ^{m×n} is a lane's coordinates row by row):

    Frobenius:  Π(W) = W · min(1, r/‖W‖_F)
    spectral:   Π(W) = U min(Σ, r) Vᵀ      (W = U Σ Vᵀ: the singular values clipped at r)

Both are the Euclidean (Frobenius-norm) projections on {‖W‖_F ≤ r} and {‖W‖₂ ≤ r}. Both balls are
orthogonally invariant, so Π(U W Vᵀ) = U Π(W) Vᵀ for orthogonal U, V: an orthogonally equivariant
method (SGD, Muon) sees the same constrained problem in every basis, which a box (a coordinate-wise
set) would break. From ‖W‖₂ ≤ ‖W‖_F ≤ √min(m, n)·‖W‖₂: F-ball(r) ⊂ spectral ball(r) ⊂
F-ball(r·√min(m, n)).

The minimum of a linear loss ⟨M, W⟩ over the ball is −r‖M‖_F, at −r M/‖M‖_F (Frobenius), and
−r‖M‖_* (the nuclear norm, the spectral norm's dual), at −r msign(M) (spectral; unique when M has
full rank, else the minimiser of least Frobenius norm).

The executors apply `Problem.project_lanes` after the box's clip (NumPy, Python and foreign
executors; the compiled one refuses a problem that projects). A lane inside its ball is returned
as it is, the same floats; a lane that is not finite too (the health reports it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, check_choice, check_range

BALLS = {
    "none": "no ball: the box of --domain is the only constraint",
    "frobenius": "‖W‖_F ≤ r: W·min(1, r/‖W‖_F) after every step",
    "spectral": "‖W‖₂ ≤ r: the singular values clipped at r after every step",
}


def check_ball(ball: str, radius: Any, domain: Any) -> None:
    """`ball` one of BALLS, `radius` > 0 and finite (one number, or one per lane), and no box
    beside a ball (clip-then-scale is not the projection on their intersection)."""
    check_choice("ball", ball, BALLS)
    check_range("radius", radius, 0.0, math.inf, lo_open=True, hi_open=True)
    if ball != "none" and not domain.unconstrained:
        raise AdasimError(f"a {ball} ball is the problem's whole constraint (a box beside it is a coordinate-wise one): "
                          "use --domain none")  # fmt: skip


def describe(ball: str, radius: Any) -> str | None:
    """The ball in words (None for no ball)."""
    if ball == "none":
        return None
    r = f"{float(radius):g}" if np.ndim(radius) == 0 else "r (per lane)"
    return f"the {ball} ball ‖W‖{'_F' if ball == 'frobenius' else '₂'} ≤ {r}"


def _radius(radius: Any, lanes: int) -> np.ndarray:
    """The radius per lane, (L, 1, 1)."""
    return np.broadcast_to(np.asarray(radius, dtype=np.float64).reshape(-1, 1, 1), (lanes, 1, 1))


def project(x: np.ndarray, shape: tuple[int, int], ball: str, radius: Any) -> np.ndarray:
    """Π of each lane's matrix on the ball: x (L, m·n) → (L, m·n) (`ball` "none": x itself)."""
    if ball == "none":
        return x
    x = np.asarray(x, dtype=np.float64)
    L = x.shape[0]
    W = x.reshape(L, *shape)
    r = _radius(radius, L)
    finite = np.isfinite(W).all(axis=(-2, -1))
    if ball == "frobenius":
        norm = np.sqrt(np.sum(W * W, axis=(-2, -1), keepdims=True))
        outside = finite & (norm[:, 0, 0] > r[:, 0, 0])
        if not outside.any():
            return x
        out = np.array(W)
        out[outside] = W[outside] * (r[outside] / norm[outside])
        return out.reshape(x.shape)
    safe = np.where(finite[:, None, None], W, 0.0)  # LAPACK refuses NaN: those lanes are left as they are
    U, sv, Vt = np.linalg.svd(safe, full_matrices=False)
    outside = finite & (sv[:, 0] > r[:, 0, 0])
    if not outside.any():
        return x
    out = np.array(W)
    clipped = np.minimum(sv[outside], r[outside][:, :, 0])
    out[outside] = (U[outside] * clipped[:, None, :]) @ Vt[outside]
    return out.reshape(x.shape)


def linear_minimiser(M: np.ndarray, shape: tuple[int, int], ball: str, radius: Any) -> np.ndarray:
    """argmin of ⟨M, W⟩ over the ball per lane, M (L, m·n) → (L, m·n): −r M/‖M‖_F (Frobenius) or
    −r msign(M) (spectral; the least-norm one when M is rank-deficient); NaN where M = 0."""
    M = np.asarray(M, dtype=np.float64)
    L = M.shape[0]
    r = _radius(radius, L).reshape(L, 1)
    if ball == "frobenius":
        norm = np.sqrt(np.sum(M * M, axis=-1, keepdims=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norm > 0, -r * M / norm + 0.0, np.nan)  # (+ 0.0: no −0.0 entries)
    polar = ops.msign(M, (shape[1],) * shape[0])
    return np.where(np.any(M != 0, axis=-1, keepdims=True), -r * polar + 0.0, np.nan)


class MatrixParameter:
    """What every matrix problem with a ball shares, written once: W ∈ ℝ^{m×n} is a lane's
    coordinates row by row (its rows are the problem's blocks, what matrix optimizers read as the
    matrix), and the optional ball's projection and linear minimiser. The dataclass that mixes it in
    has the fields `size` (m), `ball` and `radius`, and `cols` (n; a problem with square W only
    defines it as a property)."""

    @property
    def dim(self) -> int:
        return self.size * self.cols  # type: ignore[attr-defined]

    @property
    def shape(self) -> tuple[int, int]:
        return self.size, self.cols  # type: ignore[attr-defined]

    def block_sizes(self) -> tuple[int, ...]:
        """W's rows."""
        return (self.cols,) * self.size  # type: ignore[attr-defined]

    def projection(self) -> str | None:
        return describe(self.ball, self.radius)  # type: ignore[attr-defined]

    def project_lanes(self, x: np.ndarray) -> np.ndarray:
        return project(x, self.shape, self.ball, self.radius)  # type: ignore[attr-defined]

    def linear_minimiser(self, M: np.ndarray) -> np.ndarray | None:
        if self.ball == "none":  # type: ignore[attr-defined]
            return None
        return linear_minimiser(M, self.shape, self.ball, self.radius)  # type: ignore[attr-defined]


__all__ = ["BALLS", "MatrixParameter", "check_ball", "describe", "linear_minimiser", "project"]
