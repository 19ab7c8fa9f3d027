"""Adafactor (Shazeer & Stern, ICML 2018): a second moment with a growing memory
β̂2_t = 1 − t^(−c), factored into row and column statistics for a matrix, update clipping by the
block's RMS, an optional relative step and scaling by the parameters' RMS.

With `factored`, the problem's blocks are the rows of one matrix (all of one length): the row
statistic R and the column statistic C are kept per coordinate (each repeated over its row or
column) and v̂ = R·C/mean(R). Update clipping u/max(1, RMS(u)/d) divides the whole block by one
number that its largest gradient sets, which is how it can reverse Adam's drift (docs/REFERENCE.md §6).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.base import Definition, Kernel, check_beta, no_kernel, out

FORMS = {
    "optax": "v = β̂ v + (1−β̂)(g² + ε1); u = g/√v̂ (optax.adafactor, the T5/Mesh-TF code)",
    "pytorch": "v = v + t^(−c)(g² − v); u = g/√max(v̂, ε1²) (torch.optim.Adafactor: ε1 clamps instead of adding)",
}


class AdafactorHyper(NamedTuple):
    decay: float = 0.8
    eps: float = 1e-30
    eps2: float = 1e-3
    clip: bool = True
    clip_threshold: float = 1.0
    beta1: float = 0.0
    param_scale: bool = True
    relative_step: bool = False
    factored: bool = False
    form: str = "optax"


class AdafactorClock(NamedTuple):
    """1 − β̂_t = t^(−c): the same for every lane that shares c (ticked once per step, not per cell)."""

    w: float = 1.0


def adafactor_clock(c: AdafactorClock, hp: AdafactorHyper, t: int) -> AdafactorClock:
    return AdafactorClock(ops.pow(float(t), -hp.decay))


class AdafactorState(NamedTuple):
    v: float = 0.0  # unfactored second moment
    r: float = 0.0  # row statistic (factored)
    c: float = 0.0  # column statistic (factored)
    m: float = 0.0  # momentum of the update (β1 > 0)


def adafactor_step(s: AdafactorState, hp: AdafactorHyper, g, t: int, alpha, clock: AdafactorClock, x, blocks=None):
    """β̂_t = 1 − t^(−c);  v_t = β̂_t v + (1−β̂_t)(g_t² + ε1) (factored: R and C, v̂ = R C/mean R);
    u = g_t/√v̂_t;  u ← u/max(1, RMS(u)/d) with `clip`;  ρ_t = min(α_t, 1/√t) with `relative_step` (α = 10⁻²
    gives Shazeer & Stern's), else α_t;  u ← ρ_t u·max(ε2, RMS(x)) with `param_scale`;
    m_t = β1 m + (1−β1) u;  x ← Π(x − m_t)  (no momentum: x ← Π(x − u))."""
    w = clock.w  # 1 − β̂_t = t^(−c)
    g2 = g * g if hp.form == "pytorch" else g * g + hp.eps
    v, r, c = s.v, s.r, s.c
    if hp.factored:
        if hp.form == "pytorch":  # torch's lerp: v + w (target − v)
            r = s.r + w * (ops.block_mean(g2, blocks) - s.r)
            c = s.c + w * (ops.column_mean(g2, blocks) - s.c)
        else:
            r = (1.0 - w) * s.r + w * ops.block_mean(g2, blocks)
            c = (1.0 - w) * s.c + w * ops.column_mean(g2, blocks)
        mean_r = ops.column_mean(r, blocks)  # the mean of the row statistics
        vhat = r * c / (ops.maximum(mean_r, hp.eps) if hp.form == "pytorch" else mean_r)
    else:
        v = s.v + w * (g2 - s.v) if hp.form == "pytorch" else (1.0 - w) * s.v + w * g2
        vhat = v
    scale = 1.0 / ops.sqrt(ops.maximum(vhat, hp.eps * hp.eps) if hp.form == "pytorch" else vhat)
    u = g * scale
    post = scale  # the factor of g_t in u, built beside u (not u/g: no 0/0)
    span = blocks  # RMS over the parameter tensor: a block, or the whole matrix when factored
    if hp.factored and blocks is not None:
        span = (sum(blocks),)
    if hp.clip:
        shrink = ops.maximum(1.0, ops.block_rms(u, span) / hp.clip_threshold)
        u = u / shrink
        post = post / shrink
    rate = ops.minimum(alpha, 1.0 / ops.sqrt(float(t))) if hp.relative_step else alpha
    u = rate * u
    post = post * (rate / alpha)
    if hp.param_scale:
        size = ops.maximum(ops.block_rms(x, span), hp.eps2)
        u = u * size
        post = post * size
    m = (1.0 - hp.beta1) * u + hp.beta1 * s.m
    return AdafactorState(v, r, c, m), out(m, m=m, v=vhat, post=post)


def _check(hp: AdafactorHyper) -> None:
    check_range("decay", hp.decay, 0.0, lo_open=True)
    check_range("eps", hp.eps, 0.0)
    check_range("eps2", hp.eps2, 0.0)
    check_range("clip_threshold", hp.clip_threshold, 0.0, lo_open=True)
    check_beta("beta1", hp.beta1)


def _kernel(hp: AdafactorHyper) -> Kernel:
    """Without momentum, x moves by α_t·P_t·g_t (P_t the update's factor): the identity kernel.
    With it, the EMA runs over ρ_s-scaled updates, not over the gradients."""
    return no_kernel(hp) if np.any(np.asarray(hp.beta1)) else Kernel("identity")


Adafactor = Definition(
    "adafactor",
    AdafactorHyper,
    AdafactorState,
    adafactor_step,
    rule="β̂_t = 1 − t^(−c);  v̂ = EMA_β̂(g² + ε1) (factored R C/mean R);  u = g/√v̂ clipped to RMS ≤ d;  "
    "x ← Π(x − ρ_t max(ε2, RMS(x)) u)",
    source="Shazeer & Stern 2018 (ICML), Algorithms 4–5 with update clipping (§6) and relative step (§8); "
    "optax.adafactor 0.2 (form=optax), torch.optim.Adafactor 2.13 (form=pytorch, relative_step)",
    clock=AdafactorClock,
    tick=adafactor_clock,
    coupled=lambda hp: True,
    kernel=_kernel,
    validate=_check,
    conventions={"form": FORMS},
    lr=1e-2,
)
"""Adafactor: β̂_t = 1 − t^(−c);  v̂ = EMA_β̂(g² + ε1) (factored R C/mean R on matrices);  u = g/√v̂ clipped to
RMS ≤ d;  x ← Π(x − ρ_t max(ε2, RMS(x)) u) (Shazeer & Stern 2018).

Examples
--------
The step is relative to the parameter's size: u_1 = g_1/|g_1| = 1, times ρ·RMS(x_1) = 0.1·0.5.

>>> from adasim import Adafactor, Online, simulate
>>> run = simulate(Online(C=2.0), Adafactor(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·0.5·1
0.45
"""
