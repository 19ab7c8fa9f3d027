"""Plain and momentum SGD: every gradient gets the same net update factor."""

from __future__ import annotations

from typing import NamedTuple

from adasim.optimizers.base import Definition, Kernel, ScaleLimit, check_beta, out


class NoHyper(NamedTuple):
    pass


class NoState(NamedTuple):
    pass


def sgd_step(s: NoState, hp: NoHyper, g: float, t: int, alpha: float):
    """x ← Π(x − α_t·g_t)."""
    return s, out(alpha * g, m=g)


SGD = Definition(
    "sgd",
    NoHyper,
    NoState,
    sgd_step,
    rule="x ← Π(x − α_t g_t)",
    source="Robbins & Monro 1951",
    scale_limit=lambda hp: ScaleLimit("none"),
)
"""Plain SGD: x ← Π(x − α_t g_t).

Examples
--------
Every gradient moves x by α·g: on Reddi et al.'s periodic gradients with C = 2 (mean 0) SGD is back
at x_1 after one period.

>>> from adasim import SGD, Online, simulate
>>> run = simulate(Online(C=2.0), SGD(lr=0.1), steps=3, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()
[0.3, 0.4, 0.5]
"""


class MomentumHyper(NamedTuple):
    beta1: float = 0.9


class MomentumState(NamedTuple):
    m: float = 0.0


def momentum_step(s: MomentumState, hp: MomentumHyper, g: float, t: int, alpha: float):
    """m_t = β1·m_{t−1} + (1−β1)·g_t;  x ← Π(x − α_t·m_t)."""
    m = (1.0 - hp.beta1) * g + hp.beta1 * s.m
    return MomentumState(m), out(alpha * m, m=m)


def _check_momentum(hp: MomentumHyper) -> None:
    check_beta("beta1", hp.beta1)


Momentum = Definition(
    "momentum",
    MomentumHyper,
    MomentumState,
    momentum_step,
    rule="m_t = β1 m_{t−1} + (1−β1) g_t;  x ← Π(x − α_t m_t)",
    source="Polyak 1964 (EMA form, docs/REFERENCE.md §2)",
    kernel=lambda hp: Kernel("ema", beta1=hp.beta1),
    scale_limit=lambda hp: ScaleLimit("none"),
    validate=_check_momentum,
)
"""Momentum SGD (EMA form): m_t = β1 m_{t−1} + (1−β1) g_t;  x ← Π(x − α_t m_t).

Examples
--------
The first step is α·(1−β1)·g_1.

>>> from adasim import Momentum, Online, simulate
>>> run = simulate(Online(C=2.0), Momentum(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·0.1·2
0.48
"""
