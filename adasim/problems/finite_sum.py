"""The finite-sum counterexample of Zhang et al. 2022 (NeurIPS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import check_choice, check_range
from adasim.problems.base import Law, Pattern, Problem, lane_column
from adasim.random import STREAM_GRADIENT, STREAM_SHUFFLE, uniform01

SAMPLINGS = {
    "cyclic": "f_0, f_1, ..., f_{n−1}, f_0, ... (the online problem with d = C = n)",
    "shuffle": "a new random order every epoch of n steps",
    "iid": "an index drawn uniformly at random every step",
}


class FiniteSumParams(NamedTuple):
    n: int
    sampling: str


def finite_sum_gradient(q: FiniteSumParams, key, t):
    """g_t = n when step t draws f_0, else −1. The other f_i are identical, so an epoch's order
    matters only through where f_0 lands: draw number `epoch` of the lane's stream places it."""
    position = (t - 1) % q.n
    if q.sampling == "cyclic":
        spike = position == 0
    elif q.sampling == "iid":
        spike = ops.floor(uniform01(key, t) * q.n) == 0.0
    else:
        spike = position == ops.floor(uniform01(key, (t - 1) // q.n) * q.n)
    return ops.where(spike, 1.0 * q.n, -1.0)


@dataclass(frozen=True, eq=False)
class FiniteSum(Problem):
    """f(x) = Σ_i f_i(x), f_0(x) = n·x, f_i(x) = −x otherwise; one f_i per step, sampled
    cyclically, reshuffled per epoch, or i.i.d. Optimum x* = −1.

    Examples
    --------
    With n = 10 one gradient in ten is 10 and nine are −1: the mean is (10 − 9)/10 > 0, so x* = −1.

    >>> from adasim import FiniteSum
    >>> problem = FiniteSum(n=10, sampling="shuffle")
    >>> round(float(problem.mean_gradient()), 4), problem.optimum().tolist()
    (0.1, [[-1.0]])
    """

    n: Any = 10
    sampling: str = "cyclic"

    name = "finite-sum"
    summary = "f_0 = n·x, f_i = −x (i ≥ 1), sampled cyclic | shuffle | iid"
    source = "Zhang et al. 2022 (NeurIPS), 'Adam can converge without any modification on update rules'"
    outcome = "with reshuffling Adam converges iff β2 is large enough for the given β1 (Zhang et al. 2022); SGD converges"
    lane_params = ("n",)
    gradient_kernel = staticmethod(finite_sum_gradient)

    def validate(self) -> None:
        check_range("n functions", self.n, 2, integer=True)
        check_choice("sampling", self.sampling, SAMPLINGS)

    @property
    def uses_seeds(self) -> bool:  # type: ignore[override]
        return self.sampling != "cyclic"

    @property
    def streams(self) -> int:  # type: ignore[override]
        return STREAM_SHUFFLE if self.sampling == "shuffle" else STREAM_GRADIENT

    def kernel_params(self) -> FiniteSumParams:
        return FiniteSumParams(lane_column(self.n, int), self.sampling)

    def pattern(self) -> Pattern | None:
        if self.sampling != "cyclic" or self.lanes() != 1:
            return None
        n = int(self.n)
        return Pattern(np.array([float(n)] + [-1.0] * (n - 1)))

    def law(self) -> Law | None:
        if self.sampling != "iid" or self.lanes() != 1:
            return None
        n = float(self.n)
        return Law(np.array([n, -1.0]), np.array([1.0 / n, 1.0 - 1.0 / n]))

    def mean_gradient(self) -> np.ndarray:
        return 1.0 / np.asarray(self.n, float)
