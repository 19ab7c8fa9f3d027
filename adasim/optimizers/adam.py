"""Adam and RMSProp (Adam with β1 = 0), with the bias-correction and ε conventions of REFERENCE §2."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

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
from adasim.optimizers.lanestep import EPS_CODE, CompiledForm, adam_step
from adasim.scan import ema


class AdamState(NamedTuple):
    m: np.ndarray
    v: np.ndarray
    p1: np.ndarray  # β1^t and β2^t, carried for the bias corrections
    p2: np.ndarray


def adam_post(v: np.ndarray, c1: Any, c2: Any, eps: Any, eps_mode: str, bias_correction: bool) -> np.ndarray:
    """P_t with step = α_t·P_t·m_t:  1/(c1 (√(v_t/c2) + ε))  with correction (c_i = 1 − β_i^t),
    √c2/(c1 (√v_t + ε̂))  for ε-hat, and 1/(√v_t + ε) without correction."""
    if not bias_correction:
        return reciprocal(denominator(v, eps, eps_mode))
    if eps_mode == "hat":
        return np.sqrt(c2) * reciprocal(c1 * (np.sqrt(v) + eps))
    return reciprocal(c1 * denominator(v / c2, eps, eps_mode))


@dataclass(frozen=True, eq=False)
class Adam(Optimizer):
    """m_t = β1 m_{t−1} + (1−β1) g_t;  v_t = β2 v_{t−1} + (1−β2) g_t²;  x ← Π(x − α_t m̂_t/(√v̂_t + ε)).

    Defaults are Kingma & Ba's (β1 0.9, β2 0.999, ε 1e-8 outside the root, bias correction on).
    Reddi et al.'s analysed Adam is `bias_correction=False, eps=0`.
    """

    beta1: Any = 0.9
    beta2: Any = 0.999
    eps: Any = 1e-8
    eps_mode: str = "outside"
    bias_correction: bool = True
    phi: str = "identity"
    block_sizes: Any = None

    name = "adam"
    rule = "m_t = β1 m + (1−β1) g;  v_t = β2 v + (1−β2) g²;  x ← Π(x − α_t m̂_t/(√v̂_t + ε))"
    source = "Kingma & Ba 2015; Reddi et al. 2018 (no correction, no ε)"
    lane_params = ("lr", "beta1", "beta2", "eps")

    def validate(self) -> None:
        check_beta("beta1", self.beta1)
        check_beta("beta2", self.beta2)
        check_blocks(self.phi, self.block_sizes)
        check_eps(self.eps, self.eps_mode)

    def init(self, shape: tuple[int, int]) -> AdamState:
        return AdamState(m=np.zeros(shape), v=np.zeros(shape), p1=power_state(self.beta1), p2=power_state(self.beta2))

    def update(self, state: AdamState, g: np.ndarray, t: np.ndarray) -> tuple[Update, AdamState]:
        beta1, beta2 = lane(self.beta1), lane(self.beta2)
        m = ema(beta1, 1.0 - beta1, g, state.m)
        v = ema(beta2, 1.0 - beta2, reduce_phi(g * g, self.phi, self.block_sizes), state.v)
        p1, p2 = powers(beta1, state.p1, len(t)), powers(beta2, state.p2, len(t))
        post = adam_post(v, 1.0 - p1, 1.0 - p2, lane(self.eps), self.eps_mode, bool(self.bias_correction))
        return (
            Update(step=self.alpha(t) * post * m, m=m, v=v, pre=np.ones_like(g), post=post),
            AdamState(m=m[-1], v=v[-1], p1=p1[-1], p2=p2[-1]),
        )

    def kernel(self) -> Kernel:
        return Kernel("ema", beta1=self.beta1)

    def compiled_form(self) -> CompiledForm | None:
        params = (self.beta1, self.beta2, self.eps, EPS_CODE[self.eps_mode], float(bool(self.bias_correction)))
        return CompiledForm(adam_step, params, (0.0, 0.0, 1.0, 1.0), coordinatewise=self.phi == "identity")

    def scale_limit(self) -> ScaleLimit:
        mode = "inside" if self.eps_mode == "inside" else "outside"
        return ScaleLimit("ema", beta2=float(self.beta2), eps=float(self.eps), form=mode, phi=self.phi)


@dataclass(frozen=True, eq=False)
class RMSProp(Adam):
    """v_t = β2 v_{t−1} + (1−β2) g_t²;  x ← Π(x − α_t g_t/(√v_t + ε)): Adam with β1 = 0 and no correction."""

    beta1: Any = dataclasses.field(default=0.0, init=False)
    beta2: Any = 0.99
    bias_correction: bool = False

    name = "rmsprop"
    rule = "v_t = β2 v + (1−β2) g²;  x ← Π(x − α_t g_t/(√v_t + ε))"
    source = "Tieleman & Hinton 2012 (β2 = 0.99 as PyTorch's alpha)"
    lane_params = ("lr", "beta2", "eps")
