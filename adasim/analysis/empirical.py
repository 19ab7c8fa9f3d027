"""Empirical net update factors (REFERENCE §3), computed from a run in O(T) per lane.

k_s = Q_s · Σ_{t≥s} α_t P_t K(t, s) is the displacement that gradient g_s causes over the whole
run, divided by g_s. adasim reports κ_s = k_s/α_s, the factor in units of the step size at s, so
runs with decaying α_t compare with the constant-step closed forms. For an EMA kernel
K(t, s) = b_s Π_{s<r≤t} a_r the sum obeys S_s = α_s P_s + a_{s+1} S_{s+1}, a backward recursion;
a window kernel is a short sum. The run is consumed block by block: a step's factor is final once
the kernel mass it still misses is below `tol`; the last steps, whose future was not simulated,
are excluded (their number is reported).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.analysis.kernel import ema_coefficients, horizon, window_weights
from adasim.engine import Block, iterate
from adasim.errors import AdasimError
from adasim.optimizers.base import Kernel, Optimizer
from adasim.problems.base import Problem
from adasim.problems.online import Online
from adasim.scan import affine_scan, ema

DEFAULT_TOL = 1e-12


@dataclass(frozen=True)
class NUFChunk:
    """Final net update factors of consecutive steps: t (n,), g and κ = k/α (n, L, D)."""

    t: np.ndarray
    g: np.ndarray
    kappa: np.ndarray


class NUFStream:
    """Turns engine blocks into final κ_s, holding back only the steps whose future still counts."""

    def __init__(self, kernel: Kernel, tol: float = DEFAULT_TOL) -> None:
        self.kernel = kernel
        self.tol = tol
        self.constant = kernel.kind != "ema" or np.all(np.asarray(kernel.lam) == 1.0)
        no_memory = kernel.kind == "ema" and float(np.max(kernel.beta1)) == 0.0
        self.lag = 0 if no_memory else horizon(kernel, tol) if self.constant else None
        self.buf: dict[str, np.ndarray] | None = None
        self.weights = window_weights(kernel) if kernel.kind == "window" else None

    def _append(self, blk: Block) -> None:
        shape = blk.g.shape
        alpha = np.broadcast_to(blk.alpha, shape)
        ap = np.where(blk.warmup, 0.0, alpha * np.broadcast_to(blk.update.post, shape))
        new = {
            "t": blk.t,
            "g": blk.g,
            "ap": ap,
            "alpha": np.where(blk.warmup, np.nan, alpha),
            "q": np.broadcast_to(blk.update.pre, shape),
        }
        if self.kernel.kind == "ema":
            a, b = ema_coefficients(self.kernel, blk.t)
            new["a"], new["b"] = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
        if self.buf is None:
            self.buf = {k: np.array(v) for k, v in new.items()}
        else:
            self.buf = {k: np.concatenate([self.buf[k], new[k]], axis=0) for k in self.buf}

    def _final_rows(self, flush: bool) -> int:
        """How many leading buffered rows have a final factor."""
        n = len(self.buf["t"])
        if flush or self.kernel.kind == "identity":
            return n
        if self.kernel.kind == "window":
            return max(n - (self.weights.shape[0] - 1), 0)
        if self.constant:
            return max(n - self.lag, 0)
        with np.errstate(divide="ignore"):
            log_a = np.log(self.buf["a"]).max(axis=(1, 2))  # the slowest lane decides
        # missing mass of row s: Π_{r=s+1}^{T} a_r
        missing = np.concatenate([np.cumsum(log_a[::-1])[::-1][1:], [0.0]])
        return int(np.argmax(missing > math.log(self.tol))) if np.any(missing > math.log(self.tol)) else n

    def _kappa(self, rows: int) -> np.ndarray:
        buf = self.buf
        ap = buf["ap"]
        if self.kernel.kind == "identity":
            k = buf["q"][:rows] * ap[:rows]
        elif self.kernel.kind == "window":
            w = self.weights
            total = np.zeros_like(ap[:rows])
            for i in range(w.shape[0]):
                total += w[i] * ap[i : i + rows]
            k = buf["q"][:rows] * total
        else:
            # S_s = α_s P_s + a_{s+1} S_{s+1}, run backwards from S_{T+1} = 0
            if self.constant:
                beta1 = np.asarray(self.kernel.beta1, dtype=np.float64)
                coef = beta1[:, None] if beta1.ndim == 1 else beta1
                S = ema(coef, 1.0, ap[::-1], np.zeros(ap.shape[1:]))[::-1]
            else:
                a_next = np.concatenate([buf["a"][1:], np.zeros_like(buf["a"][:1])], axis=0)
                S = affine_scan(a_next[::-1], ap[::-1], np.zeros(ap.shape[1:]))[::-1]
            k = buf["q"][:rows] * buf["b"][:rows] * S[:rows]
        return k / buf["alpha"][:rows]

    def push(self, blk: Block) -> NUFChunk | None:
        self._append(blk)
        return self._emit(flush=False)

    def flush(self) -> NUFChunk | None:
        """The remaining steps with their truncated factors (the caller usually discards them)."""
        return self._emit(flush=True)

    def pending(self) -> int:
        return 0 if self.buf is None else len(self.buf["t"])

    def _emit(self, flush: bool) -> NUFChunk | None:
        rows = self._final_rows(flush)
        if rows == 0:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            kappa = self._kappa(rows)
        out = NUFChunk(self.buf["t"][:rows], self.buf["g"][:rows], kappa)
        self.buf = {k: v[rows:] for k, v in self.buf.items()}
        return out


def nuf_chunks(blocks: Iterable[Block], kernel: Kernel, tol: float = DEFAULT_TOL) -> Iterator[NUFChunk]:
    """Final κ for every step of a run, in order; warm-up steps come out as NaN."""
    stream = NUFStream(kernel, tol)
    for blk in blocks:
        chunk = stream.push(blk)
        if chunk is not None:
            yield chunk


@dataclass
class GroupStats:
    """κ of the gradients of one group (one gradient value, or one phase of a periodic problem)."""

    gradient: float
    phase: int | None
    count: np.ndarray  # per lane
    lane_mean: np.ndarray
    lane_m2: np.ndarray  # Σ (κ − mean)², combined chunk by chunk (Chan et al.), no cancellation
    samples: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def empty(cls, gradient: float, phase: int | None, lanes: int) -> GroupStats:
        return cls(gradient, phase, np.zeros(lanes), np.zeros(lanes), np.zeros(lanes))

    def add(self, kappa: np.ndarray, mask: np.ndarray) -> None:
        """Fold in the masked entries of a (n, L) chunk."""
        n_b = mask.sum(axis=0).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_b = np.where(n_b > 0, np.where(mask, kappa, 0.0).sum(axis=0) / n_b, 0.0)
            m2_b = np.where(mask, (kappa - mean_b) ** 2, 0.0).sum(axis=0)
            n = self.count + n_b
            delta = mean_b - self.lane_mean
            self.lane_mean = np.where(n > 0, self.lane_mean + delta * n_b / np.maximum(n, 1), 0.0)
            self.lane_m2 = self.lane_m2 + m2_b + delta**2 * self.count * n_b / np.maximum(n, 1)
        self.count = n

    @property
    def n(self) -> int:
        return int(self.count.sum())

    @property
    def mean(self) -> float:
        return float(np.sum(self.lane_mean * self.count) / max(self.n, 1))

    @property
    def std(self) -> float:
        """Standard deviation over all samples of all lanes."""
        between = np.sum(self.count * (self.lane_mean - self.mean) ** 2)
        return float(math.sqrt(max((self.lane_m2.sum() + between) / max(self.n, 1), 0.0)))

    def lane_means(self) -> np.ndarray:
        return np.where(self.count > 0, self.lane_mean, np.nan)

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """A Student-t confidence interval for the mean: over independent lanes (seeds) when there
        are at least 5, else over 20 batch means of the kept samples (κ is autocorrelated in time,
        so single samples would understate the error)."""
        from scipy.stats import t as student

        means = self.lane_means()
        means = means[np.isfinite(means)]
        if means.size < 5:
            data = np.concatenate(self.samples) if self.samples else np.array([self.mean])
            means = np.array([b.mean() for b in np.array_split(data, min(20, max(data.size // 5, 1))) if b.size])
        if means.size < 2:
            return float("nan"), float("nan")
        spread = float(np.std(means, ddof=1))
        if spread == 0.0:
            return self.mean, self.mean
        half = float(student.ppf(0.5 + level / 2, means.size - 1)) * spread / math.sqrt(means.size)
        return self.mean - half, self.mean + half


@dataclass(frozen=True)
class EmpiricalNUF:
    """Net update factors measured on a run, grouped by gradient value (and phase)."""

    groups: tuple[GroupStats, ...]
    drift: float  # −mean of κ_s g_s over the counted steps: E[Δx]/α per step, positive = up
    drift_lanes: np.ndarray
    steps_counted: int
    burn_in: int
    excluded_tail: int
    tol: float
    all_steps: NUFChunk | None = None


def default_burn_in(problem: Problem, optimizer: Optimizer, tol: float = 1e-13) -> int:
    """Steps until the transient of the scale and the bias corrections is below tol."""
    limit = optimizer.scale_limit()
    betas = [float(np.max(getattr(optimizer, b))) for b in ("beta1", "beta2") if hasattr(optimizer, b)]
    slow = max([b for b in betas if b > 0] + [0.0])
    steps = math.ceil(math.log(tol) / math.log(slow)) if slow > 0 else 1
    period = int(np.max(problem.d)) if isinstance(problem, Online) else 1
    return steps + int(limit.shift) + period


def empirical_nuf(
    problem: Problem,
    optimizer: Optimizer,
    steps: int,
    seeds: Any = 0,
    x0: Any = 0.0,
    *,
    warmup: int = 0,
    burn_in: int | None = None,
    tol: float = DEFAULT_TOL,
    samples: int = 20_000,
    keep_all: bool = False,
    block: int | None = None,
) -> EmpiricalNUF:
    """Run and measure κ_s for every step after `burn_in`, grouped by phase on the online problem
    and by gradient value otherwise. `samples` per group are kept for distribution plots;
    `keep_all` keeps every (t, g, κ) (memory T × lanes). The factors do not depend on the path
    x_t, so on x-independent problems it is not computed."""
    if burn_in is None:
        burn_in = min(default_burn_in(problem, optimizer), steps // 2)
    if burn_in < 0 or burn_in >= steps:
        raise AdasimError(f"burn-in ({burn_in}) must be at least 0 and below the number of steps ({steps})")
    period = int(problem.d) if isinstance(problem, Online) and np.ndim(problem.d) == 0 else None
    # several coordinates: every (lane, coordinate) pair is a sample path of its own
    groups: dict[tuple[float, int | None], GroupStats] = {}
    drift_sum: np.ndarray | None = None
    counted = 0
    kept: list[NUFChunk] = []
    every = 1
    if block is None:  # about 10^6 values per block array
        lanes = max(np.size(seeds), problem.lanes(), optimizer.lanes())
        block = max(64, min(4096, 2**20 // (lanes * problem.dim)))
    track_x = not problem.x_independent
    blocks = iterate(problem, optimizer, steps, seeds, x0, warmup=warmup, block=block, track_x=track_x)
    stream = NUFStream(optimizer.kernel(), tol)
    for blk in blocks:
        chunk = stream.push(blk)
        if chunk is None:
            continue
        main_t = chunk.t - warmup
        use = main_t > burn_in
        if not np.any(use):
            continue
        n_use = int(use.sum())
        t, g, kappa = main_t[use], chunk.g[use].reshape(n_use, -1), chunk.kappa[use].reshape(n_use, -1)
        if keep_all:
            kept.append(NUFChunk(t, g, kappa))
        lanes = g.shape[1]
        if drift_sum is None:
            drift_sum = np.zeros(lanes)
            every = max(1, (steps - burn_in) * lanes // max(samples, 1))
        drift_sum += np.sum(kappa * g, axis=0)
        counted += len(t)
        phase = (t - 1) % period if period else None
        values = np.unique(g)
        if period is None and values.size > 64:
            raise AdasimError("grouping by gradient value needs a problem with a few discrete gradient values")
        keys = [(float(c), None) for c in values] if period is None else [(None, int(j)) for j in np.unique(phase)]
        for value, j in keys:
            mask = (g == value) if j is None else np.broadcast_to((phase == j)[:, None], g.shape)
            if j is not None:
                value = float(g[mask][0])
            key = (value, j)
            if key not in groups:
                groups[key] = GroupStats.empty(value, j, lanes)
            st = groups[key]
            st.add(kappa, mask)
            sel = kappa[mask]
            if sel.size and sum(s.size for s in st.samples) < samples:
                st.samples.append(sel[::every] if sel.size > every else sel[:1])
    if drift_sum is None or counted == 0:
        raise AdasimError("no step survived the burn-in and the tail: run more steps")
    excluded = stream.pending()
    ordered = tuple(sorted(groups.values(), key=lambda s: (s.phase if s.phase is not None else 0, -s.gradient)))
    drift_lanes = -drift_sum / counted
    all_steps = None
    if keep_all and kept:
        all_steps = NUFChunk(*(np.concatenate([getattr(c, f) for c in kept]) for f in ("t", "g", "kappa")))
    return EmpiricalNUF(
        groups=ordered,
        drift=float(np.mean(drift_lanes)),
        drift_lanes=drift_lanes,
        steps_counted=counted,
        burn_in=burn_in,
        excluded_tail=excluded,
        tol=tol,
        all_steps=all_steps,
    )
