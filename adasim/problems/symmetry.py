"""The symmetry problem (Dereich, Do, Jentzen & von Wurstemberger, arXiv 2511.06675: on simple
quadratic stochastic problems Adam converges to the minimiser if and only if the data are
symmetric): f_t(θ) = ½(θ − X_t)², X_t i.i.d. with mean μ, variance σ² and third central moment κ₃.

X = μ + σZ with Z a standardised two-point law: Z = √((1−q)/q) with probability q, else
−√(q/(1−q)) (E Z = 0, E Z² = 1, E Z³ = (1 − 2q)/√(q(1 − q)): skewed unless q = ½). The gradient
g_t = θ − X_t depends on θ; the minimiser of E f is θ* = μ.

RMSProp's stationary point is not μ: to first order in 1 − β2 it sits at
μ − (1 − β2)·κ₃/(2σ²) (`stationary_bias`, derived in docs/REFERENCE.md §8), because v_t contains
(1 − β2)·g_t², which makes the step g_t/√v_t shrink the large gradients of the heavy side. A
scale that does not contain g_t (AdaShift's shift n ≥ 1, ADOPT) or that stops moving (AMSGrad's
max) has no such bias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import check_range
from adasim.problems.base import Domain, Problem
from adasim.random import STREAM_GRADIENT, uniform01


class SymmetryParams(NamedTuple):
    mu: float
    sigma: float
    q: float
    z_high: float  # √((1 − q)/q)
    z_low: float  # −√(q/(1 − q))


def symmetry_gradient(p: SymmetryParams, key, t, x):
    """g_t = θ − X_t, X_t = μ + σ·Z_t (Z_t = z_high with probability q, else z_low)."""
    z = ops.where(uniform01(key, t) < p.q, p.z_high, p.z_low)
    return x - (p.mu + p.sigma * z)


def symmetry_loss(p: SymmetryParams, x):
    """E f(θ) − σ²/2 = ½(θ − μ)² (the expected loss, less its constant)."""
    return 0.5 * (x - p.mu) * (x - p.mu)


@dataclass(frozen=True, eq=False)
class Symmetry(Problem):
    """f_t(θ) = ½(θ − X_t)² with skewed X_t (see the module text)."""

    domain: Domain = field(default_factory=lambda: Domain(-math.inf, math.inf))
    mu: float = 0.0
    sigma: float = 1.0
    q: float = 0.1

    name = "symmetry"
    summary = "f_t(θ) = ½(θ − X_t)², X_t skewed (two-point law): Adam's fixed point is biased unless X is symmetric"
    source = "Dereich, Do, Jentzen & von Wurstemberger 2025 (arXiv 2511.06675); bias law: docs/REFERENCE.md §8"
    outcome = (
        "x* = E X; RMSProp/Adam's fixed point sits −(1 − β2)κ₃/(2σ²) away to first order; shifted scales and "
        "AMSGrad have no bias; sign methods go to the median"
    )
    x_independent = False
    linear = False
    gradient_kernel = staticmethod(symmetry_gradient)
    loss_kernel = staticmethod(symmetry_loss)
    streams = STREAM_GRADIENT + 11

    def validate(self) -> None:
        for name in ("mu", "sigma", "q"):
            if np.ndim(getattr(self, name)) != 0:
                from adasim.errors import AdasimError

                raise AdasimError(f"{name} of the symmetry problem is one number for every lane")
        check_range("mu", self.mu)
        check_range("sigma", self.sigma, 0.0, lo_open=True)
        check_range("q", self.q, 0.0, 1.0, lo_open=True, hi_open=True)

    def kernel_params(self) -> SymmetryParams:
        q = float(self.q)
        return SymmetryParams(float(self.mu), float(self.sigma), q, math.sqrt((1 - q) / q), -math.sqrt(q / (1 - q)))

    def skewness(self) -> float:
        """E Z³ = (1 − 2q)/√(q(1 − q)); κ₃ = σ³·E Z³."""
        q = float(self.q)
        return (1 - 2 * q) / math.sqrt(q * (1 - q))

    def third_moment(self) -> float:
        """κ₃ = E (X − μ)³."""
        return float(self.sigma) ** 3 * self.skewness()

    def mean_gradient(self) -> np.ndarray:
        return np.array(0.0)  # at θ*

    def optimum(self) -> np.ndarray:
        return np.full((1, 1), float(self.mu))

    def worst(self) -> np.ndarray:
        return np.full((1, 1), np.nan)

    def sweep_optimum(self) -> np.ndarray:
        return np.array([float(self.mu)])


def stationary_bias(problem: Symmetry, optimizer: Any) -> float | None:
    """θ̄ − θ* of the optimizer's stationary point to first order in 1 − β2 (small steps):
    −(1 − β2)·κ₃/(2σ²) for a scale that is an EMA of g² containing g_t (RMSProp, Adam with β1 = 0),
    0 for one that does not (a shift n ≥ 1, ADOPT) or that stops moving (AMSGrad's max);
    None when the optimizer declares no scale of these kinds (docs/REFERENCE.md §8)."""
    limit = optimizer.scale_limit()
    if limit.statistic == "max-ema" or (limit.statistic == "ema" and (limit.shift >= 1 or limit.where == "pre")):
        return 0.0
    if limit.statistic != "ema" or float(np.max(getattr(optimizer.hp, "beta1", 0.0))) != 0.0:
        return None
    sigma = float(problem.sigma)
    return -(1.0 - float(limit.beta2)) * problem.third_moment() / (2.0 * sigma * sigma)


__all__ = ["Symmetry", "stationary_bias"]
