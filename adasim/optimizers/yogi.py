"""Yogi (Zaheer et al., NeurIPS 2018): v moves towards g² by a fixed fraction of g², not of v − g²,
so a spike raises v additively and v forgets it no faster than it learned it."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.adam import Corrections, corrections
from adasim.optimizers.base import Definition, Kernel, check_moments, out


class YogiHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-3
    v0: float = 1e-6


class YogiState(NamedTuple):
    m: float = 0.0
    v: float = 0.0


def yogi_init(hp: YogiHyper) -> YogiState:
    """optax starts both moments at the initial accumulator value v0 (1e-6)."""
    return YogiState(hp.v0, hp.v0)


def yogi_step(s: YogiState, hp: YogiHyper, g, t: int, alpha, clock: Corrections):
    """m_t = β1 m + (1−β1) g;  v_t = v_{t−1} − (1−β2)·sign(v_{t−1} − g_t²)·g_t²;
    x ← Π(x − α_t m̂_t/(√v̂_t + ε)) with both moments bias-corrected (optax.yogi 0.2; m_0 = v_0 = v0,
    so m_t carries β1^t·v0 besides its gradients: below 1e-6·0.9^t, ignored by the factors)."""
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    g2 = g * g
    v = s.v - (1.0 - hp.beta2) * ops.sign(s.v - g2) * g2
    post = clock.a1 * ops.recip(ops.sqrt(v * clock.q2) + hp.eps)
    return YogiState(m, v), out(alpha * post * m, m=m, v=v, post=post)


def _check(hp: YogiHyper) -> None:
    check_moments(hp)
    check_range("v0", hp.v0, 0.0)


Yogi = Definition(
    "yogi",
    YogiHyper,
    YogiState,
    yogi_step,
    rule="m_t = β1 m + (1−β1) g;  v_t = v − (1−β2) sign(v − g²) g²;  x ← Π(x − α_t m̂_t/(√v̂_t + ε))",
    source="Zaheer et al. 2018 (NeurIPS), Algorithm 2; optax.yogi 0.2 (ε 1e-3, m_0 = v_0 = 1e-6)",
    init=yogi_init,
    clock=Corrections,
    tick=corrections,
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    validate=_check,
    lr=1e-2,
)
"""Yogi: m_t = β1 m_{t−1} + (1−β1) g_t;  v_t = v_{t−1} − (1−β2) sign(v_{t−1} − g_t²) g_t²;
x ← Π(x − α_t m̂_t/(√v̂_t + ε)) (Zaheer et al. 2018; optax's ε 1e-3 and v_0 = 1e-6).

Examples
--------
v_1 = 1e-6 + 0.001·4, so the first step is α·2/(√4.001 + 0.001), just under Adam's α.

>>> from adasim import Yogi, Online, simulate
>>> run = simulate(Online(C=2.0), Yogi(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.2/(√4.001 + 0.001)
0.400062
"""
