"""AMSGrad: the scale never decreases. Three conventions for where the maximum sits (REFERENCE §2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim.errors import check_choice
from adasim.optimizers.base import (
    Kernel,
    Optimizer,
    ScaleLimit,
    Update,
    check_beta,
    check_blocks,
    check_eps,
    denominator,
    lane,
    power_state,
    powers,
    reciprocal,
    reduce_phi,
)
from adasim.optimizers.lanestep import CONVENTION_CODE, EPS_CODE, CompiledForm, amsgrad_step
from adasim.scan import ema, running_max

AMSGRAD_CONVENTIONS = {
    "paper": "v̂_t = max(v̂_{t−1}, v_t), step α m_t/√v̂_t, no bias correction (Reddi et al. 2018, Alg. 2)",
    "pytorch": "max over the raw v, then ÷√(1−β2^t) and + ε, m̂ corrected (torch.optim.Adam(amsgrad=True))",
    "optax": "max over the bias-corrected v̂ (optax.amsgrad)",
}


class AMSGradState(NamedTuple):
    m: np.ndarray
    v: np.ndarray
    v_max: np.ndarray
    p1: np.ndarray  # β1^t and β2^t, carried for the bias corrections
    p2: np.ndarray


@dataclass(frozen=True, eq=False)
class AMSGrad(Optimizer):
    """m, v as Adam;  v̂_t = max(v̂_{t−1}, v_t);  x ← Π(x − α_t m_t/(√v̂_t + ε)) (`paper`; see conventions)."""

    beta1: Any = 0.9
    beta2: Any = 0.999
    eps: Any = 1e-8
    eps_mode: str = "outside"
    convention: str = "paper"
    phi: str = "identity"
    block_sizes: Any = None

    name = "amsgrad"
    rule = "v̂_t = max(v̂_{t−1}, v_t);  x ← Π(x − α_t m_t/(√v̂_t + ε))"
    source = "Reddi, Kale & Kumar 2018, Algorithm 2"
    lane_params = ("lr", "beta1", "beta2", "eps")

    def validate(self) -> None:
        check_beta("beta1", self.beta1)
        check_beta("beta2", self.beta2)
        check_blocks(self.phi, self.block_sizes)
        check_eps(self.eps, self.eps_mode, ("outside", "inside"))
        check_choice("amsgrad convention", self.convention, AMSGRAD_CONVENTIONS)

    def init(self, shape: tuple[int, int]) -> AMSGradState:
        return AMSGradState(
            m=np.zeros(shape), v=np.zeros(shape), v_max=np.zeros(shape), p1=power_state(self.beta1), p2=power_state(self.beta2)
        )

    def update(self, state: AMSGradState, g: np.ndarray, t: np.ndarray) -> tuple[Update, AMSGradState]:
        beta1, beta2, eps = lane(self.beta1), lane(self.beta2), lane(self.eps)
        m = ema(beta1, 1.0 - beta1, g, state.m)
        v = ema(beta2, 1.0 - beta2, reduce_phi(g * g, self.phi, self.block_sizes), state.v)
        p1, p2 = state.p1, state.p2
        if self.convention == "paper":
            v_max = running_max(v, state.v_max)
            post = reciprocal(denominator(v_max, eps, self.eps_mode))
        else:
            p1s, p2s = powers(beta1, p1, len(t)), powers(beta2, p2, len(t))
            c1, c2 = 1.0 - p1s, 1.0 - p2s
            p1, p2 = p1s[-1], p2s[-1]
            if self.convention == "pytorch":
                v_max = running_max(v, state.v_max)
                v_hat = v_max / c2
            else:
                v_max = running_max(v / c2, state.v_max)
                v_hat = v_max
            post = reciprocal(c1 * denominator(v_hat, eps, self.eps_mode))
        return (
            Update(step=self.alpha(t) * post * m, m=m, v=v_max, pre=np.ones_like(g), post=post),
            AMSGradState(m=m[-1], v=v[-1], v_max=v_max[-1], p1=p1, p2=p2),
        )

    def kernel(self) -> Kernel:
        return Kernel("ema", beta1=self.beta1)

    def compiled_form(self) -> CompiledForm | None:
        params = (self.beta1, self.beta2, self.eps, EPS_CODE[self.eps_mode], CONVENTION_CODE[self.convention])
        return CompiledForm(amsgrad_step, params, (0.0, 0.0, 0.0, 1.0, 1.0), coordinatewise=self.phi == "identity")

    def scale_limit(self) -> ScaleLimit:
        optax = self.convention == "optax"
        return ScaleLimit("max-ema", beta2=float(self.beta2), eps=float(self.eps), form=self.eps_mode, corrected_max=optax)
