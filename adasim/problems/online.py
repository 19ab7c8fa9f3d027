"""The online (periodic) counterexample of Reddi et al. 2018."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, check_range
from adasim.problems.base import Pattern, Problem, lane_column


class OnlineParams(NamedTuple):
    C: float
    s: float
    d: int
    k: int


def online_gradient(p: OnlineParams, key, t):
    """g_t = C if (t−1) mod d < k, else −s."""
    return ops.where((t - 1) % p.d < p.k, p.C, -p.s)


@dataclass(frozen=True, eq=False)
class Online(Problem):
    """f_t(x) = g_t·x with g_t = C if (t−1) mod d < k, else −s; x ∈ [−1, 1] by default.

    Reddi et al. 2018 Theorem 1: d = 3, k = 1, s = 1, C > 2; Fig. 1: C = 1010, s = 10, d = 101;
    Shi et al. 2021: k = 2, d = C.

    Examples
    --------
    With C = 3 the gradients are 3, −1, −1, … with mean (3 − 2)/3 > 0, so the optimum is x* = −1:

    >>> import numpy as np
    >>> from adasim import Online
    >>> problem = Online(C=3.0)
    >>> problem.gradients(np.arange(1, 7), np.array([0]))[:, 0, 0].tolist()
    [3.0, -1.0, -1.0, 3.0, -1.0, -1.0]
    >>> round(float(problem.mean_gradient()), 4), problem.optimum().tolist()
    (0.3333, [[-1.0]])
    """

    C: Any = 10.0
    s: Any = 1.0
    d: Any = 3
    k: Any = 1

    uses_seeds: ClassVar[bool] = False

    name = "online"
    summary = "g_t = C if (t−1) mod d < k else −s (periodic)"
    source = "Reddi, Kale & Kumar 2018, Theorem 1 and Fig. 1; Shi et al. 2021 (k = 2, d = C)"
    outcome = (
        "Adam with β1 = 0, β2 = 1/(1 + C²) ends at the worst point +1 (Reddi et al. Theorem 1); AMSGrad and "
        "AdaShift (n ≥ 1) reach x* = −1"
    )
    lane_params = ("C", "s", "d", "k")
    gradient_kernel = staticmethod(online_gradient)

    def validate(self) -> None:
        check_range("C", self.C, 0.0, lo_open=True)
        check_range("small gradient s", self.s, 0.0, lo_open=True)
        d = check_range("period d", self.d, 1, integer=True)
        k = check_range("spikes k", self.k, 1, integer=True)
        if np.any(k >= d):
            raise AdasimError(f"spikes k must be smaller than the period d (k < d), got k={self.k}, d={self.d}")

    def kernel_params(self) -> OnlineParams:
        return OnlineParams(lane_column(self.C), lane_column(self.s), lane_column(self.d, int), lane_column(self.k, int))

    def phases(self, t: np.ndarray) -> np.ndarray:
        """The phase j = (t−1) mod d of each step, shape (B, L or 1)."""
        t = np.asarray(t, dtype=np.int64)[:, None]
        d = np.asarray(self.d, np.int64)
        return (t - 1) % (d[None, :] if d.ndim == 1 else d)

    def phase_gradients(self) -> np.ndarray:
        """c_j for one period (L or 1, d_max); phases beyond a lane's own d are NaN."""
        d = np.atleast_1d(np.asarray(self.d, np.int64))
        j = np.arange(int(d.max()))[None, :]
        k, C, s = (np.atleast_1d(np.asarray(v))[:, None] for v in (self.k, self.C, self.s))
        c = np.where(j < k, C, -s)
        return np.where(j < d[:, None], c, np.nan)

    def pattern(self) -> Pattern | None:
        """g_1, …, g_d from the gradient kernel itself."""
        if self.lanes() != 1:
            return None
        from adasim.memory import require

        require(16.0 * int(self.d), f"one period of the online problem (d = {int(self.d):,})", "use a smaller -d")
        t = np.arange(1, int(self.d) + 1, dtype=np.int64)
        return Pattern(np.asarray(online_gradient(self.kernel_params(), 0, t), dtype=np.float64))

    def mean_gradient(self) -> np.ndarray:
        C, s, d, k = (np.asarray(v, float) for v in (self.C, self.s, self.d, self.k))
        return (k * C - (d - k) * s) / d
