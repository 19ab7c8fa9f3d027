"""AdamW (Loshchilov & Hutter, ICLR 2019): Adam with the weight decay taken out of the gradient."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from adasim.errors import check_range
from adasim.optimizers.adam import COMMON, AdamState, Corrections, adam_step
from adasim.optimizers.base import Definition, Kernel, ScaleLimit, no_kernel, out, unknown_limit


class AdamWHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eps_mode: str = "outside"
    bias_correction: bool = True
    phi: str = "identity"
    weight_decay: float = 0.01


def adamw_step(s, hp: AdamWHyper, g, t: int, alpha, clock: Corrections, x, blocks=None):
    """Adam's m_t, v_t and step u_t = m̂_t/(√v̂_t + ε), then x ← Π(x − α_t (u_t + λ x)): the decay
    λ·x is scaled by α_t but not by Adam's 1/(√v̂ + ε) (PyTorch's x·(1 − α_t λ) − α_t u_t)."""
    state, o = adam_step(s, hp, g, t, alpha, clock, blocks)
    return state, out(o.step + alpha * hp.weight_decay * x, m=o.m, v=o.v, post=o.post)


def _check(hp: AdamWHyper) -> None:
    COMMON["validate"](hp)
    check_range("weight_decay", hp.weight_decay, 0.0)


def _decays(hp: AdamWHyper) -> bool:
    return bool(np.any(np.asarray(hp.weight_decay)))


def _kernel(hp: AdamWHyper) -> Kernel:
    """Adam's kernel without decay; with it the step has a term in x, not a gradient's factor."""
    return no_kernel(hp) if _decays(hp) else COMMON["kernel"](hp)


def _limit(hp: AdamWHyper) -> ScaleLimit:
    return unknown_limit(hp) if _decays(hp) else COMMON["scale_limit"](hp)


AdamW = Definition(
    "adamw",
    AdamWHyper,
    AdamState,
    adamw_step,
    rule="Adam's u_t = m̂_t/(√v̂_t + ε);  x ← Π(x − α_t (u_t + λ x))",
    source="Loshchilov & Hutter 2019 (ICLR); torch.optim.AdamW 2.13 (λ 0.01), optax.adamw 0.2 (λ 1e-4)",
    **{**COMMON, "kernel": _kernel, "scale_limit": _limit, "validate": _check},
)
"""AdamW: Adam's u_t = m̂_t/(√v̂_t + ε);  x ← Π(x − α_t (u_t + λx)) (Loshchilov & Hutter 2019; λ 0.01 as PyTorch).

Examples
--------
Adam's first step α plus the decoupled decay α·λ·x_1.

>>> from adasim import AdamW, Online, simulate
>>> run = simulate(Online(C=2.0), AdamW(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·(1 + 0.01·0.5)
0.3995
"""
