"""Rank-one spike streams on a matrix W ∈ ℝ^{m×n}: Reddi's stochastic counterexample along fixed
singular directions (docs/REFERENCE.md §7).

**rank-one.** f_t(W) = c_t uᵀWv, so G_t = c_t u vᵀ, with c_t = C with probability p, else −s (the
stochastic problem's law and its stream: c_t is bit for bit the scalar problem's g_t of the same
seed) and u, v fixed unit vectors (given, then normalised, or drawn from `vector_seed`). The
number to read is y = uᵀWv, the only coordinate the loss sees (`sweep_coordinate`).

- SGD moves W by −α_t c_t u vᵀ: from W_0 = 0 it stays W = y u vᵀ and y is scalar SGD on the
  stochastic problem. A method whose step stays on the line of u vᵀ moves only y too: Muon's
  momentum is B_t = b_t u vᵀ (b_t the EMA of c_t), msign(b u vᵀ) = sign(b) u vᵀ, so exact-polar
  Muon without Nesterov moves y as Signum with β = μ (times the shape scale √max(1, m/n); for
  dense u, v see the caveat on msign's cut-off in docs/REFERENCE.md §7).
- A coordinate-wise method sees c_t·u_i v_j in entry (i, j): a scaled copy of the scalar
  problem. With ε = 0 Adam's m/√v is scale-free, so each entry moves as scalar Adam times
  sign(u_i v_j): W_t = z_t sign(u) sign(v)ᵀ, z_t scalar Adam's path, and y_t = z_t ‖u‖₁‖v‖₁.
- Domain: unconstrained by default (y → −∞ where E c > 0: x* at infinity along −u vᵀ). With a
  Frobenius or spectral ball of radius r (`ball`, `radius`): x* = −r sign(E c) u vᵀ (y* = −r;
  for the spectral ball the minimiser of least norm), worst +r sign(E c) u vᵀ; Adam's path
  z_t S (S = sign(u) sign(v)ᵀ, ‖S‖_F = ‖S‖₂ = √(mn) when no entry of u, v is 0) is projected by
  clipping z at r/√(mn), so it ends at best at y = −r‖u‖₁‖v‖₁/√(mn) > −r unless |u_i|, |v_j| are
  all equal. With a box (`--domain lo,hi`, no ball): x*_ij = lo where E c·u_i v_j > 0, else hi.

**rank-two.** G_t = a_t u₁v₁ᵀ + b_t u₂v₂ᵀ, a_t and b_t independent streams of the same law, u₂ =
cos θ u₁ + sin θ u⊥ and v₂ = cos θ v₁ + sin θ v⊥ (u⊥ ⟂ u₁, v⊥ ⟂ v₁ fixed, all drawn from
`vector_seed`). In the bases (u₁, u⊥), (v₁, v⊥) the gradient is the symmetric 2 × 2 core
M_t = a_t e₁e₁ᵀ + b_t w wᵀ, w = (cos θ, sin θ); the rest of W sees 0. θ = 0: G = (a + b) u₁v₁ᵀ,
one rank-one stream of a + b. θ = π/2: two independent rank-one problems on orthogonal singular
directions. θ + π gives the same gradients, and −θ the same problem with u⊥, v⊥ negated (the same
runs for an orthogonally equivariant method). The numbers to read are y₁ = u₁ᵀWv₁ and
y₂ = u₂ᵀWv₂ (`coordinates`); `sweep_coordinate` is their mean ½⟨W, u₁v₁ᵀ + u₂v₂ᵀ⟩.

- SGD: E[Δy₁] = E[Δy₂] = −α(E a + E b cos²θ) (⟨u₁v₁ᵀ, u₂v₂ᵀ⟩ = cos²θ).
- Exact-polar Muon without momentum (β1 = 0): det M = ab sin²θ. If ab > 0, msign(M) = sign(a)·I
  on the core; if ab < 0 it is the reflection (2M − tr M·I)/√((a + b)² − 4ab sin²θ). So
  E[Δy₁]/(−α) = (2p − 1) + 2p(1 − p)(C − s)cos²θ/√((C − s)² + 4Cs sin²θ) (`muon_drift`):
  signSGD's 2p − 1 at θ = π/2, the sign of a + b's 1 − 2(1 − p)² at θ = 0 (C > s), decreasing
  in between (C > s). For 1 − 1/√2 < p < ½ (and pC > (1 − p)s) Muon goes the right way at θ = 0 and the
  wrong way at θ = π/2: the angle decides.
- Adam: entry (i, j) sees a·u₁ᵢv₁ⱼ + b·u₂ᵢv₂ⱼ, a scalar problem of two streams (four values);
  at θ = 0 a scaled copy of the stream a + b, as on rank-one.
- Domain: as rank-one; with a ball, x* = argmin ⟨E G, W⟩ (adasim.problems.balls):
  −r sign(μ) S/‖S‖_F or −r sign(μ) msign(S), S = u₁v₁ᵀ + u₂v₂ᵀ, μ = E a.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.errors import AdasimError, check_range
from adasim.problems import balls
from adasim.problems.base import Domain, Problem
from adasim.problems.stochastic import Stochastic
from adasim.random import STREAM_GRADIENT, lane_keys, uniform01
from adasim.settings import number_text

MAX_SIZE = 256  # m and n: the gradient is m·n entries per lane and step
DEFAULT_SIZE = 4
DEFAULT_P = 0.2  # with C = 10, s = 1: E c = 1.2 > 0, the spike is rare (signSGD's median is −1)


def parse_vector(name: str, value: Any, nonzero: bool = True) -> tuple[float, ...] | None:
    """A vector given as 'a,b,…' (or a sequence of numbers): its entries, finite (and not all 0
    when `nonzero`)."""
    if value is None:
        return None
    if isinstance(value, str):
        parts = [p for p in value.strip().strip("[]()").replace(" ", ",").split(",") if p]
        try:
            value = [float(p) for p in parts]
        except ValueError:
            raise AdasimError(f"{name} must be numbers 'a,b,…', got '{value}'") from None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AdasimError(f"{name} must be numbers 'a,b,…', got {value!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise AdasimError(f"{name} must be a vector of numbers 'a,b,…', got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise AdasimError(f"{name} must be finite, got {arr.tolist()}")
    if nonzero and not np.any(arr != 0.0):
        raise AdasimError(f"{name} is the zero vector: a rank-one stream needs a direction")
    return tuple(float(a) for a in arr)


def vector_text(vector: tuple[float, ...] | None) -> str | None:
    """'a,b,…' as the command line takes it (each entry the shortest text that reads back)."""
    return None if vector is None else ",".join(number_text(a) for a in vector)


def normalised(vector: Any) -> np.ndarray:
    arr = np.asarray(vector, dtype=np.float64)
    return arr / np.linalg.norm(arr)


def spike_stream(law: Stochastic, keys: np.ndarray, t: int) -> np.ndarray:
    """c_t per lane: C if u_t < p, else −s (the stochastic problem's draw t of each key)."""
    p, C, s = (np.asarray(a, dtype=np.float64) for a in (law.probability(), law.C, law.s))
    with np.errstate(over="ignore"):  # the streams' arithmetic is modulo 2^64
        return np.where(uniform01(keys, t) < p, C, -s)


def _lanes_column(value: Any) -> np.ndarray:
    """A scalar or per-lane setting as a (L or 1, 1) column."""
    return np.atleast_1d(np.asarray(value, dtype=np.float64))[:, None]


def _linear_box(coef: np.ndarray, domain: Domain, best: bool) -> np.ndarray:
    """The box's point minimising (best) or maximising Σ coef·x, per coordinate; NaN where coef = 0."""
    lo = np.broadcast_to(np.asarray(domain.lo, float), coef.shape)
    hi = np.broadcast_to(np.asarray(domain.hi, float), coef.shape)
    low, high = (lo, hi) if best else (hi, lo)
    return np.where(coef > 0, low, np.where(coef < 0, high, np.nan))


def _read(x: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """⟨W, direction⟩ per lane for points x (..., L or 1, D) and directions (L or 1, D)."""
    return np.sum(np.asarray(x, dtype=np.float64) * direction, axis=-1)


class SpikeLaw:
    """The spike streams' law, shared by the rank-one and rank-two problems: each stream is Reddi's
    stochastic problem with the dataclass's C, s and p (or δ; p defaults to DEFAULT_P)."""

    def unit(self) -> Stochastic:
        """The scalar problem each stream is (its C, s, p; validates them)."""
        p = DEFAULT_P if self.p is None and self.delta is None else self.p  # type: ignore[attr-defined]
        return Stochastic(C=self.C, s=self.s, p=p, delta=self.delta)  # type: ignore[attr-defined]

    def probability(self) -> np.ndarray:
        return self.unit().probability()


@dataclass(frozen=True, eq=False)
class RankOne(SpikeLaw, balls.MatrixParameter, Problem):
    """G_t = c_t u vᵀ on W ∈ ℝ^{m×n} (see the module text)."""

    domain: Domain = field(default_factory=lambda: Domain(-math.inf, math.inf))
    size: Any = None  # m (None: u's length if u is given, else 4)
    cols: Any = None  # n (None: v's length if v is given, else m)
    C: Any = 10.0
    s: Any = 1.0
    p: Any = None  # None: 0.2 unless δ is given
    delta: Any = None
    u: Any = None  # None: drawn from vector_seed
    v: Any = None
    vector_seed: int = 0
    ball: str = "none"
    radius: Any = 1.0

    name = "rank-one"
    summary = "W (m × n): G_t = c_t u vᵀ, c_t = C w.p. p else −s (Reddi's stochastic law), u, v fixed unit vectors"
    source = "adasim: a rank-one spike stream; Reddi et al. 2018, Theorem 3's law"
    outcome = ("SGD and exact-polar Muon move only y = uᵀWv: scalar SGD, and Signum with β = μ (no Nesterov); "
               "Adam (ε = 0) moves each entry as scalar Adam × sign(u_i v_j), y as scalar Adam × ‖u‖₁‖v‖₁")  # fmt: skip
    lane_params = ("C", "s", "p", "delta", "radius")
    x_independent = False  # not drawn by an elementwise kernel: the NumPy and Python executors call `gradient`
    linear = True
    gradient_kernel = None

    def validate(self) -> None:
        u, v = parse_vector("u (--left)", self.u), parse_vector("v (--right)", self.v)
        object.__setattr__(self, "u", u)
        object.__setattr__(self, "v", v)
        m = self.size if self.size is not None else (len(u) if u is not None else DEFAULT_SIZE)
        check_range("size (m, W's rows)", m, 1, MAX_SIZE, integer=True)
        n = self.cols if self.cols is not None else (len(v) if v is not None else m)
        check_range("cols (n, W's columns)", n, 1, MAX_SIZE, integer=True)
        object.__setattr__(self, "size", int(m))
        object.__setattr__(self, "cols", int(n))
        if u is not None and len(u) != self.size:
            raise AdasimError(f"u (--left) has {len(u)} entries, but W has {self.size} rows (--dim)")
        if v is not None and len(v) != self.cols:
            raise AdasimError(f"v (--right) has {len(v)} entries, but W has {self.cols} columns (--cols)")
        check_range("vector_seed", self.vector_seed, 0, 2**32 - 1, integer=True)
        balls.check_ball(self.ball, self.radius, self.domain)
        self.unit()

    @functools.cached_property
    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(u, v), unit vectors: the given ones normalised, or standard normal draws from
        vector_seed (u from the generator seeded (vector_seed, 1), v from (vector_seed, 2))."""
        seed = int(self.vector_seed)
        u = self.u if self.u is not None else np.random.default_rng((seed, 1)).standard_normal(self.size)
        v = self.v if self.v is not None else np.random.default_rng((seed, 2)).standard_normal(self.cols)
        return normalised(u), normalised(v)

    def direction(self) -> np.ndarray:
        """vec(u vᵀ), (1, m·n)."""
        u, v = self.vectors
        return np.outer(u, v).reshape(1, -1)

    def spikes(self, t: int, seeds: np.ndarray) -> np.ndarray:
        """c_t per lane (L,): the stochastic problem's stream of each seed."""
        return spike_stream(self.unit(), lane_keys(np.atleast_1d(seeds), STREAM_GRADIENT), int(t))

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        """G_t = c_t u vᵀ per lane, its entries row by row: (L, m·n)."""
        g = self.spikes(t, seeds)[:, None] * self.direction()
        return np.array(np.broadcast_to(g, x.shape))

    def mean_gradient(self) -> np.ndarray:
        """E c, per lane."""
        return np.atleast_1d(self.unit().mean_gradient())

    def _extreme(self, best: bool) -> np.ndarray:
        mu = _lanes_column(self.mean_gradient())
        sign = np.sign(mu) if best else -np.sign(mu)
        if self.ball != "none":
            point = -sign * _lanes_column(self.radius) * self.direction() + 0.0  # (+ 0.0: no −0.0 entries)
            return np.where(mu != 0, point, np.nan)
        if self.domain.unconstrained:
            return np.full((1, self.dim), np.nan)
        return _linear_box(mu * self.direction(), self.domain, best)

    def optimum(self) -> np.ndarray:
        """With a ball: −r sign(E c) u vᵀ; with a box: per entry by the sign of E c·u_i v_j;
        unconstrained (the default): NaN (read `sweep_coordinate`, whose optimum is ∓∞)."""
        return self._extreme(True)

    def worst(self) -> np.ndarray:
        return self._extreme(False)

    def sweep_coordinate(self, x: np.ndarray) -> np.ndarray:
        """y = uᵀ W v per lane."""
        return _read(x, self.direction())

    def sweep_optimum(self) -> np.ndarray:
        mu = self.mean_gradient()
        if self.ball == "none" and self.domain.unconstrained:
            return np.where(mu > 0, -np.inf, np.where(mu < 0, np.inf, np.nan))
        opt = self.optimum()
        with np.errstate(invalid="ignore"):
            return np.sum(np.where(self.direction() == 0, 0.0, opt * self.direction()), axis=-1)

    def params(self) -> dict[str, Any]:
        out = super().params()
        p = self.probability()
        out["p"] = p.tolist() if p.ndim else float(p)
        out["u"], out["v"] = vector_text(self.u), vector_text(self.v)
        return out


@dataclass(frozen=True, eq=False)
class RankTwo(SpikeLaw, balls.MatrixParameter, Problem):
    """G_t = a_t u₁v₁ᵀ + b_t u₂v₂ᵀ, u₂ and v₂ at the angle θ from u₁ and v₁ (see the module text)."""

    domain: Domain = field(default_factory=lambda: Domain(-math.inf, math.inf))
    size: Any = DEFAULT_SIZE  # m
    cols: Any = None  # n (None: m)
    C: Any = 10.0
    s: Any = 1.0
    p: Any = None  # None: 0.2 unless δ is given
    delta: Any = None
    theta: Any = math.pi / 4
    vector_seed: int = 0
    ball: str = "none"
    radius: Any = 1.0

    name = "rank-two"
    summary = "W (m × n): G_t = a_t u₁v₁ᵀ + b_t u₂v₂ᵀ, two independent spike streams, (u₂, v₂) at the angle θ from (u₁, v₁)"
    source = "adasim: two coupled rank-one streams; Reddi et al. 2018, Theorem 3's law"
    outcome = ("SGD: E Δy = −α(E a + E b cos²θ); exact-polar Muon without momentum: E Δy/(−α) = (2p − 1) + "
               "2p(1−p)(C−s)cos²θ/√((C−s)² + 4Cs sin²θ), signSGD's median at θ = π/2, the sign of a + b at θ = 0")  # fmt: skip
    lane_params = ("C", "s", "p", "delta", "theta", "radius")
    x_independent = False
    linear = True
    gradient_kernel = None

    def validate(self) -> None:
        check_range("size (m, W's rows)", self.size, 2, MAX_SIZE, integer=True)
        object.__setattr__(self, "size", int(self.size))
        n = self.size if self.cols is None else self.cols
        check_range("cols (n, W's columns)", n, 2, MAX_SIZE, integer=True)
        object.__setattr__(self, "cols", int(n))
        check_range("theta", self.theta)  # finite, one number or one per lane
        check_range("vector_seed", self.vector_seed, 0, 2**32 - 1, integer=True)
        balls.check_ball(self.ball, self.radius, self.domain)
        self.unit()

    @functools.cached_property
    def frame(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(u₁, u⊥, v₁, v⊥): orthonormal pairs, Q of the QR factorisation of standard normal
        m × 2 and n × 2 matrices drawn from vector_seed (R's diagonal made positive)."""
        seed = int(self.vector_seed)
        out = []
        for k, rows in ((1, self.size), (2, self.cols)):
            q, r = np.linalg.qr(np.random.default_rng((seed, k)).standard_normal((rows, 2)))
            q = q * np.sign(np.diag(r))
            out += [q[:, 0], q[:, 1]]
        return out[0], out[1], out[2], out[3]

    def directions(self) -> tuple[np.ndarray, np.ndarray]:
        """vec(u₁v₁ᵀ) (1, m·n) and vec(u₂v₂ᵀ) per lane (L or 1, m·n)."""
        u1, up, v1, vp = self.frame
        theta = _lanes_column(self.theta)
        u2 = np.cos(theta) * u1 + np.sin(theta) * up  # (L, m)
        v2 = np.cos(theta) * v1 + np.sin(theta) * vp
        return np.outer(u1, v1).reshape(1, -1), (u2[:, :, None] * v2[:, None, :]).reshape(len(u2), -1)

    def streams(self, t: int, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(a_t, b_t) per lane: a the stochastic problem's stream of the seed, b an independent one
        (STREAM_GRADIENT + 64)."""
        seeds = np.atleast_1d(seeds)
        law = self.unit()
        return (spike_stream(law, lane_keys(seeds, STREAM_GRADIENT), int(t)),
                spike_stream(law, lane_keys(seeds, STREAM_GRADIENT + 64), int(t)))  # fmt: skip

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        """G_t = a_t u₁v₁ᵀ + b_t u₂v₂ᵀ per lane, row by row: (L, m·n)."""
        a, b = self.streams(t, seeds)
        d1, d2 = self.directions()
        g = a[:, None] * d1 + b[:, None] * d2
        return np.array(np.broadcast_to(g, x.shape))

    def mean_gradient(self) -> np.ndarray:
        """μ = E a = E b, per lane."""
        return np.atleast_1d(self.unit().mean_gradient())

    def coordinates(self, x: np.ndarray) -> np.ndarray:
        """(y₁, y₂) = (u₁ᵀWv₁, u₂ᵀWv₂) for points x (..., L or 1, D): (..., L, 2)."""
        d1, d2 = self.directions()
        return np.stack(np.broadcast_arrays(_read(x, d1), _read(x, d2)), axis=-1)

    def muon_drift(self) -> np.ndarray:
        """E[Δy₁]/(−α) = E[Δy₂]/(−α) of exact-polar Muon without momentum (β1 = 0, m ≤ n or
        lr_scale none), unconstrained, per lane (see the module text)."""
        p, C, s = (np.asarray(a, dtype=np.float64) for a in (self.probability(), self.C, self.s))
        theta = np.asarray(self.theta, dtype=np.float64)
        mixed = 2 * p * (1 - p) * (C - s) * np.cos(theta) ** 2 / np.sqrt((C - s) ** 2 + 4 * C * s * np.sin(theta) ** 2)
        return np.atleast_1d(2 * p - 1 + mixed)

    def _extreme(self, best: bool) -> np.ndarray:
        d1, d2 = self.directions()
        mu = _lanes_column(self.mean_gradient())
        mean = mu * (d1 + d2)  # E G per lane
        if self.ball != "none":
            mean = np.broadcast_to(mean, (max(len(mean), self.lanes()), self.dim))
            return balls.linear_minimiser(mean if best else -mean, self.shape, self.ball, self.radius)
        if self.domain.unconstrained:
            return np.full((1, self.dim), np.nan)
        return _linear_box(mean, self.domain, best)

    def optimum(self) -> np.ndarray:
        """With a ball: the minimiser of ⟨E G, W⟩ on it (adasim.problems.balls); with a box: per
        entry by the sign of E G; unconstrained (the default): NaN (y's optimum is ∓∞)."""
        return self._extreme(True)

    def worst(self) -> np.ndarray:
        return self._extreme(False)

    def sweep_coordinate(self, x: np.ndarray) -> np.ndarray:
        """½(y₁ + y₂) per lane: ⟨W, E G⟩/(2μ)."""
        return self.coordinates(x).mean(axis=-1)

    def sweep_optimum(self) -> np.ndarray:
        mu = self.mean_gradient()
        if self.ball == "none" and self.domain.unconstrained:
            return np.where(mu > 0, -np.inf, np.where(mu < 0, np.inf, np.nan))
        d1, d2 = self.directions()
        opt = self.optimum()
        with np.errstate(invalid="ignore"):
            both = np.stack(np.broadcast_arrays(np.where(d1 == 0, 0.0, opt * d1), np.where(d2 == 0, 0.0, opt * d2)))
        return 0.5 * np.sum(both, axis=(0, -1))

    def params(self) -> dict[str, Any]:
        out = super().params()
        p = self.probability()
        out["p"] = p.tolist() if p.ndim else float(p)
        return out


__all__ = ["RankOne", "RankTwo", "parse_vector"]
