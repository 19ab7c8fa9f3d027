"""RAdam (Liu et al., ICLR 2020): Adam whose adaptive scale is switched on, and rectified, only
once the variance of v̂_t is tractable (ρ_t > 5); before that it is momentum SGD."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.optimizers.base import Definition, Kernel, ScaleLimit, check_moments, out, power

FORMS = {
    "pytorch": "ρ_t > 5: α m̂ r_t √(1−β2^t)/(√v_t + ε) (torch.optim.RAdam: ε added to the uncorrected √v)",
    "optax": "ρ_t ≥ 5: α r_t m̂/(√v̂_t + ε) (optax.radam)",
}


class RAdamHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    form: str = "pytorch"


class RAdamState(NamedTuple):
    m: float = 0.0
    v: float = 0.0


class RAdamClock(NamedTuple):
    """β1^t, β2^t, and the rectifier r_t (0 while the adaptive scale is off)."""

    p1: float = 1.0
    p2: float = 1.0
    r: float = 0.0
    on: float = 0.0  # 1 where the adaptive scale is on


def radam_clock(c: RAdamClock, hp: RAdamHyper, t: int) -> RAdamClock:
    """ρ_∞ = 2/(1−β2) − 1, ρ_t = ρ_∞ − 2t β2^t/(1−β2^t),
    r_t = √((ρ_t−4)(ρ_t−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ_t)) where the scale is on."""
    p1 = power(c.p1, hp.beta1)
    p2 = power(c.p2, hp.beta2)
    rho_inf = 2.0 / (1.0 - hp.beta2) - 1.0
    rho = rho_inf - 2.0 * t * p2 / (1.0 - p2)
    on = ops.where(rho >= 5.0, 1.0, 0.0) if hp.form == "optax" else ops.where(rho > 5.0, 1.0, 0.0)
    num = (rho - 4.0) * (rho - 2.0) * rho_inf
    den = ops.where(on > 0.5, (rho_inf - 4.0) * (rho_inf - 2.0) * rho, 1.0)  # ρ_t > 5 ⇒ ρ_∞ > 5: den > 0
    r = ops.where(on > 0.5, ops.sqrt(ops.maximum(num / den, 0.0)), 0.0)
    return RAdamClock(p1, p2, r, on)


def radam_step(s: RAdamState, hp: RAdamHyper, g, t: int, alpha, clock: RAdamClock):
    """m_t = β1 m + (1−β1) g;  v_t = β2 v + (1−β2) g²;  m̂ = m_t/(1−β1^t); x ← Π(x − α_t m̂_t)
    while the scale is off, else x ← Π(x − α_t r_t m̂_t/(√v̂_t + ε)) (see the forms for ε)."""
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    v = (1.0 - hp.beta2) * (g * g) + hp.beta2 * s.v
    a1 = 1.0 / (1.0 - clock.p1)
    c2 = 1.0 - clock.p2
    if hp.form == "optax":
        scale = clock.r * ops.recip(ops.sqrt(v / c2) + hp.eps)
    else:
        scale = ops.sqrt(c2) * ops.recip(ops.sqrt(v) + hp.eps) * clock.r
    post = a1 * ops.where(clock.on > 0.5, scale, 1.0)
    return RAdamState(m, v), out(alpha * post * m, m=m, v=v, post=post)


RAdam = Definition(
    "radam",
    RAdamHyper,
    RAdamState,
    radam_step,
    rule="Adam's m, v;  x ← Π(x − α_t m̂_t) while ρ_t ≤ 5, then x ← Π(x − α_t r_t m̂_t/(√v̂_t + ε))",
    source="Liu et al. 2020 (ICLR); torch.optim.RAdam 2.13, optax.radam 0.2 (form=optax)",
    clock=RAdamClock,
    tick=radam_clock,
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    # r_t → 1 and the corrections → 1: in the limit the scale is Adam's 1/(√v + ε)
    scale_limit=lambda hp: ScaleLimit("ema", beta2=float(hp.beta2), eps=float(hp.eps)),
    validate=check_moments,
    conventions={"form": FORMS},
)
"""RAdam: Adam's m and v;  x ← Π(x − α_t m̂_t) while ρ_t ≤ 5, then x ← Π(x − α_t r_t m̂_t/(√v̂_t + ε)) (Liu et al. 2020).

Examples
--------
Early on (ρ_t ≤ 5) the variance of v̂ is not trusted: the step is momentum SGD's α·m̂_1 = α·g_1.

>>> from adasim import RAdam, Online, simulate
>>> run = simulate(Online(C=2.0), RAdam(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·2
0.3
"""
