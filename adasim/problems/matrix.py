"""A matrix parameter W ∈ ℝ^{m×m}: m independent copies of a scalar counterexample on W's
diagonal, seen directly or behind fixed orthogonal matrices U, V.

    f_t(W) = Σ_i s_t^(i) u_iᵀ W v_i,   so   G_t = U diag(s_t) Vᵀ,

with s_t^(i) copy i of the online or stochastic counterexample (stochastic: an independent stream
per copy; online: the phase shifted by i) and U = V = I unless `rotate`. The coordinates are W's
entries row by row, so the problem's blocks are W's rows (what matrix optimizers read as the
matrix: adasim.ops.matrix_shape).

- Unrotated, the gradient is diagonal: a coordinate-wise method runs m copies of its scalar run
  (the off-diagonal entries never move), and a method that acts on W's singular values sees them
  too: Muon with the exact polar factor is Signum (Lion with Nesterov momentum) on each copy
  (docs/REFERENCE.md §7). The box [−1, 1] per entry keeps the scalar problem's projection; x* is
  the scalar problem's on the diagonal and 0 (the start; every value is optimal) off it.
- Rotated (`rotate`, U and V drawn once from `rotation_seed`), every entry sees a mix of the
  copies. A method that is orthogonally equivariant (SGD, Muon: polar(U A Vᵀ) = U polar(A) Vᵀ)
  makes the same moves in the coordinates Y = Uᵀ W V as on the unrotated problem; Adam's
  per-entry scale does not. Unconstrained (a box would itself be a coordinate-wise choice): the
  number to read is y = mean_i Y_ii (`sweep_coordinate`), whose optimum is the scalar problem's
  direction (−∞ where E s > 0).
- A Frobenius or spectral ball of radius r (`ball`, `radius`; adasim.problems.balls) replaces the
  box, rotated or not: the balls are orthogonally invariant, so the rotated problem with a ball is
  the unrotated one seen through U, V for SGD and Muon. x* = −ρ sign(E s) U Vᵀ, worst +ρ sign(E s)
  U Vᵀ, y* = −ρ sign(E s), with ρ = r/√m (Frobenius: ⟨U Vᵀ, W⟩ ≥ −r‖U Vᵀ‖_F) or ρ = r (spectral:
  ⟨U Vᵀ, W⟩ ≥ −r‖U Vᵀ‖_* = −rm). On a diagonal W the spectral projection clips each |W_ii| at r:
  the box [−r, r] on the diagonal, so every method whose iterates stay diagonal (SGD, Adam,
  exact-polar Muon on the unrotated problem) runs as with the box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.errors import AdasimError, check_choice, check_range
from adasim.problems import balls
from adasim.problems.base import Domain, Problem, lane_column
from adasim.problems.layered import counterexample
from adasim.problems.stochastic import Stochastic
from adasim.random import STREAM_GRADIENT, lane_keys, uniform01

MAX_SIZE = 256  # m: the gradient is m² entries per lane and step, from an m × m × m product when rotated


def orthogonal(m: int, seed: int) -> np.ndarray:
    """A fixed orthogonal m × m matrix: Q of the QR factorisation of a standard normal matrix drawn
    with `seed` (signs fixed so that R's diagonal is positive: Haar-distributed)."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((m, m)))
    return q * np.sign(np.diag(r))


@dataclass(frozen=True, eq=False)
class Matrix(balls.MatrixParameter, Problem):
    """W (m × m) with m copies of the base counterexample on its diagonal, optionally behind fixed
    orthogonal U, V (see the module text).

    Examples
    --------
    W is 2 × 2 (four coordinates, row by row); unrotated, G_t is diagonal with the online copies,
    the second's phase shifted by one step:

    >>> import numpy as np
    >>> from adasim import Matrix
    >>> problem = Matrix(size=2, base="online", C=2.0)
    >>> problem.dim, problem.gradient(np.zeros((1, 4)), 1, np.array([0])).tolist()  # G_1 = diag(2, −1)
    (4, [[2.0, 0.0, 0.0, -1.0]])
    """

    domain: Domain | None = None  # type: ignore[assignment]  # None: [−1, 1] per entry, unconstrained when rotated
    size: int = 4
    base: str = "stochastic"
    C: float = 10.0
    s: float = 1.0
    p: Any = 0.2
    d: int = 3
    k: int = 1
    rotate: bool = False
    rotation_seed: int = 0
    ball: str = "none"
    radius: Any = 1.0

    name = "matrix"
    summary = "W (m × m): m copies of a counterexample on the diagonal, G = U diag(s_t) Vᵀ (U = V = I unless rotated)"
    source = "adasim: matrix optimizers on matrix counterexamples; Reddi et al. 2018's problems"
    outcome = ("each diagonal copy runs the scalar problem (exact-polar Muon: Signum, or Lion with Nesterov); rotated, "
               "SGD and Muon make the same moves in UᵀWV, Adam does not")  # fmt: skip
    lane_params = ("radius",)
    x_independent = False  # not drawn by an elementwise kernel: the NumPy and Python executors call `gradient`
    gradient_kernel = None

    def __post_init__(self) -> None:
        if self.domain is None:
            free = self.rotate or self.ball != "none"
            object.__setattr__(self, "domain", Domain(-math.inf, math.inf) if free else Domain(-1.0, 1.0))
        super().__post_init__()

    def validate(self) -> None:
        check_range("size", self.size, 1, MAX_SIZE, integer=True)
        object.__setattr__(self, "size", int(self.size))
        check_choice("base", self.base, ("stochastic", "online"))
        check_range("rotation_seed", self.rotation_seed, 0, 2**32 - 1, integer=True)
        for name in ("C", "s", "p", "d", "k"):
            if np.ndim(getattr(self, name)) != 0:
                raise AdasimError(f"{name} of a matrix problem is one number for every lane, got {getattr(self, name)!r}")
        self.unit()  # validates C, s, p, d, k through the base problem
        balls.check_ball(self.ball, self.radius, self.domain)
        if self.rotate and not self.domain.unconstrained:
            raise AdasimError("a rotated matrix problem is unconstrained (a box is itself a coordinate-wise choice): "
                              "use --domain none")  # fmt: skip

    @property
    def cols(self) -> int:
        """n = m: W is square."""
        return self.size

    @property
    def uses_seeds(self) -> bool:  # type: ignore[override]
        return self.base == "stochastic"

    def unit(self) -> Problem:
        """The one-coordinate counterexample each diagonal copy is."""
        return counterexample(self.base, self.C, self.s, self.p, self.d, self.k)

    def rotations(self) -> tuple[np.ndarray, np.ndarray]:
        """(U, V): the identity unless rotated."""
        m = self.size
        if not self.rotate:
            return np.eye(m), np.eye(m)
        return orthogonal(m, int(self.rotation_seed)), orthogonal(m, int(self.rotation_seed) + 1)

    def keys(self, seeds: np.ndarray) -> np.ndarray:
        """The stream of diagonal copy i per lane, (L, m): STREAM_GRADIENT + 64·(i + 1)."""
        seeds = np.asarray(seeds)
        return np.stack([lane_keys(seeds, STREAM_GRADIENT + 64 * (i + 1)) for i in range(self.size)], axis=-1)

    def diagonal(self, t: int, seeds: np.ndarray) -> np.ndarray:
        """s_t^(i) for every lane and copy, (L, m)."""
        m = self.size
        if self.base == "online":
            i = np.arange(m)
            unit = np.where((t - 1 + i) % int(self.d) < int(self.k), float(self.C), -float(self.s))
            return np.broadcast_to(unit, (len(np.atleast_1d(seeds)), m)).astype(np.float64)
        p = float(np.asarray(self.unit().probability()))  # type: ignore[attr-defined]
        with np.errstate(over="ignore"):  # the streams' arithmetic is modulo 2^64
            return np.where(uniform01(self.keys(seeds), t) < p, float(self.C), -float(self.s))

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        """G_t = U diag(s_t) Vᵀ per lane, its entries row by row: (L, m²)."""
        diag = self.diagonal(int(t), seeds)
        m = self.size
        if not self.rotate:
            g = np.zeros((diag.shape[0], m, m))
            g[:, np.arange(m), np.arange(m)] = diag
        else:
            U, V = self.rotations()
            g = (U * diag[:, None, :]) @ V.T  # U diag(s) Vᵀ per lane (a BLAS product; einsum's loop is 10× slower)
        return np.array(np.broadcast_to(g.reshape(diag.shape[0], m * m), x.shape))

    def to_y(self, x: np.ndarray) -> np.ndarray:
        """The coordinates the copies act on, y_i = (Uᵀ W V)_ii, for points x (..., m²): (..., m)."""
        U, V = self.rotations()
        W = np.asarray(x, dtype=np.float64).reshape((*np.shape(x)[:-1], self.size, self.size))
        return np.diagonal(np.swapaxes(U, 0, 1) @ W @ V, axis1=-2, axis2=-1)

    def mean_gradient(self) -> np.ndarray:
        return np.atleast_1d(self.unit().mean_gradient())

    def _on_diagonal(self, value: np.ndarray) -> np.ndarray:
        out = np.zeros((value.shape[0], self.size, self.size))
        out[:, np.arange(self.size), np.arange(self.size)] = value[:, None]
        return out.reshape(value.shape[0], self.dim)

    def _ball_point(self, best: bool) -> np.ndarray:
        """−ρ sign(E s) U Vᵀ (best) or +ρ sign(E s) U Vᵀ per lane, ρ = r/√m (Frobenius) or r (spectral)."""
        U, V = self.rotations()
        mean = self.mean_gradient()[:, None]
        rho = lane_column(self.radius) / (math.sqrt(self.size) if self.ball == "frobenius" else 1.0)
        point = -np.sign(mean) * np.atleast_2d(rho) * (U @ V.T).reshape(1, -1) * (1.0 if best else -1.0)
        return np.where(mean != 0, point, np.nan)

    def optimum(self) -> np.ndarray:
        """Unrotated: the scalar problem's x* on the diagonal, 0 off it (the start: every value is
        optimal there). Rotated: NaN per entry (read `sweep_coordinate` instead). With a ball:
        −ρ sign(E s) U Vᵀ (the module text)."""
        if self.ball != "none":
            return self._ball_point(True)
        if self.rotate:
            return np.full((1, self.dim), np.nan)
        mean = self.mean_gradient()
        return self._on_diagonal(np.where(mean > 0, float(self.domain.lo), np.where(mean < 0, float(self.domain.hi), np.nan)))

    def worst(self) -> np.ndarray:
        if self.ball != "none":
            return self._ball_point(False)
        if self.rotate:
            return np.full((1, self.dim), np.nan)
        mean = self.mean_gradient()
        return self._on_diagonal(np.where(mean > 0, float(self.domain.hi), np.where(mean < 0, float(self.domain.lo), np.nan)))

    def sweep_coordinate(self, x: np.ndarray) -> np.ndarray:
        """y = mean_i (Uᵀ W V)_ii per lane: the copies' mean coordinate."""
        return self.to_y(x).mean(axis=-1)

    def sweep_optimum(self) -> np.ndarray:
        mean = self.mean_gradient()
        if self.ball != "none":
            rho = np.asarray(self.radius, dtype=np.float64) / (math.sqrt(self.size) if self.ball == "frobenius" else 1.0)
            return np.where(mean != 0, -np.sign(mean) * rho, np.nan)
        lo, hi = (-math.inf, math.inf) if self.rotate else (float(self.domain.lo), float(self.domain.hi))
        return np.where(mean > 0, lo, np.where(mean < 0, hi, np.nan))

    def probability(self) -> Any:
        unit = self.unit()
        return unit.probability() if isinstance(unit, Stochastic) else None


__all__ = ["Matrix", "orthogonal"]
