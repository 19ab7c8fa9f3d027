"""`simulate`: the block stream consumed into a `Run` by three observers — the trace (fields at
recorded steps), the regret (from the running sums at those steps) and the health (the first
step at which each lane stopped being finite)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adasim.engine.layout import FIELDS, Layout, check_steps
from adasim.engine.stream import iterate, make_executor
from adasim.errors import check_choice, check_range
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem
from adasim.run import Run, Trace

DEFAULT_RECORDS = 2000
LOG_RECORDS = 400  # extra rows, log-spaced, so that early steps show on a log time axis
TRACE_FIELDS = FIELDS


def recorded_steps(steps: int, stride: int, log_spaced: bool) -> np.ndarray:
    """Every stride-th step, the last step and (optionally) about 400 log-spaced early steps."""
    rows = np.arange(stride, steps + 1, stride, dtype=np.int64)
    if not log_spaced:  # already sorted and distinct: only the last step may be missing
        return rows if rows.size and rows[-1] == steps else np.append(rows, np.int64(steps))
    parts = [rows, np.array([steps], dtype=np.int64)]
    parts.append(np.unique(np.round(np.logspace(0, np.log10(max(steps, 1)), LOG_RECORDS)).astype(np.int64)))
    return np.unique(np.concatenate(parts))


class Regret:
    """R_t = Σ_{s≤t} f_s(x_{s−1}) − min_{x∈F} Σ_{s≤t} f_s(x). For a linear f over a box the minimum
    is exact from Σ g; otherwise the comparator is the optimum x*'s own loss."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        problem = layout.problem
        self.lo = np.broadcast_to(np.asarray(problem.domain.lo, float), (layout.dim,))
        self.hi = np.broadcast_to(np.asarray(problem.domain.hi, float), (layout.dim,))
        self.linear = problem.linear
        self.defined = problem.domain.bounded or not problem.linear
        self.opt_sum = np.zeros(layout.lanes)
        self.opt_rows: np.ndarray | None = None
        if not self.linear:
            optimum = np.broadcast_to(problem.optimum(), (layout.lanes, layout.dim))
            self.optimum = np.array(optimum)
            if problem.loss_kernel is not None:  # f_t(x*) does not depend on t
                at_optimum = problem.loss_kernel(problem.kernel_params(), self.optimum)
                self.per_step: np.ndarray | None = np.sum(np.broadcast_to(at_optimum, optimum.shape), axis=-1)
            else:
                self.per_step = None

    def comparator(self, g_sum: np.ndarray) -> np.ndarray:
        """min over the box of (Σ g)·x, per lane (R, L) from (R, L, D) (−inf on an unbounded side)."""
        with np.errstate(invalid="ignore"):
            return np.sum(np.where(g_sum > 0, self.lo * g_sum, np.where(g_sum < 0, self.hi * g_sum, 0.0)), axis=-1)

    def optimum_sums(self, main_t: np.ndarray) -> np.ndarray:
        """Σ_{s≤t} f_s(x*) at the main steps `main_t` (consecutive, this block's), (B, L)."""
        if self.per_step is not None:
            return main_t[:, None] * self.per_step[None, :]
        problem = self.layout.problem
        values = np.stack([problem.loss(self.optimum, int(t), np.zeros_like(self.optimum)) for t in main_t])
        sums = self.opt_sum + np.cumsum(values, axis=0)
        self.opt_sum = sums[-1]
        return sums

    def at(self, loss: np.ndarray, gsum: np.ndarray, opt: np.ndarray | None) -> np.ndarray:
        """R at recorded rows from the per-cell running sums (R, L, D)."""
        with np.errstate(all="ignore"):  # a lane that overflowed has a NaN regret; health reports it
            total = np.sum(loss, axis=-1)
            if self.linear:
                return total - self.comparator(gsum)
            return total - opt


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
    engine: str = "auto",
    record: Sequence[str] | None = None,
) -> Run:
    """Run `steps` steps on every lane and return the `Run`: final x, average regret R_T/T, health,
    and a trace of x, g, m, v, step, α, pre- and post-scale every `stride` steps (default: about
    2000 rows) plus about 400 log-spaced early steps (`log_spaced`), so memory is bounded for runs
    of any length. `progress(n)` is told of n more steps.

    `engine`: "auto" (compiled when it can run the problem), "compiled", "numpy" or "python":
    the same floats on each. `record`: the trace fields to keep (default all of TRACE_FIELDS and
    average_regret); the others are None in the trace (sweeps keep only x)."""
    steps, warmup = check_steps(steps, warmup)
    if stride is None:
        stride = max(1, -(-steps // DEFAULT_RECORDS))
    stride = int(check_range("stride", stride, 1, integer=True))
    known = (*TRACE_FIELDS, "average_regret")
    record = known if record is None else tuple(record)
    for name in record:
        check_choice("trace field", name, known)
    began = time.perf_counter()
    layout = Layout.build(problem, optimizer, seeds, x0)
    steps_kept = recorded_steps(steps, stride, log_spaced)
    _check_memory(layout, len(steps_kept), len(record))
    executor = make_executor(layout, engine, (), regret=True, record=tuple(f for f in record if f in TRACE_FIELDS))
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("t", *record)}
    regret = Regret(layout)
    with_regret = "average_regret" in record
    last = None
    opt_last = None
    for blk in iterate(problem, optimizer, steps, warmup=warmup, block=block, record=steps_kept, regret=True, executor=executor):
        if progress is not None:
            progress(len(blk.t))
        last = blk
        if blk.warmup:
            continue
        main_t = blk.t - warmup
        opt = None
        if not regret.linear:
            sums = regret.optimum_sums(main_t)
            opt_last = sums[-1]
            opt = sums[blk.rows] if blk.rows.size else None
        if not blk.rows.size:
            continue
        t_rows = main_t[blk.rows]
        rows["t"].append(t_rows)
        for name in record:
            if name in blk.recorded:
                rows[name].append(blk.recorded[name])
        if with_regret:
            with np.errstate(all="ignore"):
                rows["average_regret"].append(regret.at(blk.loss_rows, blk.gsum_rows, opt) / t_rows[:, None])
    assert last is not None
    trace = Trace(**{k: (np.concatenate(rows[k], axis=0) if k in rows else None) for k in ("t", *known)})
    if not regret.defined and with_regret:  # min over an unbounded domain of a linear loss is −∞: no regret
        trace.average_regret[:] = np.nan
    with np.errstate(all="ignore"):
        opt_end = None if opt_last is None else opt_last[None]
        final_regret = regret.at(last.loss_end[None], last.gsum_end[None], opt_end)[0] / steps
    status, bad_step = _health(last.bad_step, last.bad_nan)
    return Run(
        problem=problem,
        optimizer=optimizer,
        steps=steps,
        warmup=warmup,
        seeds=layout.seeds.astype(np.int64),
        x0=layout.x0,
        stride=stride,
        trace=trace,
        final_x=np.array(last.x_end),
        average_regret=final_regret if regret.defined else np.full(layout.lanes, np.nan),
        status=status,
        bad_step=bad_step,
        seconds=time.perf_counter() - began,
        engine=executor.name,
    )


def _health(bad_step: np.ndarray, bad_nan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per lane: 'ok', or 'nan'/'overflow' by the first non-finite value over its coordinates."""
    lanes = bad_step.shape[0]
    status = np.full(lanes, "ok", dtype=object)
    first = np.zeros(lanes, dtype=np.int64)
    for lane in range(lanes):
        steps = bad_step[lane]
        hit = steps > 0
        if hit.any():
            t = steps[hit].min()
            first[lane] = int(t)
            status[lane] = "nan" if np.any(bad_nan[lane][steps == t] > 0) else "overflow"
    return np.array(status, dtype=str), first


def _check_memory(layout: Layout, rows: int, fields: int) -> None:
    """Refuse a run whose trace and state would not fit (adasim.memory): the recorded rows of
    every field and the running sums, the state and the ring of past gradients per cell."""
    from adasim.memory import require

    cells = layout.lanes * layout.dim
    per_cell = 8.0 * ((rows + 1) * (fields + 2) * 2 + len(layout.optimizer.definition.state._fields) + 16 + 2 * layout.depth)
    require(per_cell * cells, f"this run ({layout.lanes:,} lanes × {layout.dim:,} coordinates, {rows:,} recorded rows)",
            "use fewer seeds, a smaller problem, a larger --stride or fewer recorded fields"
            + (", or a smaller shift or window" if layout.depth > rows else ""))  # fmt: skip
