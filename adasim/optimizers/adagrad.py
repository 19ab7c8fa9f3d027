"""AdaGrad: the scale is the sum of all squared gradients so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim.optimizers.base import Optimizer, ScaleLimit, Update, check_eps, denominator, lane, reciprocal
from adasim.optimizers.lanestep import EPS_CODE, CompiledForm, adagrad_step
from adasim.scan import ema


class AdagradState(NamedTuple):
    v: np.ndarray


@dataclass(frozen=True, eq=False)
class Adagrad(Optimizer):
    """v_t = v_{t−1} + g_t²;  x ← Π(x − α_t·g_t/(√v_t + ε))  (ε inside the root with eps_mode="inside")."""

    lr: Any = 1e-2
    eps: Any = 1e-10
    eps_mode: str = "outside"

    name = "adagrad"
    rule = "v_t = v_{t−1} + g_t²;  x ← Π(x − α_t g_t/(√v_t + ε))"
    source = "Duchi, Hazan & Singer 2011 (defaults as PyTorch: lr 1e-2, ε 1e-10)"
    lane_params = ("lr", "eps")

    def validate(self) -> None:
        check_eps(self.eps, self.eps_mode, ("outside", "inside"))

    def init(self, shape: tuple[int, int]) -> AdagradState:
        return AdagradState(v=np.zeros(shape))

    def update(self, state: AdagradState, g: np.ndarray, t: np.ndarray) -> tuple[Update, AdagradState]:
        v = ema(1.0, 1.0, g * g, state.v)
        post = reciprocal(denominator(v, lane(self.eps), self.eps_mode))
        return (
            Update(step=self.alpha(t) * post * g, m=g, v=v, pre=np.ones_like(g), post=post),
            AdagradState(v=v[-1]),
        )

    def compiled_form(self) -> CompiledForm:
        return CompiledForm(adagrad_step, (0.0, 0.0, self.eps, EPS_CODE[self.eps_mode]))

    def scale_limit(self) -> ScaleLimit:
        return ScaleLimit("sum", eps=float(self.eps), form=self.eps_mode)
