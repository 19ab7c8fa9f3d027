"""Two scale rules to try with `-o examples/scale_rules.py:NAME` (see the README).

A rule gets each step's gradients g (lanes × coordinates) and the step t, and returns v_t, the
scale that divides the momentum. Hyper-parameters are dataclass fields: adasim passes command-line
settings with the same names (--beta2, and any field you add is settable from Python).
"""

from dataclasses import dataclass

import numpy as np

from adasim import ScaleRule


@dataclass
class ShiftedMean(ScaleRule):
    """v_t = the mean of g² over the window of w gradients that ends n steps back.
    It never sees g_t (nor, when n ≥ 1, anything still in a one-step momentum)."""

    n: int = 1
    w: int = 10

    def init(self, shape):
        return np.zeros((self.n + self.w, *shape))  # ring of the last n + w gradients, newest last

    def step(self, state, g, t):
        state = np.concatenate([state[1:], g[None]], axis=0)
        window = state[: self.w]  # the w gradients that end n steps back
        seen = min(max(t - self.n, 0), self.w)  # how many of them exist yet
        v = (window**2).sum(axis=0) / max(seen, 1)
        return v, state


@dataclass
class Leaky(ScaleRule):
    """Adam's own v_t = β2 v_{t−1} + (1−β2) g_t²: it contains g_t, which the report flags."""

    beta2: float = 0.999

    def step(self, state, g, t):
        v = (1.0 - self.beta2) * g * g if state is None else self.beta2 * state + (1.0 - self.beta2) * g * g
        return v, v
