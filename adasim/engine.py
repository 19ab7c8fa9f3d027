"""The engine: runs a batch of lanes through a problem and an optimizer, block by block.

`iterate` is the core loop and yields one `Block` of consecutive steps at a time; `simulate`
consumes the blocks into a `Run` (trace at a stride, regret, health). Nothing loops over lanes in
Python. Problems whose gradients do not depend on x take the fast path: a whole block of gradients
is drawn at once, the optimizer's recurrences run along time, and the projected path is a scan of
clip maps. Other problems take the general path, one step at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim import compiled
from adasim.errors import AdasimError, check_choice, check_range
from adasim.optimizers.base import Optimizer, Update
from adasim.problems.base import Problem
from adasim.run import Run, Trace
from adasim.scan import clip_scan, running_sum

DEFAULT_BLOCK = 4096
PROJECTIONS = ("scan", "sequential")
DEFAULT_RECORDS = 2000
LOG_RECORDS = 400  # extra rows, log-spaced, so that early steps show on a log time axis


@dataclass(frozen=True)
class Block:
    """Steps t (B,) of a run: g_t evaluated at x_before = x_{t−1}; x = x_t after the step."""

    t: np.ndarray
    g: np.ndarray
    x_before: np.ndarray
    x: np.ndarray
    alpha: np.ndarray
    update: Update
    loss: np.ndarray  # f_t(x_{t−1}), (B, L)
    loss_at_optimum: np.ndarray | None  # f_t(x*), (B, L), for problems that are not linear
    warmup: bool


def lane_count(problem: Problem, optimizer: Optimizer, seeds: np.ndarray) -> int:
    """L: the common length of the seeds and every per-lane parameter (1 broadcasts)."""
    sizes = {n for n in (len(seeds), problem.lanes(), optimizer.lanes()) if n != 1}
    if len(sizes) > 1:
        raise AdasimError(
            f"lane counts differ: {len(seeds)} seeds, {problem.lanes()} problem settings, "
            f"{optimizer.lanes()} optimizer settings (give equal lengths or length 1)"
        )
    return sizes.pop() if sizes else 1


def as_seeds(seeds: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(seeds))
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 0):
        raise AdasimError(f"seeds must be non-negative whole numbers, got {seeds!r}")
    return arr.astype(np.uint64)


def start_point(problem: Problem, x0: Any, lanes: int) -> np.ndarray:
    """x_0 broadcast to (L, D); it must lie in the domain."""
    try:
        x = np.array(np.broadcast_to(np.asarray(x0, dtype=np.float64), (lanes, problem.dim)))
    except ValueError:
        raise AdasimError(f"x0 must be a number, a point of dimension {problem.dim} or one per lane") from None
    if not np.all(np.isfinite(x)):
        raise AdasimError(f"x0 must be finite, got {x0!r}")
    if not np.all(problem.domain.contains(x)):
        raise AdasimError(f"x0 = {np.asarray(x0).tolist()} lies outside the domain {problem.domain.describe()}")
    return x


def _linear_loss(g: np.ndarray, x_before: np.ndarray) -> np.ndarray:
    return np.sum(g * x_before, axis=-1)


def iterate(
    problem: Problem,
    optimizer: Optimizer,
    steps: int,
    seeds: Any = 0,
    x0: Any = 0.0,
    *,
    warmup: int = 0,
    block: int | None = None,
    projection: str = "scan",
    track_x: bool = True,
) -> Iterator[Block]:
    """Yield the run as consecutive blocks. The first `warmup` steps update the optimizer's state
    but not x (as in the AdaShift authors' script); then `steps` steps move x.

    `projection`: "scan" projects a block with a prefix scan of clip maps (fast for few lanes);
    "sequential" steps through the block over all lanes at once (fast for many lanes). The two
    differ only by rounding; with "sequential" x does not depend on the block size, and the block
    is sized to the lanes (`sequential_block`).

    `track_x=False` (x-independent problems only) leaves x at x0 and the losses at 0: for analyses
    that need the gradients and the optimizer's scales but not the path (net update factors)."""
    steps = int(check_range("steps", steps, 1, integer=True))
    warmup = int(check_range("warmup", warmup, 0, integer=True))
    check_choice("projection", projection, PROJECTIONS)
    seeds = as_seeds(seeds)
    lanes = lane_count(problem, optimizer, seeds)
    if block is None:
        block = DEFAULT_BLOCK if projection == "scan" else sequential_block(lanes, problem.dim)
    block = int(check_range("block", block, 1, integer=True))
    sequential = projection == "sequential"
    seeds = np.broadcast_to(seeds, (lanes,))
    x = start_point(problem, x0, lanes)
    lo, hi = problem.domain.lo, problem.domain.hi
    state = optimizer.init((lanes, problem.dim))
    optimum = np.broadcast_to(problem.optimum(), (lanes, problem.dim))
    has_optimum = bool(np.all(np.isfinite(optimum)))
    with np.errstate(all="ignore"):
        for t, is_warm in _blocks(warmup, steps, block):
            if problem.x_independent:
                g = problem.gradients(t, seeds)
                upd, state = optimizer.update(state, g, t)
                if is_warm or not track_x:
                    xs = x_before = np.broadcast_to(x, g.shape)
                    loss = np.zeros(g.shape[:2])
                else:
                    xs = clip_scan(x, -upd.step, lo, hi, sequential)
                    x_before = np.concatenate([x[None], xs[:-1]], axis=0)
                    loss = (
                        _linear_loss(g, x_before)
                        if problem.linear
                        else np.stack([problem.loss(x_before[i], int(t[i]), g[i]) for i in range(len(t))])
                    )
                loss_opt = None
            else:
                rows = []
                x_prev = x
                for ti in t:
                    gi = problem.gradient(x_prev, int(ti), seeds)[None]
                    ui, state = optimizer.update(state, gi, np.array([ti]))
                    xi = x_prev if is_warm else problem.domain.project(x_prev - ui.step[0])
                    li = problem.loss(x_prev, int(ti), gi[0])
                    lo_i = problem.loss(optimum, int(ti), gi[0]) if has_optimum else np.full(lanes, np.nan)
                    rows.append((gi[0], x_prev, xi, ui, li, lo_i))
                    x_prev = xi
                g = np.stack([r[0] for r in rows])
                x_before = np.stack([r[1] for r in rows])
                xs = np.stack([r[2] for r in rows])
                upd = Update(*(np.concatenate([np.broadcast_to(r[3][k], r[3].step.shape) for r in rows]) for k in range(5)))
                loss = np.stack([r[4] for r in rows])
                loss_opt = np.stack([r[5] for r in rows])
            yield Block(t, g, x_before, xs, optimizer.alpha(t), upd, loss, loss_opt, is_warm)
            x = np.array(xs[-1])


def sequential_block(lanes: int, dim: int) -> int:
    """Steps per block of NumPy's sequential projection: about 10^6 values per block array."""
    return max(64, min(DEFAULT_BLOCK, 2**20 // (lanes * dim)))


def _blocks(warmup: int, steps: int, size: int) -> Iterator[tuple[np.ndarray, bool]]:
    """Consecutive blocks of at most `size` steps t (1-based), and whether they are warm-up steps."""
    total = warmup + steps
    start = 1
    while start <= total:
        is_warm = start <= warmup
        stop = min(start + size, (warmup if is_warm else total) + 1)
        yield np.arange(start, stop, dtype=np.int64), is_warm
        start = stop


def use_compiled(problem: Problem, optimizer: Optimizer, engine: str = "auto", work: int | None = None) -> bool:
    """Whether a run of `work` lane-steps takes the compiled path (`engine` as in `simulate`;
    `auto` without a work figure only asks whether it could)."""
    check_choice("engine", engine, compiled.ENGINES)
    if engine == "numpy":
        return False
    reason = compiled.unsupported(problem, optimizer)
    if engine == "auto":
        return reason is None and (compiled.available() if work is None else compiled.worth_it(work))
    if not compiled.available():
        raise AdasimError('the compiled engine needs numba: pip install "adasim[fast]" (or use --engine numpy)')
    if reason is not None:
        raise AdasimError(f"the compiled engine cannot run this: {reason}")
    return True


class _Health:
    """First step at which each lane's x or step stopped being finite, and whether by overflow."""

    def __init__(self, lanes: int) -> None:
        self.bad_step = np.zeros(lanes, dtype=np.int64)
        self.kind = np.full(lanes, "ok", dtype=object)

    def see_rows(self, t: np.ndarray, bad_row: np.ndarray, bad_nan: np.ndarray) -> None:
        """The compiled path's report: first non-finite row per lane (−1: none) and if it is NaN."""
        fresh = (bad_row >= 0) & (self.bad_step == 0)
        for lane in np.flatnonzero(fresh):
            self.bad_step[lane] = int(t[bad_row[lane]])
            self.kind[lane] = "nan" if bad_nan[lane] else "overflow"

    def see(self, blk: Block) -> None:
        if np.isfinite(blk.x).all() and np.isfinite(blk.update.step).all():  # the usual case: one pass each
            return
        values = np.concatenate([blk.x, blk.update.step], axis=-1)
        finite = np.isfinite(values).all(axis=-1)  # (B, L)
        fresh = ~finite.all(axis=0) & (self.bad_step == 0)
        if not np.any(fresh):
            return
        for lane in np.flatnonzero(fresh):
            row = int(np.argmin(finite[:, lane]))
            self.bad_step[lane] = int(blk.t[row])
            self.kind[lane] = "nan" if np.isnan(values[row, lane]).any() else "overflow"


class _Regret:
    """R_t = Σ_{s≤t} f_s(x_{s−1}) − min_{x∈F} Σ_{s≤t} f_s(x); for linear f the minimum is exact."""

    def __init__(self, problem: Problem, lanes: int) -> None:
        self.problem = problem
        self.loss = np.zeros(lanes)
        self.g_sum = np.zeros((lanes, problem.dim))
        self.opt_sum = np.zeros(lanes)

    def comparator(self, g_sum: np.ndarray) -> np.ndarray:
        lo = np.asarray(self.problem.domain.lo, float)
        hi = np.asarray(self.problem.domain.hi, float)
        return np.sum(np.where(g_sum > 0, lo * g_sum, np.where(g_sum < 0, hi * g_sum, 0.0)), axis=-1)

    def see_sums(self, loss: np.ndarray, g_sum: np.ndarray, end_loss: np.ndarray, end_g: np.ndarray) -> np.ndarray:
        """As `see` for a linear problem, from the running sums at the rows and at the block's end."""
        self.loss, self.g_sum = end_loss, end_g
        return loss - self.comparator(g_sum)

    def see(self, blk: Block, rows: np.ndarray) -> np.ndarray:
        """Cumulative regret after the given steps of the block (row indices, the last included), (R, L).
        The sums run on from the carried totals, so they do not depend on where blocks begin."""
        cum_loss = running_sum(self.loss, blk.loss)
        if self.problem.linear:
            cum_g = running_sum(self.g_sum, blk.g)
            regret = cum_loss[rows] - self.comparator(cum_g[rows])
            self.g_sum = cum_g[-1]
        else:
            cum_opt = running_sum(self.opt_sum, blk.loss_at_optimum)
            regret = cum_loss[rows] - cum_opt[rows]
            self.opt_sum = cum_opt[-1]
        self.loss = cum_loss[-1]
        return regret


TRACE_FIELDS = ("x", "g", "m", "v", "step", "alpha", "pre", "post")


def simulate(
    problem: Problem,
    optimizer: Optimizer,
    steps: int,
    seeds: Any = 0,
    x0: Any = 0.0,
    *,
    warmup: int = 0,
    stride: int | None = None,
    block: int | None = None,
    progress: Callable[[int], None] | None = None,
    log_spaced: bool = True,
    projection: str = "scan",
    engine: str = "auto",
    record: Sequence[str] | None = None,
) -> Run:
    """Run `steps` steps on every lane and return the `Run`: final x, average regret R_T/T, health,
    and a trace of x, g, m, v, step, α, pre- and post-scale every `stride` steps (default: about
    2000 rows) plus about 400 log-spaced early steps (`log_spaced`), so memory is bounded for runs
    of any length.
    `progress(n)` is told of n more steps.

    `engine`: "numpy", "compiled" (numba; the floats of `projection="sequential"`) or "auto" (compiled
    when numba is installed, the problem and optimizer have a compiled form and the run has at least
    compiled.AUTO_MIN_WORK lane-steps; see adasim.compiled).
    `record`: the trace fields to keep (default all of TRACE_FIELDS and average_regret); the others
    are None in the trace (sweeps keep only x)."""
    steps = int(check_range("steps", steps, 1, integer=True))
    warmup = int(check_range("warmup", warmup, 0, integer=True))
    check_choice("projection", projection, PROJECTIONS)
    seeds_arr = as_seeds(seeds)
    lanes = lane_count(problem, optimizer, seeds_arr)
    if stride is None:
        stride = max(1, -(-int(steps) // DEFAULT_RECORDS))
    stride = int(check_range("stride", stride, 1, integer=True))
    log_rows = np.empty(0, dtype=np.int64)
    if log_spaced:
        log_rows = np.unique(np.round(np.logspace(0, np.log10(max(int(steps), 1)), LOG_RECORDS)).astype(np.int64))
    health = _Health(lanes)
    regret = _Regret(problem, lanes)
    known = (*TRACE_FIELDS, "average_regret")
    record = known if record is None else tuple(record)
    for name in record:
        check_choice("trace field", name, known)
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("t", *record)}
    with_regret = "average_regret" in record
    began = time.perf_counter()
    x_final = start_point(problem, x0, lanes)
    last_regret = np.full(lanes, np.nan)

    def recorded(main_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Block rows kept in the trace (every stride-th step, the last step, the log-spaced ones),
        and those plus the block's last row (for the regret). main_t is consecutive."""
        first, last = int(main_t[0]), int(main_t[-1])
        logs = log_rows[(log_rows >= first) & (log_rows <= last)] - first
        strided = np.arange(-(-first // stride) * stride, last + 1, stride) - first
        ends = [steps - first] if first <= steps <= last else []
        keep = np.union1d(np.union1d(strided, ends), logs).astype(np.int64)
        return keep, np.union1d(keep, [len(main_t) - 1])

    def store(main_t: np.ndarray, keep: np.ndarray, at: np.ndarray, fields: dict, cum_rows: np.ndarray) -> None:
        """Append the kept rows: `fields` are indexed by block row, the regret rows by `at`."""
        if not keep.size:
            return
        for name, (arr, index) in fields.items():
            if name in rows:
                rows[name].append(np.array(arr[index]))
        rows["t"].append(main_t[keep])
        if with_regret:
            rows["average_regret"].append(cum_rows[np.searchsorted(at, keep)] / main_t[keep, None])

    ran_compiled = use_compiled(problem, optimizer, engine, lanes * (steps + warmup))
    if ran_compiled:  # the same run, one machine-code loop per lane
        with np.errstate(all="ignore"):  # as in iterate: failures are found by _Health, not warned of
            lanes_run = compiled.Lanes(problem, optimizer, np.broadcast_to(seeds_arr, (lanes,)), x_final)
            size = lanes_run.block_size() if block is None else int(check_range("block", block, 1, integer=True))
            for t, is_warm in _blocks(warmup, int(steps), size):
                if progress is not None:
                    progress(len(t))
                if is_warm:
                    lanes_run.block(t, False, np.empty(0, dtype=np.int64))
                    continue
                main_t = t - warmup
                keep, at = recorded(main_t)
                res = lanes_run.block(t, True, at)
                health.see_rows(t, res.bad_row, res.bad_nan)
                some = slice(None) if with_regret else slice(-1, None)  # the comparator where it is needed
                cum_rows = regret.see_sums(res.loss[some], res.gsum[some], res.end_loss, res.end_gsum)
                sel = np.searchsorted(at, keep)  # the block recorded the rows `at`
                store(main_t, keep, at, {name: (res.out[i], sel) for i, name in enumerate(compiled.FIELDS)}, cum_rows)
                last_regret = cum_rows[-1] / steps
            x_final = lanes_run.x
    else:
        for blk in iterate(problem, optimizer, steps, seeds_arr, x0, warmup=warmup, block=block, projection=projection):
            if progress is not None:
                progress(len(blk.t))
            if blk.warmup:
                continue
            health.see(blk)
            main_t = blk.t - warmup
            keep, at = recorded(main_t)
            # regret only where it is recorded, and at the block's end
            cum_rows = regret.see(blk, at if with_regret else at[-1:])
            u, shape = blk.update, blk.x.shape
            arrays = {
                "x": blk.x,
                "g": blk.g,
                "m": u.m,
                "v": u.v,
                "step": u.step,
                "alpha": blk.alpha,
                "pre": u.pre,
                "post": u.post,
            }
            store(main_t, keep, at, {name: (np.broadcast_to(arr, shape), keep) for name, arr in arrays.items()}, cum_rows)
            x_final = blk.x[-1]
            last_regret = cum_rows[-1] / steps
    trace = Trace(**{k: (np.concatenate(rows[k], axis=0) if k in rows else None) for k in ("t", *known)})
    finite_comparator = problem.domain.bounded or not problem.linear
    if not finite_comparator and with_regret:  # min over an unbounded domain of a linear loss is −∞: no regret
        trace.average_regret[:] = np.nan
    return Run(
        problem=problem,
        optimizer=optimizer,
        steps=int(steps),
        warmup=int(warmup),
        seeds=np.broadcast_to(seeds_arr, (lanes,)).astype(np.int64),
        x0=start_point(problem, x0, lanes),
        stride=stride,
        trace=trace,
        final_x=np.array(x_final),
        average_regret=np.array(last_regret) if finite_comparator else np.full(lanes, np.nan),
        status=np.array(health.kind, dtype=str),
        bad_step=health.bad_step,
        seconds=time.perf_counter() - began,
        engine="compiled" if ran_compiled else "numpy",
    )
