"""The stochastic counterexample of Reddi et al. 2018 (Theorem 3), as used by AdaShift and ADOPT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, as_lane_array, check_range
from adasim.problems.base import Law, Problem, lane_column
from adasim.random import uniform01


class StochasticParams(NamedTuple):
    C: float
    s: float
    p: float
    b: int


def stochastic_gradient(q: StochasticParams, key, t):
    """g_t = (C·K − s·(b − K))/b with K = #{j < b: u_{(t−1)b+j+1} < p}, the u the lane's uniform
    draws: the mean of a mini-batch of b i.i.d. gradients (C w.p. p, else −s). b = 1 is the
    single draw u_t: C if u_t < p, else −s."""
    K = 0.0
    for j in range(ops.most(q.b)):
        hit = (uniform01(key, (t - 1) * q.b + j + 1) < q.p) & (j < q.b)
        K = K + ops.where(hit, 1.0, 0.0)
    return (q.C * K - q.s * (q.b - K)) / q.b


@dataclass(frozen=True, eq=False)
class Stochastic(Problem):
    """i.i.d. g_t = C with probability p, else −s; p given directly or as p = (1+δ)/(C+1); with a
    mini-batch b > 1, g_t is the mean of b such draws (E g unchanged, variance ÷ b).

    Reddi Thm 3: s = 1, p = (1+δ)/(C+1), so E g = δ; Fig. 1: C = 1010, s = 10, p = 0.01;
    AdaShift paper: C = 101, δ = 0.02, unconstrained; ADOPT toy: C = k², s = k, p = 1/k.

    Examples
    --------
    With C = 101 and the default δ = 0.02, p = 1.02/102 = 0.01 and E g = δ > 0, so x* = −1:

    >>> from adasim import Stochastic
    >>> problem = Stochastic(C=101.0)
    >>> law = problem.law()
    >>> law.values.tolist(), law.probs.round(4).tolist()
    ([101.0, -1.0], [0.01, 0.99])
    >>> round(float(problem.mean_gradient()), 4), problem.optimum().tolist()
    (0.02, [[-1.0]])
    """

    C: Any = 101.0
    s: Any = 1.0
    p: Any = None
    delta: Any = None
    b: Any = 1

    name = "stochastic"
    summary = "i.i.d. g_t = C with probability p, else −s (the mean of b draws with a mini-batch b)"
    source = "Reddi, Kale & Kumar 2018, Theorem 3 and Fig. 1; Zhou et al. 2019; Taniguchi et al. 2024"
    outcome = (
        "Adam drifts to +1 when its factors favour the small gradients (Reddi et al. Theorem 3, AdaShift §3); "
        "shifted scales and AMSGrad reach x* = −1; sign methods follow the median"
    )
    lane_params = ("C", "s", "p", "delta", "b")
    gradient_kernel = staticmethod(stochastic_gradient)

    def validate(self) -> None:
        check_range("C", self.C, 0.0, lo_open=True)
        check_range("mini-batch size b", self.b, 1, 1_000_000, integer=True)
        check_range("small gradient s", self.s, 0.0, lo_open=True)
        if self.p is not None and self.delta is not None:
            raise AdasimError("give either p or delta, not both")
        if self.delta is not None:
            check_range("delta", self.delta, -1.0, lo_open=True)
        if self.p is not None:
            as_lane_array("p", self.p)
        prob = np.atleast_1d(self.probability())
        bad = prob[~((prob > 0) & (prob < 1))]
        if bad.size:
            how = "" if self.p is not None else " (from delta as (1+δ)/(C+1))"
            raise AdasimError(f"p must lie in (0, 1), got {bad[0]:g}{how}")

    def probability(self) -> np.ndarray:
        """p, from p itself, from δ as (1+δ)/(C+1), or the default δ = 0.02."""
        if self.p is not None:
            return np.asarray(self.p, float)
        delta = 0.02 if self.delta is None else self.delta
        return (1.0 + np.asarray(delta, float)) / (np.asarray(self.C, float) + 1.0)

    def kernel_params(self) -> StochasticParams:
        return StochasticParams(lane_column(self.C), lane_column(self.s), lane_column(self.probability()),
                                lane_column(self.b, int))  # fmt: skip

    def law(self) -> Law | None:
        if self.lanes() != 1:
            return None
        p = float(self.probability())
        b = int(self.b)
        if b == 1:
            return Law(np.array([float(self.C), -float(self.s)]), np.array([p, 1.0 - p]))
        from scipy.stats import binom

        K = np.arange(b + 1, dtype=np.float64)  # spikes in the batch: Binomial(b, p)
        return Law((float(self.C) * K - float(self.s) * (b - K)) / b, binom.pmf(np.arange(b + 1), b, p))

    def mean_gradient(self) -> np.ndarray:
        p = self.probability()
        return p * np.asarray(self.C, float) - (1.0 - p) * np.asarray(self.s, float)

    def params(self) -> dict[str, Any]:
        out = super().params()
        p = self.probability()
        out["p"] = p.tolist() if p.ndim else float(p)
        return out
