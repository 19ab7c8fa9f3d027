"""NAdam (Dozat 2016): Adam with Nesterov momentum, in PyTorch's and optax's two forms."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.base import Definition, check_moments, no_kernel, out, power

FORMS = {
    "pytorch": "μ_t = β1(1 − ½·0.96^(tψ)): α[(1−μ_t)/(1−Πμ) g_t + μ_{t+1}/(1−Πμ·μ_{t+1}) m_t]/(√v̂ + ε) (torch.optim.NAdam)",
    "optax": "m̂ = β1 m_t/(1−β1^(t+1)) + (1−β1) g_t/(1−β1^t): α m̂/(√v̂ + ε) (optax.nadam, Dozat's constant μ = β1)",
}


class NAdamHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    momentum_decay: float = 0.004
    form: str = "pytorch"


class NAdamState(NamedTuple):
    m: float = 0.0
    v: float = 0.0


class NAdamClock(NamedTuple):
    """β1^t, β2^t, μ_t, μ_{t+1} and the product Π_{i≤t} μ_i."""

    p1: float = 1.0
    p2: float = 1.0
    mu: float = 0.0
    mu_next: float = 0.0
    prod: float = 1.0


def nadam_clock(c: NAdamClock, hp: NAdamHyper, t: int) -> NAdamClock:
    mu = hp.beta1 * (1.0 - 0.5 * ops.pow(0.96, t * hp.momentum_decay))
    mu_next = hp.beta1 * (1.0 - 0.5 * ops.pow(0.96, (t + 1) * hp.momentum_decay))
    return NAdamClock(power(c.p1, hp.beta1), power(c.p2, hp.beta2), mu, mu_next, c.prod * mu)


def nadam_step(s: NAdamState, hp: NAdamHyper, g, t: int, alpha, clock: NAdamClock):
    """m_t = β1 m + (1−β1) g;  v_t = β2 v + (1−β2) g²;  d_t = √(v_t/(1−β2^t)) + ε; then
    pytorch: x ← Π(x − α_t [(1−μ_t)/(1−Π_{i≤t}μ_i)·g_t + μ_{t+1}/(1−Π_{i≤t+1}μ_i)·m_t]/d_t);
    optax:   x ← Π(x − α_t [β1 m_t/(1−β1^(t+1)) + (1−β1) g_t/(1−β1^t)]/d_t).
    g_t enters twice (in m_t and on its own), so the step has no single momentum kernel."""
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    v = (1.0 - hp.beta2) * (g * g) + hp.beta2 * s.v
    d = ops.sqrt(v / (1.0 - clock.p2)) + hp.eps
    if hp.form == "optax":
        mhat = hp.beta1 * m / (1.0 - clock.p1 * hp.beta1) + (1.0 - hp.beta1) * g / (1.0 - clock.p1)
    else:
        mhat = (1.0 - clock.mu) / (1.0 - clock.prod) * g + clock.mu_next / (1.0 - clock.prod * clock.mu_next) * m
    post = ops.recip(d)
    return NAdamState(m, v), out(alpha * mhat * post, m=m, v=v, post=post)


def _check(hp: NAdamHyper) -> None:
    check_moments(hp)
    check_range("momentum_decay", hp.momentum_decay, 0.0)


NAdam = Definition(
    "nadam",
    NAdamHyper,
    NAdamState,
    nadam_step,
    rule="Adam's m, v;  x ← Π(x − α_t [(1−μ_t)/(1−Πμ) g_t + μ_{t+1}/(1−Πμμ_{t+1}) m_t]/(√v̂_t + ε))",
    source="Dozat 2016 (ICLR workshop); torch.optim.NAdam 2.13 (ψ = 0.004) or optax.nadam 0.2 (form=optax)",
    clock=NAdamClock,
    tick=nadam_clock,
    kernel=no_kernel,
    validate=_check,
    conventions={"form": FORMS},
    lr=2e-3,
)
"""NAdam: Adam's m and v;  x ← Π(x − α_t [(1−μ_t)/(1−Πμ) g_t + μ_{t+1}/(1−Πμ·μ_{t+1}) m_t]/(√v̂_t + ε)) with
μ_t = β1(1 − ½·0.96^(tψ)) (Dozat 2016; PyTorch's form, ψ = momentum_decay).

Examples
--------
The first step, and the same step from the formula (m_1 = 0.2, √v̂_1 = 2):

>>> from adasim import NAdam, Online, simulate
>>> run = simulate(Online(C=2.0), NAdam(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> mu1, mu2 = (0.9 * (1 - 0.5 * 0.96 ** (0.004 * t)) for t in (1, 2))
>>> round(float(run.trace.step[0, 0, 0]), 6), round(0.1 * (2 + mu2 / (1 - mu1 * mu2) * 0.2) / 2, 6)
(0.105645, 0.105645)
"""
