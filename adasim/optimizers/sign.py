"""Sign methods: signSGD, Signum and Lion move every coordinate by ±α_t, whatever the gradient's size.

A sign throws the size of a gradient away, so a rare large gradient weighs no more than a frequent
small one: on an i.i.d. problem signSGD's mean step follows P(g > 0) − P(g < 0), the sign of the
median, not of the mean (docs/REFERENCE.md §6). As a net update factor the sign is a scale:
sign(g) = g/|g| (signSGD: Q_s = 1/|g_s|), sign(m) = m/|m| (Signum: P_t = 1/|m_t|), so every
large gradient gets a small factor — the correlation AdaShift removes, at its most extreme.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.base import Definition, Kernel, SignWeights, check_beta, no_kernel, out
from adasim.optimizers.sgd import NoHyper, NoState


def signsgd_step(s: NoState, hp: NoHyper, g, t: int, alpha):
    """x ← Π(x − α_t·sign(g_t)), sign(0) = 0.  As factors: Q_t = 1/|g_t| (0 where g_t = 0)."""
    pre = ops.recip(ops.abs(g))
    return s, out(alpha * ops.sign(g), m=g, pre=pre)


SignSGD = Definition(
    "signsgd",
    NoHyper,
    NoState,
    signsgd_step,
    rule="x ← Π(x − α_t sign(g_t))",
    source="Bernstein et al. 2018 (ICML); optax.sign_sgd 0.2",
    sign_weights=lambda hp: SignWeights(1.0),
)
"""signSGD: x ← Π(x − α_t sign(g_t)) (Bernstein et al. 2018).

Examples
--------
Only the sign counts: the one large gradient 2 weighs no more than each −1, so x drifts up.

>>> from adasim import SignSGD, Online, simulate
>>> run = simulate(Online(C=2.0), SignSGD(lr=0.1), steps=3, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()
[0.4, 0.5, 0.6]
"""


class SignumHyper(NamedTuple):
    beta1: float = 0.9


class SignumState(NamedTuple):
    m: float = 0.0


def signum_step(s: SignumState, hp: SignumHyper, g, t: int, alpha):
    """m_t = β1 m_{t−1} + (1−β1) g_t;  x ← Π(x − α_t·sign(m_t)).  As factors: P_t = 1/|m_t|."""
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    return SignumState(m), out(alpha * ops.sign(m), m=m, post=ops.recip(ops.abs(m)))


def _check_signum(hp: SignumHyper) -> None:
    check_beta("beta1", hp.beta1)


Signum = Definition(
    "signum",
    SignumHyper,
    SignumState,
    signum_step,
    rule="m_t = β1 m + (1−β1) g_t;  x ← Π(x − α_t sign(m_t))",
    source="Bernstein et al. 2018 (ICML), the EMA form of optax.signum 0.2 (Bernstein's code sums g + β m: "
    "the same signs only for β1 = 0)",
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    sign_weights=lambda hp: SignWeights(1.0 - hp.beta1, (1.0 - hp.beta1) * hp.beta1, hp.beta1),
    validate=_check_signum,
)
"""Signum: m_t = β1 m_{t−1} + (1−β1) g_t;  x ← Π(x − α_t sign(m_t)) (Bernstein et al. 2018, EMA form).

Examples
--------
m = 0.2, 0.08, −0.028: the momentum keeps the sign of the large gradient one step longer.

>>> from adasim import Signum, Online, simulate
>>> run = simulate(Online(C=2.0), Signum(lr=0.1), steps=3, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()
[0.4, 0.3, 0.4]
"""


class LionHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.99
    weight_decay: float = 0.0


class LionState(NamedTuple):
    m: float = 0.0


def lion_step(s: LionState, hp: LionHyper, g, t: int, alpha, x):
    """c_t = sign(β1 m_{t−1} + (1−β1) g_t);  x ← Π(x − α_t (c_t + λ x));  m_t = β2 m_{t−1} + (1−β2) g_t.
    The sign is of a mix of two EMAs of different memory, so there are no exact net update factors."""
    c = ops.sign((1.0 - hp.beta1) * g + hp.beta1 * s.m)
    m = (1.0 - hp.beta2) * g + hp.beta2 * s.m
    return LionState(m), out(alpha * (c + hp.weight_decay * x), m=m)


def _lion_weights(hp: LionHyper) -> SignWeights | None:
    """c_t = (1−β1) g_t + β1 m_{t−1}, m_{t−1} = (1−β2) Σ_{i≥1} β2^(i−1) g_{t−i}; none with decay (a term in x)."""
    if np.any(np.asarray(hp.weight_decay)):
        return None
    return SignWeights(1.0 - hp.beta1, hp.beta1 * (1.0 - hp.beta2), hp.beta2)


def _check_lion(hp: LionHyper) -> None:
    check_beta("beta1", hp.beta1)
    check_beta("beta2", hp.beta2)
    check_range("weight_decay", hp.weight_decay, 0.0)


Lion = Definition(
    "lion",
    LionHyper,
    LionState,
    lion_step,
    rule="c = sign(β1 m + (1−β1) g);  x ← Π(x − α_t (c + λx));  m ← β2 m + (1−β2) g",
    source="Chen et al. 2023 (NeurIPS), Algorithm 2; lion-pytorch 0.2 and optax.lion 0.2 (decay λ·α_t, coupled to lr)",
    kernel=no_kernel,
    sign_weights=_lion_weights,
    validate=_check_lion,
    lr=1e-4,
)
"""Lion: c_t = sign(β1 m_{t−1} + (1−β1) g_t);  x ← Π(x − α_t (c_t + λx));  m_t = β2 m_{t−1} + (1−β2) g_t
(Chen et al. 2023, Algorithm 2).

Examples
--------
The sign of 0.9·m_1 + 0.1·g_2 = 0.9·0.02 − 0.1 < 0: unlike Signum, Lion follows g_2 at once.

>>> from adasim import Lion, Online, simulate
>>> run = simulate(Online(C=2.0), Lion(lr=0.1), steps=3, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()  # same as SignSGD here
[0.4, 0.5, 0.6]
"""
