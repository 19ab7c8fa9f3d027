"""AMSGrad: the scale never decreases. Three conventions for where the maximum sits (docs/REFERENCE.md §2)."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.optimizers.adam import Corrections, corrections
from adasim.optimizers.base import PHI, Definition, Kernel, ScaleLimit, check_beta, check_eps, denominator, out

AMSGRAD_CONVENTIONS = {
    "paper": "v̂_t = max(v̂_{t−1}, v_t), step α m_t/√v̂_t, no bias correction (Reddi et al. 2018, Alg. 2)",
    "pytorch": "max over the raw v, then ÷√(1−β2^t) and + ε, m̂ corrected (torch.optim.Adam(amsgrad=True))",
    "optax": "max over the bias-corrected v̂ (optax.amsgrad)",
}
EPS_MODES = {"outside": "α·m/(√v̂ + ε)", "inside": "α·m/√(v̂ + ε)"}


class AMSGradHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eps_mode: str = "outside"
    convention: str = "paper"
    phi: str = "identity"


class AMSGradState(NamedTuple):
    m: float = 0.0
    v: float = 0.0
    v_max: float = 0.0


def amsgrad_step(s: AMSGradState, hp: AMSGradHyper, g, t: int, alpha, clock: Corrections, blocks=None):
    """m, v as Adam;  v̂_t = max(v̂_{t−1}, v_t);  x ← Π(x − α_t m_t/(√v̂_t + ε)) (`paper`).

    `pytorch`: the maximum of the raw v, then m̂_t/(√(v̂_t/(1−β2^t)) + ε) with m̂ = m/(1−β1^t);
    `optax`: the maximum of the corrected v/(1−β2^t), then m̂_t/(√v̂_t + ε).
    """
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    v = (1.0 - hp.beta2) * ops.reduce(g * g, hp.phi, blocks) + hp.beta2 * s.v
    if hp.convention == "paper":
        v_max = ops.maximum(s.v_max, v)
        post = ops.recip(denominator(v_max, hp.eps, hp.eps_mode))
    elif hp.convention == "pytorch":
        v_max = ops.maximum(s.v_max, v)
        if hp.eps_mode == "inside":
            post = clock.a1 * ops.recip(ops.sqrt(v_max * clock.q2 + hp.eps))
        else:
            post = clock.a1 * ops.recip(ops.sqrt(v_max) * clock.r2 + hp.eps)
    else:
        v_max = ops.maximum(s.v_max, v * clock.q2)
        post = clock.a1 * ops.recip(denominator(v_max, hp.eps, hp.eps_mode))
    return AMSGradState(m, v, v_max), out(alpha * post * m, m=m, v=v_max, post=post)


def _check(hp: AMSGradHyper) -> None:
    check_beta("beta1", hp.beta1)
    check_beta("beta2", hp.beta2)
    check_eps(hp.eps)


def _limit(hp: AMSGradHyper) -> ScaleLimit:
    return ScaleLimit(
        "max-ema", beta2=float(hp.beta2), eps=float(hp.eps), form=hp.eps_mode, corrected_max=hp.convention == "optax"
    )


AMSGrad = Definition(
    "amsgrad",
    AMSGradHyper,
    AMSGradState,
    amsgrad_step,
    rule="v̂_t = max(v̂_{t−1}, v_t);  x ← Π(x − α_t m_t/(√v̂_t + ε))",
    source="Reddi, Kale & Kumar 2018, Algorithm 2",
    clock=Corrections,
    tick=corrections,
    coupled=lambda hp: hp.phi != "identity",
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    scale_limit=_limit,
    validate=_check,
    conventions={"eps_mode": EPS_MODES, "convention": AMSGRAD_CONVENTIONS, "phi": PHI},
)
"""AMSGrad: Adam's m and v, v̂_t = max(v̂_{t−1}, v_t);  x ← Π(x − α_t m_t/(√v̂_t + ε)) (Reddi et al. 2018,
Algorithm 2; the `paper` convention has no bias correction).

Examples
--------
Without bias correction: m_1 = 0.1·2 = 0.2, v_1 = 0.001·4 = 0.004.

>>> from adasim import AMSGrad, Online, simulate
>>> run = simulate(Online(C=2.0), AMSGrad(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·0.2/√0.004
0.183772
"""
