"""Adamax (Kingma & Ba 2015, §7.1): Adam with the L∞ norm, u_t = max(β2 u_{t−1}, |g_t| + ε)."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.optimizers.adam import Corrections, corrections
from adasim.optimizers.base import Definition, Kernel, check_moments, out


class AdamaxHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


class AdamaxState(NamedTuple):
    m: float = 0.0
    u: float = 0.0


def adamax_step(s: AdamaxState, hp: AdamaxHyper, g, t: int, alpha, clock: Corrections):
    """m_t = β1 m + (1−β1) g;  u_t = max(β2 u_{t−1}, |g_t| + ε);  x ← Π(x − α_t m_t/((1−β1^t) u_t)).
    ε sits inside the maximum, as in torch.optim.Adamax and optax.adamax. A spike sets u for
    ~log(C/s)/log(1/β2) steps: the spike itself is divided by |g|, the small gradients after it too."""
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    u = ops.maximum(ops.abs(g) + hp.eps, hp.beta2 * s.u)
    post = clock.a1 * ops.recip(u)
    return AdamaxState(m, u), out(alpha * post * m, m=m, v=u, post=post)


Adamax = Definition(
    "adamax",
    AdamaxHyper,
    AdamaxState,
    adamax_step,
    rule="m_t = β1 m + (1−β1) g;  u_t = max(β2 u, |g| + ε);  x ← Π(x − α_t m_t/((1−β1^t) u_t))",
    source="Kingma & Ba 2015 (ICLR) §7.1; torch.optim.Adamax 2.13 (lr 2e-3), optax.adamax 0.2",
    clock=Corrections,
    tick=corrections,
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    validate=check_moments,
    lr=2e-3,
)
"""Adamax: m_t = β1 m_{t−1} + (1−β1) g_t;  u_t = max(β2 u_{t−1}, |g_t| + ε);  x ← Π(x − α_t m_t/((1−β1^t) u_t))
(Kingma & Ba 2015, §7.1).

Examples
--------
u is a decaying maximum of |g|: after g = 2, −1 it is max(0.999·2, 1) (the trace's v column).

>>> from adasim import Adamax, Online, simulate
>>> run = simulate(Online(C=2.0), Adamax(lr=0.1), steps=2, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.v[:, 0, 0].round(6).tolist()
[2.0, 1.998]
"""
