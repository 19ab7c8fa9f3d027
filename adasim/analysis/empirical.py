"""Empirical net update factors (docs/REFERENCE.md §3), computed from a run in O(T) per lane.

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

from adasim.analysis.kernel import horizon, lane, window_weights
from adasim.arguments import takes_records
from adasim.display import Shown
from adasim.engine import Block, iterate
from adasim.engine.jit import jit
from adasim.errors import AdasimError, check_range
from adasim.optimizers.base import Kernel, Optimizer
from adasim.problems.base import Problem
from adasim.settings import RunSettings, run_settings

NUF_FIELDS = ("g", "alpha", "pre", "post")  # what the factors need from every step

DEFAULT_TOL = 1e-12


@dataclass(frozen=True)
class NUFChunk:
    """Final net update factors of consecutive steps: t (n,), g and κ = k/α (n, L, D)."""

    t: np.ndarray
    g: np.ndarray
    kappa: np.ndarray


@jit
def _pass(kind, beta1, lam, w, P_g, P_ap, P_q, P_alpha, P_t, n_p, g, alpha, pre, post, t_b, warm, final,
          burn_t, period, values, count, mean, m2, drift, out):  # pragma: no cover - compiled  # fmt: skip
    """One block's pass: the net update factors of the first `final` steps in flight — the
    pending rows P (g_r, α_r P_r, Q_r, α_r, t_r), then the block's per-step fields —
    κ_r = Q_r·α_r P_r (identity, kind 0), Q_r (1−a_r) S_r with S_r = α_r P_r + a_{r+1} S_{r+1}
    down from the last row (EMA, kind 1; a_r = β1·λ^(t_r−1)), or Q_r Σ_i w_i α_{r+i} P_{r+i}
    (window, kind 2), each divided by α_r (warm-up steps do not move x: α_r P_r = 0, κ_r = NaN).
    κ goes to `out` when it has rows, and the steps after burn_t are folded into count, mean and
    M2 = Σ(κ − mean)² per (group, column) — sums shifted by a value near the mean, merged by Chan
    et al.'s update — and Σ κ·g into drift. A group is a phase (t − 1) mod period, or (period 0)
    the index of g among `values`. The rows that are not final move to the front of P. Returns
    the number of steps folded, or −1 — leaving everything as it was — when a gradient is not
    among `values`."""
    B, cells = g.shape
    n = n_p + B
    groups = count.shape[0]
    n_b = np.zeros((groups, cells))
    s1 = np.zeros((groups, cells))
    s2 = np.zeros((groups, cells))
    ref = np.empty((groups, cells))  # the shift of each sum: the mean so far, else its first κ
    unseeded = 0
    for j in range(groups):
        for c in range(cells):
            ref[j, c] = mean[j, c] if count[j, c] > 0.0 else np.nan
            unseeded += count[j, c] == 0.0
    dr = np.zeros(cells)
    k = np.empty(cells)  # the row's factors
    s = np.zeros(cells)
    a = beta1.copy()  # (EMA) a_{r+1}, the coefficient of the row after r
    varying = False
    for c in range(cells):
        varying = varying or lam[c] != 1.0
    folded = 0
    for i in range(n if kind == 1 else final):
        r = n - 1 - i if kind == 1 else i  # the EMA sum runs backwards from the last row
        pend = r < n_p
        b = r - n_p
        tr = P_t[r] if pend else t_b[b]
        if kind == 1:
            if pend:
                for c in range(cells):
                    s[c] = P_ap[r, c] + a[c] * s[c]
            elif warm:
                for c in range(cells):
                    s[c] = a[c] * s[c]
            else:
                for c in range(cells):
                    s[c] = alpha[b, c] * post[b, c] + a[c] * s[c]
            if varying:
                for c in range(cells):
                    a[c] = beta1[c] * lam[c] ** (tr - 1)
            if r >= final:
                continue
            for c in range(cells):
                k[c] = (1.0 - a[c]) * s[c]
        else:
            for c in range(cells):
                k[c] = 0.0
            for tap in range(min(w.shape[0], n - r)):
                q = r + tap
                if q < n_p:
                    for c in range(cells):
                        k[c] += w[tap, c] * P_ap[q, c]
                elif not warm:
                    for c in range(cells):
                        k[c] += w[tap, c] * (alpha[q - n_p, c] * post[q - n_p, c])
        if pend:
            for c in range(cells):
                k[c] = P_q[r, c] * k[c] / P_alpha[r, c]
        elif warm:
            for c in range(cells):
                k[c] = np.nan
        else:
            for c in range(cells):
                k[c] = pre[b, c] * k[c] / alpha[b, c]
        if out.shape[0] > 0:
            for c in range(cells):
                out[r, c] = k[c]
        if groups == 0 or tr <= burn_t:
            continue
        folded += 1
        gr = P_g[r] if pend else g[b]
        if unseeded > 0:  # groups that have no shift yet take this row's κ where they occur
            for j in range(groups):
                for c in range(cells):
                    member = (tr - 1) % period == j if period > 0 else gr[c] == values[j]
                    if member and ref[j, c] != ref[j, c]:
                        ref[j, c] = k[c]
                        unseeded -= 1
        if period > 0:
            j = (tr - 1) % period
            for c in range(cells):
                d = k[c] - ref[j, c]
                n_b[j, c] += 1.0
                s1[j, c] += d
                s2[j, c] += d * d
        else:
            for j in range(groups):
                vj = values[j]
                for c in range(cells):
                    hit = gr[c] == vj
                    d = k[c] - ref[j, c] if hit else 0.0
                    n_b[j, c] += 1.0 if hit else 0.0
                    s1[j, c] += d
                    s2[j, c] += d * d
        for c in range(cells):
            dr[c] += k[c] * gr[c]
    if groups > 0:
        matched = 0.0
        for j in range(groups):
            for c in range(cells):
                matched += n_b[j, c]
        if matched != folded * cells:
            return -1  # a gradient outside `values`: nothing folded, nothing moved
    for j in range(groups):
        for c in range(cells):
            nb = n_b[j, c]
            if nb > 0.0:
                mean_b = ref[j, c] + s1[j, c] / nb
                m2_b = s2[j, c] - s1[j, c] * s1[j, c] / nb
                total_n = count[j, c] + nb
                delta = mean_b - mean[j, c]
                m2[j, c] += m2_b + delta * delta * count[j, c] * nb / total_n
                mean[j, c] += delta * nb / total_n
                count[j, c] = total_n
    for c in range(cells):
        drift[c] += dr[c]
    for i in range(n - final):  # the rows not yet final move to the front of P (i < final + i: no overlap)
        r = final + i
        if r < n_p:
            for c in range(cells):
                P_g[i, c], P_ap[i, c] = P_g[r, c], P_ap[r, c]
                P_q[i, c], P_alpha[i, c] = P_q[r, c], P_alpha[r, c]
            P_t[i] = P_t[r]
        else:
            b = r - n_p
            for c in range(cells):
                P_g[i, c] = g[b, c]
                P_q[i, c] = pre[b, c]
                P_alpha[i, c] = np.nan if warm else alpha[b, c]
                P_ap[i, c] = 0.0 if warm else alpha[b, c] * post[b, c]
            P_t[i] = t_b[b]
    return folded


class NUFStream:
    """Turns engine blocks into final κ_s, holding back only the steps whose future still counts
    (a few hundred rows for β1 = 0.9): per block, one compiled pass (`_pass`) computes the factors
    from the rows in flight and the block's own arrays, folds them into the statistics if asked,
    and keeps the rows that are not final."""

    def __init__(self, kernel: Kernel, tol: float = DEFAULT_TOL, name: str = "this optimizer") -> None:
        if kernel.kind == "none":
            raise AdasimError(
                f"{name}'s step is not a sum of its gradients times factors (its kernel is 'none'), so it has "
                "no exact net update factors; `adasim check` measures them model-free"
            )
        self.kernel = kernel
        self.tol = float(check_range("tol", tol, 0.0, 1.0, lo_open=True, hi_open=True))  # log(tol) < 0 sets the horizon
        self.constant = kernel.kind != "ema" or np.all(np.asarray(kernel.lam) == 1.0)
        no_memory = kernel.kind == "ema" and float(np.max(kernel.beta1)) == 0.0
        self.lag = 0 if no_memory else horizon(kernel, tol) if self.constant else None
        self.weights = window_weights(kernel) if kernel.kind == "window" else None
        self.kind = {"identity": 0, "ema": 1, "window": 2}[kernel.kind]
        self.n = 0  # rows in flight
        self.P: dict[str, np.ndarray] = {}
        self._scratch: np.ndarray | None = None

    def _setup(self, blk: Block) -> None:
        self.shape = blk.g.shape[1:]
        self.cols = int(np.prod(self.shape))
        cols, shape = self.cols, self.shape
        column = lambda v: np.ascontiguousarray(np.broadcast_to(lane(v), shape).reshape(cols), dtype=np.float64)  # noqa: E731
        self.beta1 = column(self.kernel.beta1) if self.kind == 1 else np.zeros(cols)
        self.lam = column(self.kernel.lam) if self.kind == 1 else np.ones(cols)
        if self.kind == 2:
            self.w = np.ascontiguousarray(np.broadcast_to(self.weights, (self.weights.shape[0], *shape)).reshape(-1, cols))
        else:
            self.w = np.ones((1, cols))  # the identity: one tap of weight 1
        self._grow(max(self.lag or 0, self.w.shape[0]) + 1)
        self._no_stats = {"burn_t": 0, "period": 0, "values": np.zeros(1), "count": np.zeros((0, cols)),
                          "mean": np.zeros((0, cols)), "m2": np.zeros((0, cols)), "drift": np.zeros(cols)}  # fmt: skip

    def _grow(self, rows: int) -> None:
        if self.P and self.P["g"].shape[0] >= rows:
            return
        grown = {k: np.zeros((rows, self.cols)) for k in ("g", "ap", "q", "alpha")}
        grown["t"] = np.zeros(rows, dtype=np.int64)
        for k, v in self.P.items():
            grown[k][: self.n] = v[: self.n]
        self.P = grown

    def _final_rows(self, t_new: np.ndarray, flush: bool) -> int:
        """How many of the rows in flight (with the block's) have a final factor."""
        n = self.n + len(t_new)
        if flush or self.kind == 0:
            return n
        if self.kind == 2:
            return max(n - (self.w.shape[0] - 1), 0)
        if self.constant:
            return max(n - self.lag, 0)
        t = np.concatenate([self.P["t"][: self.n], t_new]).astype(np.float64)
        with np.errstate(divide="ignore"):  # missing mass of row s: Π_{r=s+1}^{T} a_r (the slowest lane decides)
            log_a = np.max(np.log(self.beta1)[None, :] + (t[:, None] - 1.0) * np.log(self.lam)[None, :], axis=1)
        missing = np.concatenate([np.cumsum(log_a[::-1])[::-1][1:], [0.0]])
        return int(np.argmax(missing > math.log(self.tol))) if np.any(missing > math.log(self.tol)) else n

    def run(self, blk: Block, stats: dict[str, Any] | None = None, want_kappa: bool = True,
            flush: bool = False) -> tuple[int, NUFChunk | None]:  # fmt: skip
        """Take a block: (the number of steps folded into `stats`, or −1 when a gradient is not among
        stats' values — nothing is taken: grow them and run the block again; the chunk of final
        factors when `want_kappa`)."""
        if not self.P:
            self._setup(blk)
        B = len(blk.t)
        cols = self.cols
        final = self._final_rows(blk.t, flush)
        self._grow(self.n + B - final + 1)

        def fields(v):
            return np.ascontiguousarray(np.broadcast_to(v, blk.g.shape).reshape(B, cols), dtype=np.float64)

        g, alpha, pre, post = (fields(v) for v in (blk.g, blk.alpha, blk.pre, blk.post))
        out = self._buffer(final if want_kappa else 0)
        if want_kappa:  # the final rows' steps and gradients, before the pass moves them
            n_p = min(self.n, final)
            t_out = np.concatenate([self.P["t"][:n_p], blk.t[: final - n_p]])
            g_out = np.concatenate([self.P["g"][:n_p], g[: final - n_p]])
        if stats is None:
            stats = self._no_stats
        with np.errstate(all="ignore"):
            folded = _pass(self.kind, self.beta1, self.lam, self.w, self.P["g"], self.P["ap"], self.P["q"], self.P["alpha"],
                           self.P["t"], self.n, g, alpha, pre, post, blk.t, bool(blk.warmup), final, stats["burn_t"],
                           stats["period"], stats["values"], stats["count"], stats["mean"], stats["m2"], stats["drift"],
                           out)  # fmt: skip
        if folded < 0:
            return int(folded), None
        self.n = self.n + B - final
        chunk = None
        if want_kappa and final:
            chunk = NUFChunk(t_out, g_out.reshape(final, *self.shape), out.reshape(final, *self.shape).copy())
        return int(folded), chunk

    def _buffer(self, rows: int) -> np.ndarray:
        """Scratch rows for κ (reused from block to block)."""
        if self._scratch is None or self._scratch.shape[0] < rows:
            self._scratch = np.empty((rows, self.cols))
        return self._scratch[:rows]

    def push(self, blk: Block) -> NUFChunk | None:
        return self.run(blk)[1]

    def pending(self) -> int:
        """The steps whose factor is not final yet."""
        return self.n

    def holds_back(self) -> int:
        """At most how many steps stay in flight (their factors wait for later steps)."""
        return horizon(self.kernel._replace(lam=1.0), self.tol)  # a decaying β1 (λ < 1) holds back fewer


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
    lane_m2: np.ndarray  # Σ (κ − mean)², by Welford's update (no cancellation)
    samples: list[np.ndarray] = field(default_factory=list)

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
        from scipy.special import stdtrit  # Student t's quantile (scipy.stats.t.ppf's own; scipy.stats takes ~1 s to import)

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
        half = float(stdtrit(means.size - 1, 0.5 + level / 2)) * spread / math.sqrt(means.size)
        return self.mean - half, self.mean + half


@dataclass(frozen=True, repr=False)
class EmpiricalNUF(Shown):
    """Net update factors measured on a run, grouped by gradient value (and phase)."""

    groups: tuple[GroupStats, ...]
    drift: float  # −mean of κ_s g_s over the counted steps: E[Δx]/α per step, positive = up
    drift_lanes: np.ndarray
    steps_counted: int
    burn_in: int
    excluded_tail: int
    tol: float
    all_steps: NUFChunk | None = None
    trouble: str | None = None  # the run was not finite (overflow or NaN): these numbers are not measurements

    def _shown(self) -> tuple[str, dict[str, Any]]:
        rows = {"groups": len(self.groups), "gradients": [g.gradient for g in self.groups],
                "kappa": [g.mean for g in self.groups], "drift": self.drift, "steps counted": self.steps_counted}  # fmt: skip
        if self.trouble:
            rows["trouble"] = self.trouble
        return "EmpiricalNUF", rows


@takes_records
def default_burn_in(problem: Problem, optimizer: Optimizer, tol: float = 1e-13) -> int:
    """Steps until the transient of the scale and the bias corrections is below tol."""
    limit = optimizer.scale_limit()
    betas = [float(np.max(getattr(optimizer, b))) for b in ("beta1", "beta2") if hasattr(optimizer, b)]
    slow = max([b for b in betas if b > 0] + [0.0])
    steps = math.ceil(math.log(tol) / math.log(slow)) if slow > 0 else 1
    pattern = problem.pattern()
    return steps + int(limit.shift) + (pattern.d if pattern is not None else 1)


@takes_records
def empirical_nuf(
    problem: Problem,
    optimizer: Optimizer,
    steps: int | None = None,
    seeds: Any = None,
    x0: Any = None,
    *,
    warmup: int | None = None,
    run: RunSettings | None = None,
    burn_in: int | None = None,
    tol: float = DEFAULT_TOL,
    samples: int = 20_000,
    keep_all: bool = False,
    block: int | None = None,
    engine: str | None = None,
) -> EmpiricalNUF:
    """Run and measure κ_s for every step after `burn_in`, grouped by phase on a periodic problem
    and by gradient value otherwise. `samples` per group are kept for distribution plots;
    `keep_all` keeps every (t, g, κ) (memory T × lanes). One pass read by a `NUFObserver`. The run
    settings come as `run` or as steps, seeds, x0, warmup and engine (as in `simulate`)."""
    from adasim.engine.observers import observe

    run = run_settings(run, steps=steps, seeds=seeds, x0=x0, warmup=warmup, engine=engine).resolve()
    nuf = NUFObserver(problem, optimizer, run.steps, warmup=run.warmup, burn_in=burn_in, tol=tol, samples=samples,
                      keep_all=keep_all)  # fmt: skip
    observe(iterate(problem, optimizer, run=run, block=block, fields=NUF_FIELDS, prefetch=True, min_block=nuf.min_block),
            [nuf], run.warmup)  # fmt: skip
    return nuf.result()


class NUFObserver:
    """Observer (adasim.engine.observers) of a run's blocks — warm-up ones too (`warmup`) — that
    measures κ_s for every step after `burn_in` (see empirical_nuf). The stream's blocks must carry
    NUF_FIELDS and be at least `min_block` long (the factors hold back the kernel's last steps)."""

    warmup = True  # the factors' stream reads warm-up blocks as well

    def __init__(self, problem: Problem, optimizer: Optimizer, steps: int, *, warmup: int = 0, burn_in: int | None = None,
                 tol: float = DEFAULT_TOL, samples: int = 20_000, keep_all: bool = False) -> None:  # fmt: skip
        check_range("tol", tol, 0, 1, hi_open=True)
        if burn_in is None:
            burn_in = min(default_burn_in(problem, optimizer), steps // 2)
        if burn_in < 0 or burn_in >= steps:
            raise AdasimError(f"burn-in ({burn_in}) must be at least 0 and below the number of steps ({steps})")
        self.steps, self.warmup_steps, self.burn_in, self.tol = steps, warmup, burn_in, tol
        self.samples, self.keep_all = samples, keep_all
        self.pattern = problem.pattern()
        self.period = self.pattern.d if self.pattern is not None else None
        law = problem.law()
        # the groups: the phases of a periodic problem, or the values of the gradient (declared by an
        # i.i.d. problem, else found in the run); several coordinates: every (lane, coordinate) is a sample path
        self.values = np.sort(np.asarray(law.values, dtype=np.float64)) if (self.period is None and law is not None) else None
        self.stats: dict[str, Any] | None = None
        self.counted = 0
        self.kept: list[NUFChunk] = []
        self.taken: list[list[np.ndarray]] = []
        self.every = 1
        self.stream = NUFStream(optimizer.kernel(), tol, optimizer.name)
        self.min_block = 4 * self.stream.holds_back()
        self.trouble: str | None = None

    def block(self, blk: Block, t_main: np.ndarray) -> None:
        warmup, burn_in, period = self.warmup_steps, self.burn_in, self.period
        if self.trouble is None:
            self.trouble = first_trouble(blk)
        columns = int(np.prod(blk.g.shape[1:]))
        if self.stats is None:
            if period is None and self.values is None:
                self.values = np.unique(blk.g)
            n_groups = period if period is not None else self.values.size
            self.stats = {key: np.zeros((n_groups, columns)) for key in ("count", "mean", "m2")}
            known = np.zeros(1) if self.values is None else np.ascontiguousarray(self.values, dtype=np.float64)
            self.stats.update(drift=np.zeros(columns), burn_t=warmup + burn_in, period=period or 0, values=known)
            self.taken = [[] for _ in range(n_groups)]
            self.every = max(1, (self.steps - burn_in) * columns // max(self.samples, 1))
        stats, taken, values = self.stats, self.taken, self.values
        want = self.keep_all or (self.samples > 0 and any(sum(x.size for x in kept_j) < self.samples for kept_j in taken))
        folded, chunk = self.stream.run(blk, stats, want)
        while folded < 0:  # gradient values not seen before (a problem that declares no law): make room for them
            found = np.union1d(values, np.unique(blk.g))
            if found.size > 64:
                raise AdasimError("grouping by gradient value needs a problem with a few discrete gradient values")
            where = np.searchsorted(found, values)
            for key in ("count", "mean", "m2"):
                grown = np.zeros((found.size, columns))
                grown[where] = stats[key]
                stats[key] = grown
            grown_taken: list[list[np.ndarray]] = [[] for _ in found]
            for old, new in enumerate(where):
                grown_taken[new] = taken[old]
            values, taken, stats["values"] = found, grown_taken, np.ascontiguousarray(found, dtype=np.float64)
            self.values, self.taken = values, taken
            folded, chunk = self.stream.run(blk, stats, want)
        if values is not None and values.size > 64:
            raise AdasimError("grouping by gradient value needs a problem with a few discrete gradient values")
        self.counted += folded
        if chunk is None:
            return
        use = chunk.t - warmup > burn_in
        if not use.any():
            return
        t = chunk.t[use] - warmup
        g = chunk.g[use].reshape(int(use.sum()), -1)
        kappa = chunk.kappa[use].reshape(int(use.sum()), -1)
        if self.keep_all:
            self.kept.append(NUFChunk(t, g, kappa))
        for j in range(len(taken)):  # a thinned sample of each group, for distribution plots
            if self.samples > 0 and sum(x.size for x in taken[j]) < self.samples:
                mask = np.broadcast_to(((t - 1) % period == j)[:, None], g.shape) if period is not None else g == values[j]
                sel = kappa[mask]
                if sel.size:
                    taken[j].append(sel[:: self.every] if sel.size > self.every else sel[:1])

    def result(self) -> EmpiricalNUF:
        stats, period, values = self.stats, self.period, self.values
        if stats is None or self.counted == 0:
            raise AdasimError("no step survived the burn-in and the tail: run more steps")
        groups = []
        for j in range(stats["count"].shape[0]):
            if not stats["count"][j].any():
                continue
            gradient = float(self.pattern.c[j]) if period is not None else float(values[j])
            groups.append(GroupStats(gradient, j if period is not None else None, stats["count"][j], stats["mean"][j],
                                     stats["m2"][j], self.taken[j]))  # fmt: skip
        ordered = tuple(sorted(groups, key=lambda s: (s.phase if s.phase is not None else 0, -s.gradient)))
        drift_lanes = -stats["drift"] / self.counted
        all_steps = None
        if self.keep_all and self.kept:
            all_steps = NUFChunk(*(np.concatenate([getattr(c, f) for c in self.kept]) for f in ("t", "g", "kappa")))
        return EmpiricalNUF(
            groups=ordered,
            drift=float(np.mean(drift_lanes)),
            drift_lanes=drift_lanes,
            steps_counted=self.counted,
            burn_in=self.burn_in,
            excluded_tail=self.stream.pending(),
            tol=self.tol,
            all_steps=all_steps,
            trouble=self.trouble,
        )


def first_trouble(blk: Block) -> str | None:
    """Where a block's run stops being finite — x or the step (the engine's health), or the
    gradient, pre- or post-factor (a scale v_t = ∞ makes a finite step of 0 but no factor)."""
    bad = blk.bad_step[blk.bad_step > 0]
    if bad.size:
        return f"the run hit overflow or NaN at step {int(bad.min()):,}"
    for name in NUF_FIELDS:
        values = getattr(blk, name)
        if values is None:
            continue
        finite = np.isfinite(values)
        if not finite.all():
            row = int(np.argmax(~finite.reshape(len(blk.t), -1).all(axis=1)))
            what = {"g": "the gradient", "alpha": "the step size", "pre": "the pre-factor", "post": "the scale's factor"}[name]
            return f"{what} is not finite from step {int(blk.t[row]):,} (overflow: v_t or g_t² beyond the largest float)"
    return None
