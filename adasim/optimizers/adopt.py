"""ADOPT (Taniguchi et al., NeurIPS 2024): normalise g_t by the previous v_{t−1}, then average."""

from __future__ import annotations

import math
from typing import NamedTuple

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.base import Definition, Kernel, ScaleLimit, check_beta, out

CLIP_BASES = {
    "official": "c_t = (t−1)^(1/4): the official code counts from 0 at the seeding call, so the first step clips at 1",
    "port": "c_t = t^(1/4): a popular port, whose first step clips at 2^(1/4)",
}


class ADOPTHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.9999
    eps: float = 1e-6
    clip: bool = True
    clip_base: str = "official"


class ADOPTState(NamedTuple):
    m: float = 0.0
    v: float = 0.0


class ClipBound(NamedTuple):
    """c_t: (t−1)^(1/4) (`official`) or t^(1/4) (`port`); ∞ without the clip."""

    c: float = math.inf


def clip_bound(c: ClipBound, hp: ADOPTHyper, t: int) -> ClipBound:
    if not hp.clip:
        return ClipBound(math.inf)
    base = t - 1 if hp.clip_base == "official" else t
    return ClipBound(float(base) ** 0.25)


def adopt_step(s: ADOPTState, hp: ADOPTHyper, g, t: int, alpha, clock: ClipBound):
    """At t = 1: v = g_1², no step. Then ĝ_t = clip(g_t/max(√v_{t−1}, ε), ±c_t);
    m_t = β1 m_{t−1} + (1−β1) ĝ_t;  x ← Π(x − α_t m_t);  v_t = β2 v_{t−1} + (1−β2) g_t².
    pre = ĝ_t/g_t is the scale applied before the momentum (the clip included)."""
    v_prev = s.v
    if t == 1:  # the first call only seeds v
        v = g * g
        g_hat = 0.0
        pre = 0.0
    else:
        v = (1.0 - hp.beta2) * (g * g) + hp.beta2 * v_prev
        pre = 1.0 / ops.maximum(ops.sqrt(v_prev), hp.eps)
        g_hat = g * pre
        if hp.clip:
            g_hat = ops.clip(g_hat, -clock.c, clock.c)
            pre = ops.where(g != 0.0, g_hat / ops.where(g != 0.0, g, 1.0), pre)
    m = (1.0 - hp.beta1) * g_hat + hp.beta1 * s.m
    return ADOPTState(m, v), out(alpha * m, m=m, v=v_prev, pre=pre)


def _check(hp: ADOPTHyper) -> None:
    check_beta("beta1", hp.beta1)
    check_beta("beta2", hp.beta2)
    check_range("eps", hp.eps, 0.0, lo_open=True)


ADOPT = Definition(
    "adopt",
    ADOPTHyper,
    ADOPTState,
    adopt_step,
    rule="ĝ_t = clip(g_t/max(√v_{t−1}, ε), ±t^(1/4));  m_t = β1 m + (1−β1) ĝ_t;  x ← Π(x − α_t m_t)",
    source="Taniguchi et al. 2024 (NeurIPS), official code",
    clock=ClipBound,
    tick=clip_bound,
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    # Q_t = 1/max(√v_{t−1}, ε): the EMA of g² shifted by one step; the clip bound grows to ∞
    scale_limit=lambda hp: ScaleLimit("ema", beta2=float(hp.beta2), shift=1, where="pre", eps=float(hp.eps), form="max"),
    validate=_check,
    conventions={"clip_base": CLIP_BASES},
)
"""ADOPT: ĝ_t = clip(g_t/max(√v_{t−1}, ε), ±t^(1/4));  m_t = β1 m_{t−1} + (1−β1) ĝ_t;  x ← Π(x − α_t m_t);
v_t = β2 v_{t−1} + (1−β2) g_t² (Taniguchi et al. 2024): g_t is scaled by a v that has not seen it.

Examples
--------
Step 1 only sets v_1 = g_1² = 4; step 2 moves by α(1−β1)·g_2/√v_1.

>>> from adasim import ADOPT, Online, simulate
>>> run = simulate(Online(C=2.0), ADOPT(lr=0.1), steps=2, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()  # 0.5 + 0.1·0.1·1/2
[0.5, 0.505]
"""
