"""Two scale rules to try with `-o examples/scale_rules.py:NAME` (see the README).

Each is a whole optimizer written the way adasim writes its own: a NamedTuple of
hyper-parameters (the command line sets them by name: --beta1, --beta2, --eps, --shift; any other
with --set KEY=VALUE), a NamedTuple of state (its defaults are the initial state) and one
elementwise step in `adasim.ops`, so it runs compiled, with net update factors and correlations.
Both are m_t = β1 m + (1−β1) g_t;  x ← Π(x − α_t m_t/(√v_t + ε)); they differ in v_t.
"""

from typing import NamedTuple

from adasim import Definition, Kernel, ops, out


class ShiftedHyper(NamedTuple):
    beta1: float = 0.9
    n: int = 1  # the window ends n steps back
    w: int = 10  # and holds w gradients
    eps: float = 1e-8


class MomentumState(NamedTuple):
    m: float = 0.0


def shifted_mean_step(s, hp, g, t, alpha, past):
    """v_t = the mean of g² over the window of w gradients that ends n steps back: it never sees
    g_t (nor, when n ≥ 1, anything still in a one-step momentum)."""
    total = 0.0 * g
    for i in range(ops.most(hp.w)):
        old = ops.where(hp.n + i == 0, g, ops.lag(past, hp.n + i, t))
        total = total + old * old
    seen = ops.minimum(ops.maximum(t - hp.n, 0), hp.w)  # how many of them exist yet
    v = total / ops.maximum(seen, 1)
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    post = ops.recip(ops.sqrt(v) + hp.eps)
    return MomentumState(m), out(alpha * post * m, m=m, v=v, post=post)


ShiftedMean = Definition(
    "ShiftedMean",
    ShiftedHyper,
    MomentumState,
    shifted_mean_step,
    rule="v_t = mean of g² over g_{t−n−w+1} … g_{t−n}",
    history=lambda hp: max(ops.most(hp.n) + ops.most(hp.w) - 1, 1),
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
)


class LeakyHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


class LeakyState(NamedTuple):
    m: float = 0.0
    v: float = 0.0


def leaky_step(s, hp, g, t, alpha):
    """Adam's own v_t = β2 v_{t−1} + (1−β2) g_t², without bias correction: it contains g_t,
    which the correlation report flags."""
    v = hp.beta2 * s.v + (1.0 - hp.beta2) * g * g
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    post = ops.recip(ops.sqrt(v) + hp.eps)
    return LeakyState(m, v), out(alpha * post * m, m=m, v=v, post=post)


Leaky = Definition(
    "Leaky",
    LeakyHyper,
    LeakyState,
    leaky_step,
    rule="v_t = β2 v_{t−1} + (1−β2) g_t²",
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
)
