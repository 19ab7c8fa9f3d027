"""A counterexample embedded in 2-D and rotated by θ: coordinate-wise methods are not rotation
invariant, SGD is.

Two copies of the base counterexample act on y = Rᵀx (R the rotation by θ): f_t(x) = g_t^(1) y_1 +
g_t^(2) y_2, so the gradient in x is R (g^(1), g^(2)). The online base gives both copies the same
sequence, the stochastic base independent draws (counters 2t and 2t + 1 of the lane's stream). SGD's
path in y does not depend on θ; Adam's per-coordinate v mixes the copies as soon as θ ∉ {0, π/2, …}.
Unconstrained by default (a box would itself be a coordinate-wise choice); the direction of the
optimum is −R (1, 1) where E g > 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import check_choice, check_range
from adasim.problems.base import Domain, Problem, lane_column
from adasim.problems.layered import counterexample
from adasim.problems.stochastic import Stochastic
from adasim.random import uniform01


class RotatedParams(NamedTuple):
    base: str
    C: float
    s: float
    p: float
    d: int
    k: int
    theta: float  # per lane
    quarter: float  # per coordinate: c·π/2, so that cos(θ − quarter), −sin(θ − quarter) is row c of R


def rotated_gradient(q: RotatedParams, key, t):
    """Row c of R times (g^(1), g^(2)): cos(θ − cπ/2)·g^(1) − sin(θ − cπ/2)·g^(2)."""
    if q.base == "online":
        g1 = ops.where((t - 1) % q.d < q.k, q.C, -q.s)
        g2 = g1
    else:
        g1 = ops.where(uniform01(key, 2 * t) < q.p, q.C, -q.s)
        g2 = ops.where(uniform01(key, 2 * t + 1) < q.p, q.C, -q.s)
    return ops.cos(q.theta - q.quarter) * g1 - ops.sin(q.theta - q.quarter) * g2


@dataclass(frozen=True, eq=False)
class Rotated(Problem):
    """Two copies of the online or stochastic counterexample seen through a rotation by θ (radians).

    Examples
    --------
    A rotation mixes the copies' mean gradients (8/3 each for C = 10) but keeps their length √2·8/3:

    >>> import math
    >>> from adasim import Rotated
    >>> Rotated(theta=0.0).mean_gradient().round(4).tolist()
    [[2.6667, 2.6667]]
    >>> g = Rotated(theta=math.pi / 6).mean_gradient()[0]
    >>> round(math.hypot(*g), 4), round(math.sqrt(2) * 8 / 3, 4)
    (3.7712, 3.7712)
    """

    domain: Domain = field(default_factory=lambda: Domain(-math.inf, math.inf))
    base: str = "online"
    C: Any = 10.0
    s: Any = 1.0
    p: Any = 0.2
    d: Any = 3
    k: Any = 1
    theta: Any = math.pi / 6

    name = "rotated"
    summary = "two copies of a counterexample in y = Rᵀx, R the rotation by θ (2-D)"
    source = "adasim: coordinate-wise methods are not rotation invariant; Reddi et al. 2018's problems"
    outcome = "SGD is rotation-equivariant and reaches x*; Adam's per-coordinate scale sees a mix of the copies"
    lane_params = ("C", "s", "p", "d", "k", "theta")
    gradient_kernel = staticmethod(rotated_gradient)

    def validate(self) -> None:
        check_choice("base", self.base, ("online", "stochastic"))
        check_range("theta", self.theta)
        self.unit()  # validates C, s, p, d, k through the base problem

    @property
    def dim(self) -> int:  # type: ignore[override]
        return 2

    @property
    def uses_seeds(self) -> bool:  # type: ignore[override]
        return self.base == "stochastic"

    def unit(self) -> Problem:
        """The one-coordinate counterexample each copy is."""
        return counterexample(self.base, self.C, self.s, self.p, self.d, self.k)

    def kernel_params(self) -> RotatedParams:
        unit = self.unit()
        p = lane_column(unit.probability()) if isinstance(unit, Stochastic) else 0.0
        return RotatedParams(self.base, lane_column(self.C), lane_column(self.s), p, lane_column(self.d, int),
                             lane_column(self.k, int), lane_column(self.theta), np.array([0.0, math.pi / 2]))  # fmt: skip

    def rotation(self) -> np.ndarray:
        """R (2 × 2) for one setting: x = R y."""
        c, s = math.cos(float(self.theta)), math.sin(float(self.theta))
        return np.array([[c, -s], [s, c]])

    def to_y(self, x: np.ndarray) -> np.ndarray:
        """y = Rᵀ x for points x (..., 2): the coordinates the counterexample acts on."""
        return np.asarray(x) @ self.rotation()

    def mean_gradient(self) -> np.ndarray:
        """The mean gradient in x, R (m, m), per lane: (L or 1, 2)."""
        m = np.atleast_1d(self.unit().mean_gradient())[:, None]
        theta = np.atleast_1d(np.asarray(self.theta, float))[:, None]
        quarter = np.array([[0.0, math.pi / 2]])
        return (np.cos(theta - quarter) - np.sin(theta - quarter)) * m

    def optimum(self) -> np.ndarray:
        """Per coordinate of x: the box's lower bound where its mean gradient is positive, the upper
        where negative (∓∞ when unconstrained, the default), NaN where it is 0."""
        mean = self.mean_gradient()
        lo = np.broadcast_to(np.asarray(self.domain.lo, float), (1, 2))
        hi = np.broadcast_to(np.asarray(self.domain.hi, float), (1, 2))
        return np.where(mean > 0, lo, np.where(mean < 0, hi, np.nan))

    def worst(self) -> np.ndarray:
        mean = self.mean_gradient()
        lo = np.broadcast_to(np.asarray(self.domain.lo, float), (1, 2))
        hi = np.broadcast_to(np.asarray(self.domain.hi, float), (1, 2))
        return np.where(mean > 0, hi, np.where(mean < 0, lo, np.nan))

    def sweep_coordinate(self, x: np.ndarray) -> np.ndarray:
        """(y_1 + y_2)/2 with y = Rᵀx per lane: the copies' mean coordinate, whose optimum is the
        base problem's (−∞ where E g > 0)."""
        x = np.asarray(x, dtype=np.float64)
        theta = np.broadcast_to(np.asarray(self.theta, dtype=np.float64), x.shape[-2:-1])
        c, s = np.cos(theta), np.sin(theta)
        y1 = c * x[..., 0] + s * x[..., 1]
        y2 = -s * x[..., 0] + c * x[..., 1]
        return 0.5 * (y1 + y2)

    def sweep_optimum(self) -> np.ndarray:
        m = np.atleast_1d(self.unit().mean_gradient())
        return np.where(m > 0, -np.inf, np.where(m < 0, np.inf, np.nan))
