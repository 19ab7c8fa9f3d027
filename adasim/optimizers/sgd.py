"""Plain and momentum SGD: every gradient gets the same net update factor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim.optimizers.base import Kernel, Optimizer, ScaleLimit, Update, check_beta, lane
from adasim.optimizers.lanestep import CompiledForm, momentum_step, sgd_step
from adasim.scan import ema


class SGDState(NamedTuple):
    pass


@dataclass(frozen=True, eq=False)
class SGD(Optimizer):
    """x ← Π(x − α_t·g_t)."""

    name = "sgd"
    rule = "x ← Π(x − α_t g_t)"
    source = "Robbins & Monro 1951"

    def init(self, shape: tuple[int, int]) -> SGDState:
        return SGDState()

    def update(self, state: SGDState, g: np.ndarray, t: np.ndarray) -> tuple[Update, SGDState]:
        alpha = self.alpha(t)
        ones = np.ones_like(g)
        return Update(step=alpha * g, m=g, v=np.full_like(g, np.nan), pre=ones, post=ones), state

    def scale_limit(self) -> ScaleLimit:
        return ScaleLimit("none")

    def compiled_form(self) -> CompiledForm:
        return CompiledForm(sgd_step, ())


class MomentumState(NamedTuple):
    m: np.ndarray


@dataclass(frozen=True, eq=False)
class Momentum(Optimizer):
    """m_t = β1·m_{t−1} + (1−β1)·g_t;  x ← Π(x − α_t·m_t)."""

    beta1: Any = 0.9

    name = "momentum"
    rule = "m_t = β1 m_{t−1} + (1−β1) g_t;  x ← Π(x − α_t m_t)"
    source = "Polyak 1964 (EMA form, REFERENCE §2)"
    lane_params = ("lr", "beta1")

    def validate(self) -> None:
        check_beta("beta1", self.beta1)

    def init(self, shape: tuple[int, int]) -> MomentumState:
        return MomentumState(m=np.zeros(shape))

    def update(self, state: MomentumState, g: np.ndarray, t: np.ndarray) -> tuple[Update, MomentumState]:
        beta1 = lane(self.beta1)
        m = ema(beta1, 1.0 - beta1, g, state.m)
        ones = np.ones_like(g)
        return (
            Update(step=self.alpha(t) * m, m=m, v=np.full_like(g, np.nan), pre=ones, post=ones),
            MomentumState(m=m[-1]),
        )

    def kernel(self) -> Kernel:
        return Kernel("ema", beta1=self.beta1)

    def compiled_form(self) -> CompiledForm:
        return CompiledForm(momentum_step, (self.beta1,))

    def scale_limit(self) -> ScaleLimit:
        return ScaleLimit("none")
