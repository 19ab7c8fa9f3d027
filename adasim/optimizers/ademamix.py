"""AdEMAMix (Pagliardini et al., ICLR 2025): Adam plus a second, slow EMA of the gradient."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.adam import Corrections, corrections
from adasim.optimizers.base import Definition, check_beta, check_moments, no_kernel, out


class AdEMAMixHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    beta3: float = 0.9999
    mix: float = 5.0
    eps: float = 1e-8


class AdEMAMixState(NamedTuple):
    m1: float = 0.0
    m2: float = 0.0
    v: float = 0.0


def ademamix_step(s: AdEMAMixState, hp: AdEMAMixHyper, g, t: int, alpha, clock: Corrections):
    """m1_t = β1 m1 + (1−β1) g;  m2_t = β3 m2 + (1−β3) g;  v_t = β2 v + (1−β2) g²;
    x ← Π(x − α_t (m̂1_t + a·m2_t)/(√v̂_t + ε)), a the mix (the paper's α), m2 not bias-corrected;
    no warm-up of a and β3 (optax.contrib.ademamix's defaults). Two EMAs of different memory:
    the factors have no single kernel."""
    m1 = (1.0 - hp.beta1) * g + hp.beta1 * s.m1
    m2 = (1.0 - hp.beta3) * g + hp.beta3 * s.m2
    v = (1.0 - hp.beta2) * (g * g) + hp.beta2 * s.v
    post = ops.recip(ops.sqrt(v * clock.q2) + hp.eps)
    return AdEMAMixState(m1, m2, v), out(alpha * (m1 * clock.a1 + hp.mix * m2) * post, m=m1, v=v, post=post)


def _check(hp: AdEMAMixHyper) -> None:
    check_moments(hp)
    check_beta("beta3", hp.beta3)
    check_range("mix", hp.mix, 0.0)


AdEMAMix = Definition(
    "ademamix",
    AdEMAMixHyper,
    AdEMAMixState,
    ademamix_step,
    rule="m1 = β1 m1 + (1−β1) g;  m2 = β3 m2 + (1−β3) g;  x ← Π(x − α_t (m̂1 + a·m2)/(√v̂ + ε))",
    source="Pagliardini et al. 2025 (ICLR), Algorithm 1 without the a, β3 warm-up; optax.contrib.ademamix 0.2",
    clock=Corrections,
    tick=corrections,
    kernel=no_kernel,
    validate=_check,
)
"""AdEMAMix: m1 = β1 m1 + (1−β1) g;  m2 = β3 m2 + (1−β3) g;  x ← Π(x − α_t (m̂1 + a·m2)/(√v̂ + ε))
(Pagliardini et al. 2025; a = mix, m2 not bias-corrected).

Examples
--------
The slow EMA starts near 0: m2_1 = 1e-4·2, so step 1 is α(2 + 5·2e-4)/2.

>>> from adasim import AdEMAMix, Online, simulate
>>> run = simulate(Online(C=2.0), AdEMAMix(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.trace.step[0, 0, 0]), 6)  # 0.1·2.001/2
0.10005
"""
