"""Small problem builders shared by the tests."""

import numpy as np

from adasim import Custom, Domain
from adasim.problems.base import Problem


def sequence_problem(grads, domain=None):
    """A custom problem that replays a fixed scalar gradient sequence (unconstrained by default)."""
    seq = np.asarray(grads, dtype=float)
    return Custom(
        gradient_fn=lambda x, t, seeds: np.full(x.shape, seq[t - 1]),
        loss_fn=lambda x, t: seq[t - 1] * x[:, 0],
        optimum_point=-1.0,
        domain=domain or Domain(-np.inf, np.inf),
    )


class _Replay(Problem):
    """An x-independent linear problem that replays a fixed scalar gradient sequence (so it can
    take the engine's fast paths, the compiled one included)."""

    def __init__(self, grads, domain):
        super().__init__(domain=domain)
        object.__setattr__(self, "seq", np.asarray(grads, dtype=float))

    def gradients(self, t, seeds):
        return np.broadcast_to(self.seq[np.asarray(t) - 1][:, None, None], (len(t), len(seeds), 1)).copy()

    def mean_gradient(self):
        return np.array(self.seq.mean())


def replay_problem(grads, domain=None):
    return _Replay(grads, domain or Domain(-np.inf, np.inf))
