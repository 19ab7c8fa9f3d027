"""The finite-sum counterexample of Zhang et al. 2022 (NeurIPS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.errors import check_choice, check_range
from adasim.problems.base import Problem
from adasim.problems.online import lane_column
from adasim.random import STREAM_GRADIENT, STREAM_SHUFFLE, uniform

SAMPLINGS = {
    "cyclic": "f_0, f_1, ..., f_{n−1}, f_0, ... (the online problem with d = C = n)",
    "shuffle": "a new random order every epoch of n steps",
    "iid": "an index drawn uniformly at random every step",
}


@dataclass(frozen=True, eq=False)
class FiniteSum(Problem):
    """f(x) = Σ_i f_i(x), f_0(x) = n·x, f_i(x) = −x otherwise; one f_i per step, sampled
    cyclically, reshuffled per epoch, or i.i.d. Optimum x* = −1."""

    n: Any = 10
    sampling: str = "cyclic"

    name = "finite-sum"
    summary = "f_0 = n·x, f_i = −x (i ≥ 1), sampled cyclic | shuffle | iid"
    source = "Zhang et al. 2022 (NeurIPS), 'Adam can converge without any modification on update rules'"
    lane_params = ("n",)

    def validate(self) -> None:
        check_range("n functions", self.n, 2, integer=True)
        check_choice("sampling", self.sampling, SAMPLINGS)

    def gradients(self, t: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        t = np.asarray(t, np.int64)
        n = lane_column(self.n, np.int64)
        position = (t[:, None] - 1) % n
        if self.sampling == "cyclic":
            spike = position == 0
        elif self.sampling == "iid":
            u = uniform(seeds, t.astype(np.uint64), STREAM_GRADIENT)
            spike = np.floor(u * n) == 0
        else:  # the other f_i are identical, so an epoch's order matters only through where f_0 lands
            epoch = (t[:, None] - 1) // n
            first, last = int(epoch.min()), int(epoch.max())
            u = uniform(seeds, np.arange(first, last + 1, dtype=np.uint64), STREAM_SHUFFLE)
            where = np.floor(u * n).astype(np.int64)  # (epochs, L): f_0's position in each epoch
            lane = np.arange(len(seeds))[None, :]
            spike = position == where[epoch - first, lane]
        g = np.where(spike, n.astype(np.float64), -1.0)
        return np.broadcast_to(g, (len(t), len(seeds)))[:, :, None].astype(np.float64)

    def mean_gradient(self) -> np.ndarray:
        return 1.0 / np.asarray(self.n, float)
