"""Multi-dimensional problems: blocks ("layers") of independent counterexamples whose gradient
scales differ by orders of magnitude, and an ill-conditioned quadratic whose gradients depend on x."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, check_choice, check_range
from adasim.problems.base import Domain, Problem
from adasim.problems.online import Online
from adasim.problems.stochastic import Stochastic
from adasim.random import STREAM_GRADIENT, lane_keys, uniform01


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


def counterexample(base: str, C: Any, s: Any, p: Any, d: Any, k: Any) -> Problem:
    """The one-coordinate problem that multi-coordinate problems copy: online (C, s, d, k) or stochastic (C, s, p)."""
    if base == "online":
        return Online(C=C, s=s, d=d, k=k)
    return Stochastic(C=C, s=s, p=p)


class LayeredParams(NamedTuple):
    base: str
    C: float
    s: float
    p: float
    d: int
    k: int
    scale: float  # per coordinate
    offset: int  # per coordinate: the online phase shift j


def layered_gradient(q: LayeredParams, key, t):
    """scale_b × the base counterexample's g_t: online with the phase shifted by the coordinate
    index j, or stochastic with a stream of its own per coordinate."""
    if q.base == "online":
        unit = ops.where((t - 1 + q.offset) % q.d < q.k, q.C, -q.s)
    else:
        unit = ops.where(uniform01(key, t) < q.p, q.C, -q.s)
    return unit * q.scale


@dataclass(frozen=True, eq=False)
class Layered(Problem):
    """D = Σ sizes coordinates in blocks; coordinate j of block b sees scale_b × its own copy of
    the base counterexample (stochastic: an independent stream; online: the phase shifted by j).

    Examples
    --------
    Two blocks of two coordinates, the second's gradients a thousand times smaller (g = 10 or −1 in
    the first block, 0.01 or −0.001 in the second):

    >>> import numpy as np
    >>> from adasim import Layered
    >>> problem = Layered(blocks=((2, 1.0), (2, 1e-3)))
    >>> problem.dim, problem.block_sizes()
    (4, (2, 2))
    >>> problem.gradients(np.arange(1, 3), seeds=np.array([0]))[:, 0].tolist()  # steps 1, 2 of seed 0
    [[10.0, -1.0, -0.001, -0.001], [10.0, -1.0, -0.001, 0.01]]
    """

    blocks: Any = ((4, 1.0), (4, 1e-3))
    base: str = "stochastic"
    C: float = 10.0
    s: float = 1.0
    p: Any = 0.2
    d: int = 3
    k: int = 1

    name = "layered"
    summary = "blocks of independent counterexamples with gradient scales per block"
    source = "Zhou et al. 2019, §5 (block-wise v); adasim: layers whose scales differ by orders of magnitude"
    outcome = (
        "a scale per coordinate (Adam) or per block (AdaShift's φ, Adam-mini) runs the base problem on each; "
        "a block shared across scales is set by its largest"
    )
    x_independent = True
    linear = True
    gradient_kernel = staticmethod(layered_gradient)

    def validate(self) -> None:
        blocks = parse_blocks(self.blocks) if isinstance(self.blocks, str) else tuple(self.blocks)
        if not blocks:
            raise AdasimError("a layered problem needs at least one block")
        for size, scale in blocks:
            if int(size) < 1 or not (np.isfinite(scale) and scale > 0):
                raise AdasimError(f"each block needs a size ≥ 1 and a scale > 0, got {size}:{scale}")
        object.__setattr__(self, "blocks", tuple((int(a), float(b)) for a, b in blocks))
        check_choice("base", self.base, ("stochastic", "online"))
        for name, value in (("period d", self.d), ("spikes k", self.k)):  # read by the kernel whatever the base
            if np.ndim(value) != 0:
                raise AdasimError(f"{name} of a layered problem is one number for every lane, got {value!r}")
            check_range(name, value, 1, integer=True)
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
        return counterexample(self.base, self.C, self.s, self.p, self.d, self.k)

    @property
    def uses_seeds(self) -> bool:  # type: ignore[override]
        return self.base == "stochastic"

    def kernel_params(self) -> LayeredParams:
        unit = self.unit()
        p = float(unit.probability()) if isinstance(unit, Stochastic) else 0.0
        return LayeredParams(self.base, float(self.C), float(self.s), p, int(self.d), int(self.k),
                             self.scales(), np.arange(self.dim, dtype=np.int64))  # fmt: skip

    def keys(self, seeds: np.ndarray) -> np.ndarray:
        """An independent stream per coordinate j: STREAM_GRADIENT + 64·(j + 1)."""
        seeds = np.asarray(seeds)
        return np.stack([lane_keys(seeds, STREAM_GRADIENT + 64 * (j + 1)) for j in range(self.dim)], axis=-1)

    def mean_gradient(self) -> np.ndarray:
        return self.unit().mean_gradient()

    def params(self) -> dict[str, Any]:
        out = super().params()
        out["blocks"] = [list(b) for b in self.blocks]
        return out


class QuadraticParams(NamedTuple):
    h: float  # per coordinate: the curvature
    noise: float


def standard_normal(key, t):
    """A standard normal draw for step t: Box–Muller on uniform draws 2t and 2t + 1 of the stream."""
    u1 = ops.maximum(uniform01(key, 2 * t), 1e-300)
    u2 = uniform01(key, 2 * t + 1)
    return ops.sqrt(-2.0 * ops.log(u1)) * ops.cos(2.0 * np.pi * u2)


def quadratic_gradient(q: QuadraticParams, key, t, x):
    """g_t = h ⊙ x + σ·ξ_t, ξ_t standard normal (not drawn when σ = 0: g_t = h ⊙ x + 0)."""
    if q.noise == 0.0:
        return q.h * x + 0.0
    return q.h * x + q.noise * standard_normal(key, t)


def quadratic_loss(q: QuadraticParams, x):
    """½ h x² per coordinate."""
    return 0.5 * q.h * x * x


@dataclass(frozen=True, eq=False)
class Quadratic(Problem):
    """f(x) = ½ Σ_i h_i x_i² with h_i geometric from 1 to 1/condition; g_t = h ⊙ x + σ·ξ_t.
    The gradients depend on x, so the engine takes its general, step-by-step path.

    Examples
    --------
    h = 1, 0.1, 0.01 (condition 100): SGD with α = 1 solves the first coordinate in one step, and the
    others shrink by (1 − h) per step: 0.9⁵⁰ ≈ 0.0052 and 0.99⁵⁰ ≈ 0.605.

    >>> from adasim import SGD, Quadratic, simulate
    >>> run = simulate(Quadratic(size=3, condition=100.0), SGD(lr=1.0), steps=50, x0=1.0, engine="numpy")
    >>> run.final_x[0].round(4).tolist()
    [0.0, 0.0052, 0.605]
    """

    domain: Domain = field(default_factory=lambda: Domain(-np.inf, np.inf))
    size: int = 10
    condition: float = 1e4
    noise: float = 0.0

    name = "quadratic"
    summary = "ill-conditioned quadratic ½ Σ h_i x_i² (+ Gaussian noise): gradients depend on x"
    outcome = "x* = 0: SGD and the adaptive methods converge with α_t → 0 (a sanity case: strongly convex)"
    source = "a smooth control problem"
    x_independent = False
    linear = False
    default_x0 = 1.0
    gradient_kernel = staticmethod(quadratic_gradient)
    loss_kernel = staticmethod(quadratic_loss)
    streams = STREAM_GRADIENT + 7

    def validate(self) -> None:
        check_range("size (dimension)", self.size, 1, integer=True)
        check_range("condition", self.condition, 1.0)
        check_range("noise", self.noise, 0.0)

    @property
    def dim(self) -> int:  # type: ignore[override]
        return int(self.size)

    @property
    def uses_seeds(self) -> bool:  # type: ignore[override]
        """Without noise every seed sees the same gradients."""
        return float(self.noise) != 0.0

    def curvature(self) -> np.ndarray:
        return np.geomspace(1.0, 1.0 / float(self.condition), self.dim)

    def kernel_params(self) -> QuadraticParams:
        return QuadraticParams(self.curvature(), float(self.noise))

    def keys(self, seeds: np.ndarray) -> np.ndarray:
        seeds = np.asarray(seeds)
        return np.stack([lane_keys(seeds, self.streams + 64 * j) for j in range(self.dim)], axis=-1)

    def mean_gradient(self) -> np.ndarray:
        return np.array(0.0)

    def optimum(self) -> np.ndarray:
        return np.zeros((1, self.dim))

    def worst(self) -> np.ndarray:
        return np.full((1, self.dim), np.nan)
