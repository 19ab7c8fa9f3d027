"""AdamNC: Adam with β2t = 1 − 1/t (v is the mean of all squared gradients) and β1t = β1·λ^(t−1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim.errors import check_range
from adasim.optimizers.base import (
    Kernel,
    Optimizer,
    ScaleLimit,
    Update,
    check_beta,
    check_eps,
    denominator,
    lane,
    reciprocal,
    steps_column,
)
from adasim.optimizers.lanestep import EPS_CODE, CompiledForm, adamnc_step
from adasim.scan import affine_scan, ema


class AdamNCState(NamedTuple):
    m: np.ndarray
    sum_g2: np.ndarray


@dataclass(frozen=True, eq=False)
class AdamNC(Optimizer):
    """β1t = β1 λ^(t−1): m_t = β1t m_{t−1} + (1−β1t) g_t;  v_t = (1/t) Σ_{s≤t} g_s²;  x ← Π(x − α_t m_t/(√v_t + ε))."""

    beta1: Any = 0.9
    lam: Any = 1.0
    eps: Any = 1e-8
    eps_mode: str = "outside"

    name = "adamnc"
    rule = "β2t = 1 − 1/t, β1t = β1 λ^(t−1);  x ← Π(x − α_t m_t/(√v_t + ε))"
    source = "Reddi, Kale & Kumar 2018, §5 (AdamNC)"
    lane_params = ("lr", "beta1", "lam", "eps")

    def validate(self) -> None:
        check_beta("beta1", self.beta1)
        check_range("lam (λ)", self.lam, 0.0, 1.0, lo_open=True)
        check_eps(self.eps, self.eps_mode, ("outside", "inside"))

    def init(self, shape: tuple[int, int]) -> AdamNCState:
        return AdamNCState(m=np.zeros(shape), sum_g2=np.zeros(shape))

    def update(self, state: AdamNCState, g: np.ndarray, t: np.ndarray) -> tuple[Update, AdamNCState]:
        beta1, lam = lane(self.beta1), lane(self.lam)
        tc = steps_column(t)
        if np.all(np.asarray(self.lam) == 1.0):
            m = ema(beta1, 1.0 - beta1, g, state.m)
        else:
            beta1_t = beta1 * np.power(lam, tc - 1.0)
            m = affine_scan(beta1_t, (1.0 - beta1_t) * g, state.m)
        sum_g2 = ema(1.0, 1.0, g * g, state.sum_g2)
        v = sum_g2 / tc
        post = reciprocal(denominator(v, lane(self.eps), self.eps_mode))
        return (
            Update(step=self.alpha(t) * post * m, m=m, v=v, pre=np.ones_like(g), post=post),
            AdamNCState(m=m[-1], sum_g2=sum_g2[-1]),
        )

    def kernel(self) -> Kernel:
        return Kernel("ema", beta1=self.beta1, lam=self.lam)

    def compiled_form(self) -> CompiledForm | None:
        if not np.all(np.asarray(self.lam) == 1.0):  # β1t = β1 λ^(t−1) runs as a prefix scan in NumPy
            return None
        return CompiledForm(adamnc_step, (self.beta1, 0.0, self.eps, EPS_CODE[self.eps_mode]))

    def scale_limit(self) -> ScaleLimit:
        return ScaleLimit("mean", eps=float(self.eps), form=self.eps_mode)
