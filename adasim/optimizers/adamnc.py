"""AdamNC: Adam with β2t = 1 − 1/t (v is the mean of all squared gradients) and β1t = β1·λ^(t−1)."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.base import Definition, Kernel, ScaleLimit, check_beta, check_eps, denominator, out

EPS_MODES = {"outside": "α·m/(√v + ε)", "inside": "α·m/√(v + ε)"}


class AdamNCHyper(NamedTuple):
    beta1: float = 0.9
    lam: float = 1.0
    eps: float = 1e-8
    eps_mode: str = "outside"


class AdamNCState(NamedTuple):
    m: float = 0.0
    sum_g2: float = 0.0


class Decay(NamedTuple):
    """λ^(t−1), as a running product."""

    lam_power: float = 1.0


def decay(c: Decay, hp: AdamNCHyper, t: int) -> Decay:
    return Decay(ops.where(t == 1, 1.0, c.lam_power * hp.lam))


def adamnc_step(s: AdamNCState, hp: AdamNCHyper, g, t: int, alpha, clock: Decay):
    """β1t = β1 λ^(t−1): m_t = β1t m_{t−1} + (1−β1t) g_t;  v_t = (1/t) Σ_{s≤t} g_s²;  x ← Π(x − α_t m_t/(√v_t + ε))."""
    beta1_t = hp.beta1 * clock.lam_power
    m = (1.0 - beta1_t) * g + beta1_t * s.m
    total = g * g + s.sum_g2
    v = total / t
    post = ops.recip(denominator(v, hp.eps, hp.eps_mode))
    return AdamNCState(m, total), out(alpha * post * m, m=m, v=v, post=post)


def _check(hp: AdamNCHyper) -> None:
    check_beta("beta1", hp.beta1)
    check_range("lam (λ)", hp.lam, 0.0, 1.0, lo_open=True)
    check_eps(hp.eps)


AdamNC = Definition(
    "adamnc",
    AdamNCHyper,
    AdamNCState,
    adamnc_step,
    rule="β2t = 1 − 1/t, β1t = β1 λ^(t−1);  x ← Π(x − α_t m_t/(√v_t + ε))",
    source="Reddi, Kale & Kumar 2018, §5 (AdamNC)",
    clock=Decay,
    tick=decay,
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1, lam=hp.lam),
    scale_limit=lambda hp: ScaleLimit("mean", eps=float(hp.eps), form=hp.eps_mode),
    validate=_check,
    conventions={"eps_mode": EPS_MODES},
)
"""AdamNC: β2t = 1 − 1/t (v_t the mean of g²), β1t = β1 λ^(t−1);  x ← Π(x − α_t m_t/(√v_t + ε)) (Reddi et al. 2018, §5).

Examples
--------
v_t is the running mean of g_t²: (4 + 1)/2 = 2.5 after two steps.

>>> from adasim import AdamNC, Online, simulate
>>> run = simulate(Online(C=2.0), AdamNC(lr=0.1), steps=2, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.v[:, 0, 0].tolist()
[4.0, 2.5]
"""
