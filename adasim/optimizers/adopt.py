"""ADOPT (Taniguchi et al., NeurIPS 2024): normalise g_t by the previous v_{t−1}, then average."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim.errors import check_choice, check_range
from adasim.optimizers.base import Kernel, Optimizer, ScaleLimit, Update, check_beta, lane
from adasim.optimizers.lanestep import CompiledForm, adopt_step
from adasim.scan import ema

CLIP_BASES = {
    "official": "c_t = (t−1)^(1/4): the official code counts from 0 at the seeding call, so the first step clips at 1",
    "port": "c_t = t^(1/4): a popular port, whose first step clips at 2^(1/4)",
}


class ADOPTState(NamedTuple):
    m: np.ndarray
    v: np.ndarray


@dataclass(frozen=True, eq=False)
class ADOPT(Optimizer):
    """At t = 1: v = g_1², no step. Then ĝ_t = clip(g_t/max(√v_{t−1}, ε), ±c_t);
    m_t = β1 m_{t−1} + (1−β1) ĝ_t;  x ← Π(x − α_t m_t);  v_t = β2 v_{t−1} + (1−β2) g_t²."""

    beta1: Any = 0.9
    beta2: Any = 0.9999
    eps: Any = 1e-6
    clip: bool = True
    clip_base: str = "official"

    name = "adopt"
    rule = "ĝ_t = clip(g_t/max(√v_{t−1}, ε), ±t^(1/4));  m_t = β1 m + (1−β1) ĝ_t;  x ← Π(x − α_t m_t)"
    source = "Taniguchi et al. 2024 (NeurIPS), official code"
    lane_params = ("lr", "beta1", "beta2", "eps")

    def validate(self) -> None:
        check_beta("beta1", self.beta1)
        check_beta("beta2", self.beta2)
        check_range("eps", self.eps, 0.0, lo_open=True)
        check_choice("clip_base", self.clip_base, CLIP_BASES)

    def init(self, shape: tuple[int, int]) -> ADOPTState:
        return ADOPTState(m=np.zeros(shape), v=np.zeros(shape))

    def update(self, state: ADOPTState, g: np.ndarray, t: np.ndarray) -> tuple[Update, ADOPTState]:
        beta1, beta2, eps = lane(self.beta1), lane(self.beta2), lane(self.eps)
        g2 = g * g
        seeding = int(t[0]) == 1  # the first call only seeds v
        if seeding:
            v = np.concatenate([g2[:1], ema(beta2, 1.0 - beta2, g2[1:], g2[0])], axis=0) if g.shape[0] > 1 else g2.copy()
        else:
            v = ema(beta2, 1.0 - beta2, g2, state.v)
        v_prev = np.concatenate([state.v[None], v[:-1]], axis=0)  # v_{t−1}: the scale of g_t
        pre = 1.0 / np.maximum(np.sqrt(v_prev), eps)
        g_hat = g * pre
        if self.clip:
            c = self.clip_bound(t)[:, None, None]
            g_hat = np.clip(g_hat, -c, c)
            pre = np.divide(g_hat, g, out=pre.copy(), where=g != 0)  # effective Q_s, clip included
        if seeding:
            g_hat[0] = 0.0
            pre[0] = 0.0
        m = ema(beta1, 1.0 - beta1, g_hat, state.m)
        return (
            Update(step=self.alpha(t) * m, m=m, v=v_prev, pre=pre, post=np.ones_like(g)),
            ADOPTState(m=m[-1], v=v[-1]),
        )

    def clip_bound(self, t: np.ndarray) -> np.ndarray:
        """c_t = (t−1)^(1/4) (`official`) or t^(1/4) (`port`); ∞ without the clip."""
        tf = np.asarray(t, dtype=np.float64)
        if not self.clip:
            return np.full(tf.shape, np.inf)
        return np.power(tf - 1.0 if self.clip_base == "official" else tf, 0.25)

    def compiled_form(self) -> CompiledForm:
        return CompiledForm(adopt_step, (self.beta1, self.beta2, self.eps), aux=self.clip_bound)

    def kernel(self) -> Kernel:
        return Kernel("ema", beta1=self.beta1)

    def scale_limit(self) -> ScaleLimit:
        # Q_t = 1/max(√v_{t−1}, ε): the EMA of g² shifted by one step; the clip bound grows to ∞
        return ScaleLimit("ema", beta2=float(self.beta2), shift=1, where="pre", eps=float(self.eps), form="max")
