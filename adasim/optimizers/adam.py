"""Adam and RMSProp (Adam with β1 = 0), with the bias-correction and ε conventions of docs/REFERENCE.md §2."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.optimizers.base import (
    EPS_MODES,
    PHI,
    Definition,
    Kernel,
    ScaleLimit,
    check_moments,
    denominator,
    out,
    power,
)


class AdamHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eps_mode: str = "outside"
    bias_correction: bool = True
    phi: str = "identity"


class AdamState(NamedTuple):
    m: float = 0.0
    v: float = 0.0


class Corrections(NamedTuple):
    """β1^t and β2^t (running products) and the bias-correction factors made from them:
    a1 = 1/(1−β1^t), r2 = 1/√(1−β2^t), q2 = 1/(1−β2^t), k = √(1−β2^t)/(1−β1^t)."""

    p1: float = 1.0
    p2: float = 1.0
    a1: float = 1.0
    r2: float = 1.0
    q2: float = 1.0
    k: float = 1.0


def corrections(c: Corrections, hp: AdamHyper, t: int) -> Corrections:
    """The bias corrections of step t, from those of step t − 1."""
    p1 = power(c.p1, hp.beta1)
    p2 = power(c.p2, hp.beta2)
    c1 = 1.0 - p1
    c2 = 1.0 - p2
    root = ops.sqrt(c2)
    return Corrections(p1, p2, 1.0 / c1, 1.0 / root, 1.0 / c2, root / c1)


def adam_post(v, c: Corrections, hp):
    """P_t with step = α_t·P_t·m_t: 1/(√v + ε) without correction, and with it
    (1/(1−β1^t))/(√(v/(1−β2^t)) + ε), the ε-inside form with √(v/(1−β2^t) + ε), or ε-hat's
    √(1−β2^t)/(1−β1^t) · 1/(√v + ε̂)."""
    if not hp.bias_correction:
        return ops.recip(denominator(v, hp.eps, hp.eps_mode))
    if hp.eps_mode == "hat":
        return c.k * ops.recip(ops.sqrt(v) + hp.eps)
    if hp.eps_mode == "inside":
        return c.a1 * ops.recip(ops.sqrt(v * c.q2 + hp.eps))
    return c.a1 * ops.recip(ops.sqrt(v) * c.r2 + hp.eps)


def adam_step(s: AdamState, hp: AdamHyper, g, t: int, alpha, clock: Corrections, blocks=None):
    """m_t = β1 m_{t−1} + (1−β1) g_t;  v_t = β2 v_{t−1} + (1−β2) φ(g_t²);  x ← Π(x − α_t m̂_t/(√v̂_t + ε)).

    Defaults are Kingma & Ba's (β1 0.9, β2 0.999, ε 1e-8 outside the root, bias correction on);
    m̂ = m/(1−β1^t), v̂ = v/(1−β2^t). Reddi et al.'s analysed Adam is `bias_correction=False, eps=0`.
    φ shares v over each block of coordinates (identity: one v per coordinate).
    """
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    v = (1.0 - hp.beta2) * ops.reduce(g * g, hp.phi, blocks) + hp.beta2 * s.v
    post = adam_post(v, clock, hp)
    return AdamState(m, v), out(alpha * post * m, m=m, v=v, post=post)


def _limit(hp: AdamHyper) -> ScaleLimit:
    form = "inside" if hp.eps_mode == "inside" else "outside"
    return ScaleLimit("ema", beta2=float(hp.beta2), eps=float(hp.eps), form=form, phi=hp.phi)


COMMON = {
    "clock": Corrections,
    "tick": corrections,
    "coupled": lambda hp: hp.phi != "identity",
    "kernel": lambda hp: Kernel("ema", beta1=hp.beta1),
    "scale_limit": _limit,
    "validate": check_moments,
    "conventions": {"eps_mode": EPS_MODES, "phi": PHI},
}

Adam = Definition(
    "adam",
    AdamHyper,
    AdamState,
    adam_step,
    rule="m_t = β1 m + (1−β1) g;  v_t = β2 v + (1−β2) g²;  x ← Π(x − α_t m̂_t/(√v̂_t + ε))",
    source="Kingma & Ba 2015; Reddi et al. 2018 (no correction, no ε)",
    **COMMON,
)
"""Adam: m_t = β1 m_{t−1} + (1−β1) g_t;  v_t = β2 v_{t−1} + (1−β2) φ(g_t²);  x ← Π(x − α_t m̂_t/(√v̂_t + ε)),
m̂ = m/(1−β1^t), v̂ = v/(1−β2^t) (Kingma & Ba 2015; Reddi et al.'s analysed Adam is
`bias_correction=False, eps=0`).

Examples
--------
The first bias-corrected step is α whatever the gradient: m̂_1 = g_1 and √v̂_1 = |g_1|.

>>> from adasim import Adam, Online, simulate
>>> run = simulate(Online(C=2.0), Adam(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·2/(2 + 1e-8)
0.4
"""

RMSProp = Definition(
    "rmsprop",
    AdamHyper,
    AdamState,
    adam_step,
    rule="v_t = β2 v + (1−β2) g²;  x ← Π(x − α_t g_t/(√v_t + ε))",
    source="Tieleman & Hinton 2012 (β2 = 0.99 as PyTorch's alpha): Adam with β1 = 0 and no correction",
    defaults={"beta2": 0.99, "bias_correction": False},
    fixed={"beta1": 0.0},
    **COMMON,
)
"""RMSProp: Adam's step with β1 fixed at 0 and no bias correction (β2 = 0.99 as PyTorch's alpha):
v_t = β2 v_{t−1} + (1−β2) g_t²;  x ← Π(x − α_t g_t/(√v_t + ε)).

Examples
--------
Without bias correction the first step is α·g_1/√((1−β2)g_1²) = α/√(1−β2) = 10·α.

>>> from adasim import RMSProp, Online, simulate
>>> run = simulate(Online(C=2.0), RMSProp(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·2/√(0.01·4)
-0.5
"""
