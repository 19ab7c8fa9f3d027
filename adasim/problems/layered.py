"""Multi-dimensional problems: blocks ("layers") of independent counterexamples whose gradient
scales differ by orders of magnitude, and an ill-conditioned quadratic whose gradients depend on x."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.errors import AdasimError, check_choice, check_range
from adasim.problems.base import Domain, Problem
from adasim.problems.online import Online
from adasim.problems.stochastic import Stochastic
from adasim.random import STREAM_GRADIENT, uniform


def parse_blocks(text: str) -> tuple[tuple[int, float], ...]:
    """'4:1,4:1e-3' → ((4, 1.0), (4, 0.001)): block sizes and gradient scales."""
    try:
        blocks = []
        for part in text.split(","):
            size, _, scale = part.strip().partition(":")
            blocks.append((int(size), float(scale) if scale else 1.0))
    except ValueError:
        raise AdasimError(f"blocks must look like '4:1,4:1e-3' (size:scale, ...), got '{text}'") from None
    return tuple(blocks)


@dataclass(frozen=True, eq=False)
class Layered(Problem):
    """D = Σ sizes coordinates in blocks; coordinate j of block b sees scale_b × its own copy of
    the base counterexample (stochastic: an independent stream; online: the phase shifted by j)."""

    blocks: Any = ((4, 1.0), (4, 1e-3))
    base: str = "stochastic"
    C: float = 10.0
    s: float = 1.0
    p: Any = 0.2
    d: int = 3
    k: int = 1

    name = "layered"
    summary = "blocks of independent counterexamples with gradient scales per block"
    source = "Zhou et al. 2019, §5 (block-wise v); issue: layers whose scales differ by orders of magnitude"
    x_independent = True
    linear = True

    def validate(self) -> None:
        blocks = parse_blocks(self.blocks) if isinstance(self.blocks, str) else tuple(self.blocks)
        if not blocks:
            raise AdasimError("a layered problem needs at least one block")
        for size, scale in blocks:
            if int(size) < 1 or not (np.isfinite(scale) and scale > 0):
                raise AdasimError(f"each block needs a size ≥ 1 and a scale > 0, got {size}:{scale}")
        object.__setattr__(self, "blocks", tuple((int(a), float(b)) for a, b in blocks))
        check_choice("base", self.base, ("stochastic", "online"))
        self.unit()  # validates C, s, p, d, k through the base problem

    @property
    def dim(self) -> int:  # type: ignore[override]
        return sum(size for size, _ in self.blocks)

    def block_sizes(self) -> tuple[int, ...]:
        return tuple(size for size, _ in self.blocks)

    def scales(self) -> np.ndarray:
        return np.concatenate([np.full(size, scale) for size, scale in self.blocks])

    def unit(self) -> Problem:
        """The one-coordinate counterexample every coordinate copies (scale 1)."""
        if self.base == "online":
            return Online(C=self.C, s=self.s, d=self.d, k=self.k)
        return Stochastic(C=self.C, s=self.s, p=self.p)

    def gradients(self, t: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        unit = self.unit()
        cols = []
        for j in range(self.dim):
            if isinstance(unit, Stochastic):
                cols.append(unit.gradients(t, seeds, stream=STREAM_GRADIENT + 64 * (j + 1))[..., 0])
            else:
                cols.append(unit.gradients(np.asarray(t) + j, seeds)[..., 0])
        return np.stack(cols, axis=-1) * self.scales()

    def mean_gradient(self) -> np.ndarray:
        return self.unit().mean_gradient()

    def params(self) -> dict[str, Any]:
        out = super().params()
        out["blocks"] = [list(b) for b in self.blocks]
        return out


def _normal(seeds: np.ndarray, t: int, dim: int) -> np.ndarray:
    """Standard normal draws (L, dim) for step t by Box–Muller on two counter-based uniforms."""
    counters = np.uint64(t) * np.uint64(2 * dim) + np.arange(2 * dim, dtype=np.uint64)
    u = uniform(seeds, counters, STREAM_GRADIENT + 7).T  # (L, 2·dim)
    u1, u2 = np.maximum(u[:, :dim], 1e-300), u[:, dim:]
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@dataclass(frozen=True, eq=False)
class Quadratic(Problem):
    """f(x) = ½ Σ_i h_i x_i² with h_i geometric from 1 to 1/condition; g_t = h ⊙ x + σ·ξ_t.
    The gradients depend on x, so the engine takes its general, step-by-step path."""

    domain: Domain = field(default_factory=lambda: Domain(-np.inf, np.inf))
    size: int = 10
    condition: float = 1e4
    noise: float = 0.0

    name = "quadratic"
    summary = "ill-conditioned quadratic ½ Σ h_i x_i² (+ Gaussian noise): gradients depend on x"
    source = "a smooth control problem"
    x_independent = False
    linear = False
    default_x0 = 1.0

    def validate(self) -> None:
        check_range("size (dimension)", self.size, 1, integer=True)
        check_range("condition", self.condition, 1.0)
        check_range("noise", self.noise, 0.0)

    @property
    def dim(self) -> int:  # type: ignore[override]
        return int(self.size)

    def curvature(self) -> np.ndarray:
        return np.geomspace(1.0, 1.0 / float(self.condition), self.dim)

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        g = self.curvature() * x
        if self.noise > 0:
            g = g + self.noise * _normal(seeds, t, self.dim)
        return g

    def loss(self, x: np.ndarray, t: int, g: np.ndarray) -> np.ndarray:
        return 0.5 * np.sum(self.curvature() * x * x, axis=-1)

    def mean_gradient(self) -> np.ndarray:
        return np.array(0.0)

    def optimum(self) -> np.ndarray:
        return np.zeros((1, self.dim))

    def worst(self) -> np.ndarray:
        return np.full((1, self.dim), np.nan)
