"""AdaBelief (Zhuang et al., NeurIPS 2020): the scale is the EMA of (g_t − m_t)², the gradient's
surprise, instead of g_t². A spike far from the mean still enters its own scale."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.adam import Corrections, corrections
from adasim.optimizers.base import Definition, Kernel, check_moments, out


class AdaBeliefHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-16
    eps_root: float = 1e-16


class AdaBeliefState(NamedTuple):
    m: float = 0.0
    s: float = 0.0


def adabelief_step(st: AdaBeliefState, hp: AdaBeliefHyper, g, t: int, alpha, clock: Corrections):
    """m_t = β1 m + (1−β1) g;  s_t = β2 s_{t−1} + (1−β2)(g_t − m_t)² + ε_root;
    x ← Π(x − α_t m̂_t/(√ŝ_t + ε)), m̂ = m/(1−β1^t), ŝ = s/(1−β2^t) (optax.adabelief: ε_root is
    added to s every step, so it accumulates)."""
    m = (1.0 - hp.beta1) * g + hp.beta1 * st.m
    e = g - m
    s = (1.0 - hp.beta2) * (e * e) + hp.beta2 * st.s + hp.eps_root
    post = clock.a1 * ops.recip(ops.sqrt(s * clock.q2) + hp.eps)
    return AdaBeliefState(m, s), out(alpha * post * m, m=m, v=s, post=post)


def _check(hp: AdaBeliefHyper) -> None:
    check_moments(hp)
    check_range("eps_root", hp.eps_root, 0.0)


AdaBelief = Definition(
    "adabelief",
    AdaBeliefHyper,
    AdaBeliefState,
    adabelief_step,
    rule="m_t = β1 m + (1−β1) g;  s_t = β2 s + (1−β2)(g − m_t)² + ε;  x ← Π(x − α_t m̂_t/(√ŝ_t + ε))",
    source="Zhuang et al. 2020 (NeurIPS), Algorithm 2; optax.adabelief 0.2 (ε = ε_root = 1e-16)",
    clock=Corrections,
    tick=corrections,
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    validate=_check,
)
"""AdaBelief: m_t = β1 m_{t−1} + (1−β1) g_t;  s_t = β2 s_{t−1} + (1−β2)(g_t − m_t)² + ε;
x ← Π(x − α_t m̂_t/(√ŝ_t + ε)) (Zhuang et al. 2020): the scale is the spread of g around m.

Examples
--------
ŝ_1 = (g_1 − m_1)² = (2 − 0.2)² = 3.24, so the first step is α·2/1.8.

>>> from adasim import AdaBelief, Online, simulate
>>> run = simulate(Online(C=2.0), AdaBelief(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1/0.9
0.388889
"""
