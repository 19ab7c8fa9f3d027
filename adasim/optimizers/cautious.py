"""Adam's update masked or re-signed by the current gradient: Cautious Adam and Grams.

Both read g_t to decide the update's direction, so both bring back what AdaShift removes: a
factor that depends on the gradient it multiplies (docs/REFERENCE.md §6).
"""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.optimizers.adam import COMMON, AdamHyper, AdamState, Corrections, adam_step
from adasim.optimizers.base import EPS_MODES, Definition, Kernel, check_moments, out

MASK_SCALES = {
    "count": "u·φ·d/(Σφ + 1) over the block (pytorch-optimizer 4.1's apply_cautious)",
    "mean": "u·φ/max(mean φ, 10⁻³) over the block",
}


class CautiousHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eps_mode: str = "outside"
    bias_correction: bool = True
    phi: str = "identity"  # fixed: Adam's own v per coordinate
    mask_scale: str = "count"


def cautious_step(s: AdamState, hp: CautiousHyper, g, t: int, alpha, clock: Corrections, blocks=None):
    """u_t = m̂_t/(√v̂_t + ε) (Adam's); φ_t = 1[u_t·g_t > 0]; x ← Π(x − α_t u_t φ_t ρ_t) with the
    block's rescaling ρ_t = d/(Σφ + 1) (`count`) or 1/max(mean φ, 10⁻³) (`mean`). A coordinate
    whose momentum points against its current gradient does not move."""
    state, o = adam_step(s, hp, g, t, alpha, clock)
    phi = ops.where(o.m * g > 0.0, 1.0, 0.0)  # u and m have the same sign
    if hp.mask_scale == "mean":
        rho = 1.0 / ops.maximum(ops.block_mean(phi, blocks), 1e-3)
    else:
        d = ops.block_sum(phi * 0.0 + 1.0, blocks)
        rho = d / (ops.block_sum(phi, blocks) + 1.0)
    post = o.post * phi * rho
    return state, out(alpha * post * o.m, m=o.m, v=o.v, post=post)


CautiousAdam = Definition(
    "cautious-adam",
    CautiousHyper,
    AdamState,
    cautious_step,
    rule="u = m̂/(√v̂ + ε);  φ = 1[u·g > 0];  x ← Π(x − α_t u φ d/(Σφ + 1))",
    source="Liang et al. 2024 (arXiv:2411.16085), C-Adam; pytorch-optimizer 4.1 (cautious=True)",
    clock=Corrections,
    tick=COMMON["tick"],
    coupled=lambda hp: True,
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    validate=check_moments,
    conventions={"eps_mode": EPS_MODES, "mask_scale": MASK_SCALES},
    fixed={"phi": "identity"},
)
"""Cautious Adam (C-Adam): u = m̂/(√v̂ + ε);  φ = 1[u·g > 0];  x ← Π(x − α_t u φ d/(Σφ + 1)) (Liang et al. 2024).

Examples
--------
Step 1 agrees with g (one coordinate: d/(Σφ + 1) = 1/2); at step 2 u > 0 but g < 0, so it is masked.

>>> from adasim import CautiousAdam, Online, simulate
>>> run = simulate(Online(C=2.0), CautiousAdam(lr=0.1), steps=2, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()  # 0.5 − 0.1/2, then no move
[0.45, 0.45]
"""


def grams_step(s: AdamState, hp: AdamHyper, g, t: int, alpha, clock: Corrections):
    """u_t = m̂_t/(√v̂_t + ε) (Adam's);  x ← Π(x − α_t sign(g_t)·|u_t|): Adam's size, the current
    gradient's direction. As factors: Q_t = |u_t|/|g_t| on g_t alone (the identity kernel)."""
    state, o = adam_step(s, hp, g, t, alpha, clock)
    size = ops.abs(o.post * o.m)
    pre = size * ops.recip(ops.abs(g))
    return state, out(alpha * ops.sign(g) * size, m=o.m, v=o.v, pre=pre)


Grams = Definition(
    "grams",
    AdamHyper,
    AdamState,
    grams_step,
    rule="u = m̂/(√v̂ + ε);  x ← Π(x − α_t sign(g_t)|u_t|)",
    source="Cao et al. 2024 (arXiv:2412.17107); pytorch-optimizer 4.1 Grams",
    clock=Corrections,
    tick=COMMON["tick"],
    validate=check_moments,
    conventions={"eps_mode": EPS_MODES},
    fixed={"phi": "identity"},
)
"""Grams: u = m̂/(√v̂ + ε);  x ← Π(x − α_t sign(g_t)|u_t|) (Cao et al. 2024): Adam's size, the gradient's sign.

Examples
--------
Adam's step 2 is +0.026634 (m is still positive); Grams takes its size with the sign of g_2 = −1.

>>> from adasim import Grams, Online, simulate
>>> run = simulate(Online(C=2.0), Grams(lr=0.1), steps=2, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()
[0.4, 0.426634]
"""
