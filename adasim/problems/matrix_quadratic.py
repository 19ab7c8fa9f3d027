"""The matrix quadratic (docs/REFERENCE.md §7):

    f(W) = ½‖W − W*‖²_F,   G = W − W*,   W ∈ ℝ^{m×n},

W* fixed: given row by row (`target`) or a standard normal m × n matrix drawn from `vector_seed`.
Deterministic (f_t = f) and 1-strongly convex. Unconstrained by default; with a box x* is W*
clipped to it, with a Frobenius or spectral ball of radius r it is W*'s projection on the ball
(both are Euclidean projections), min f = ½‖W* − x*‖²_F.

Outcome: every method that converges on a strongly convex quadratic with α_t → 0 reaches x*.
- SGD: W_t − W* = (1 − α)^t (W_0 − W*) for a constant α ∈ (0, 2): geometric.
- Exact-polar Muon without momentum (β1 = 0): E_t = W_t − W* = U Σ Vᵀ moves to
  U (Σ − s α_t I) Vᵀ, the same singular vectors, so each singular value runs the scalar sign
  method σ ← |σ − s α_t| (s the shape scale): it reaches the ball ‖E‖₂ ≤ s α_t and stays there,
  so it converges exactly when α_t → 0 with Σ α_t = ∞ (a constant α leaves ‖W − W*‖₂ ≤ sα).
- Adam and signSGD: each entry runs its own one-dimensional problem (½(w − w*)²), which they
  solve to within O(α_t).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from adasim.errors import AdasimError, check_range
from adasim.problems import balls
from adasim.problems.base import Domain, Problem, lane_column
from adasim.problems.spikes import DEFAULT_SIZE, MAX_SIZE, parse_vector, vector_text


class MatrixQuadraticParams(NamedTuple):
    target: float  # per coordinate (D,)


def matrix_quadratic_loss(q: MatrixQuadraticParams, x):
    """½(w_ij − w*_ij)² per entry."""
    d = np.asarray(x, dtype=np.float64) - q.target
    return 0.5 * d * d


@dataclass(frozen=True, eq=False)
class MatrixQuadratic(balls.MatrixParameter, Problem):
    """f(W) = ½‖W − W*‖²_F (see the module text)."""

    domain: Domain = field(default_factory=lambda: Domain(-math.inf, math.inf))
    size: Any = None  # m (None: from the target's length when it is a square, else 4)
    cols: Any = None  # n (None: from the target and m, else m)
    target: Any = None  # W* row by row (None: drawn from vector_seed)
    vector_seed: int = 0
    ball: str = "none"
    radius: Any = 1.0

    name = "matrix-quadratic"
    summary = "W (m × n): f = ½‖W − W*‖²_F, G = W − W* (W* fixed: given or drawn), strongly convex"
    source = "adasim: the smooth matrix control problem"
    outcome = ("every method that converges on a strongly convex quadratic with α_t → 0 reaches W* (its projection "
               "with a ball or box); SGD geometrically for constant α < 2; exact-polar Muon (β1 = 0) to "
               "‖W − W*‖₂ ≤ α_t")  # fmt: skip
    lane_params = ("radius",)
    x_independent = False
    linear = False
    uses_seeds = False
    gradient_kernel = None
    loss_kernel = staticmethod(matrix_quadratic_loss)

    def validate(self) -> None:
        target = parse_vector("the target W* (--target)", self.target, nonzero=False)
        object.__setattr__(self, "target", target)
        m, n = self.size, self.cols
        if target is not None and m is None:
            root = math.isqrt(len(target))
            if n is not None:
                check_range("cols (n, W's columns)", n, 1, MAX_SIZE, integer=True)
                m = len(target) // int(n)
            elif root * root == len(target):
                m = root
            else:
                raise AdasimError(f"the target W* has {len(target)} entries, not a square: give --dim (m) and --cols (n)")
        m = DEFAULT_SIZE if m is None else m
        check_range("size (m, W's rows)", m, 1, MAX_SIZE, integer=True)
        if n is None:
            n = len(target) // int(m) if target is not None else m
        check_range("cols (n, W's columns)", n, 1, MAX_SIZE, integer=True)
        object.__setattr__(self, "size", int(m))
        object.__setattr__(self, "cols", int(n))
        if target is not None and len(target) != self.size * self.cols:
            raise AdasimError(f"the target W* has {len(target)} entries, but W is {self.size} × {self.cols}")
        check_range("vector_seed", self.vector_seed, 0, 2**32 - 1, integer=True)
        balls.check_ball(self.ball, self.radius, self.domain)

    def target_matrix(self) -> np.ndarray:
        """W* row by row, (m·n,): the given target, or standard normal draws from the generator
        seeded (vector_seed, 3)."""
        if self.target is not None:
            return np.array(self.target, dtype=np.float64)
        return np.random.default_rng((int(self.vector_seed), 3)).standard_normal(self.dim)

    def kernel_params(self) -> MatrixQuadraticParams:
        return MatrixQuadraticParams(self.target_matrix())

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        """G = W − W* per lane: (L, m·n)."""
        return np.asarray(x, dtype=np.float64) - self.target_matrix()

    def mean_gradient(self) -> np.ndarray:
        return np.array(0.0)

    def optimum(self) -> np.ndarray:
        """x* = Π(W*): W* unconstrained, clipped to a box, projected on a ball (per lane when the
        radius is)."""
        target = self.target_matrix()[None, :]
        if self.ball != "none":
            lanes = np.size(self.radius) if np.ndim(self.radius) else 1
            return balls.project(np.repeat(target, lanes, axis=0), self.shape, self.ball, lane_column(self.radius))
        return np.asarray(self.domain.project(target), dtype=np.float64)

    def worst(self) -> np.ndarray:
        return np.full((1, self.dim), np.nan)

    def sweep_coordinate(self, x: np.ndarray) -> np.ndarray:
        """‖W − x*‖_F per lane (0 at the optimum)."""
        return np.linalg.norm(np.asarray(x, dtype=np.float64) - self.optimum(), axis=-1)

    def sweep_optimum(self) -> np.ndarray:
        return np.array([0.0])

    def params(self) -> dict[str, Any]:
        out = super().params()
        out["target"] = vector_text(self.target)
        return out


__all__ = ["MatrixQuadratic", "matrix_quadratic_loss"]
