"""`simulate`: the block stream consumed into a `Run` by three observers (adasim.engine.observers)
— the trace (fields at recorded steps), the regret (from the running sums at those steps) and
the health (the first step at which each lane stopped being finite)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adasim.engine.layout import FIELDS, Layout
from adasim.engine.observers import Regret, Trace, health, observe
from adasim.engine.stream import iterate, make_executor
from adasim.errors import check_choice, check_range
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem
from adasim.run import Run
from adasim.run import Trace as RunTrace
from adasim.settings import RunSettings, run_settings

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


def simulate(
    problem: Problem,
    optimizer: Optimizer,
    steps: int | None = None,
    seeds: Any = None,
    x0: Any = None,
    *,
    warmup: int | None = None,
    run: RunSettings | None = None,
    stride: int | None = None,
    block: int | None = None,
    progress: Callable[[int], None] | None = None,
    log_spaced: bool = True,
    engine: str | None = None,
    record: Sequence[str] | None = None,
) -> Run:
    """Run `steps` steps on every lane and return the `Run`: final x, average regret R_T/T, health,
    and a trace of x, g, m, v, step, α, pre- and post-scale every `stride` steps (default: about
    2000 rows) plus about 400 log-spaced early steps (`log_spaced`), so memory is bounded for runs
    of any length. `progress(n)` is told of n more steps.

    The run settings come whole as `run` (a RunSettings: what `build_spec` and the command line
    make) or as steps, seeds (default 0), x0 (default: the problem's start), warmup and `engine`:
    "auto" (compiled when it can run the problem), "compiled", "numpy" or "python", the same
    floats on each. `record`: the trace fields to keep (default all of TRACE_FIELDS and
    average_regret); the others are None in the trace (sweeps keep only x).

    Examples
    --------
    Reddi et al. 2018, Theorem 1 (C = 10, β1 = 0, β2 = 1/(1 + C²), α_t = α/√t): Adam ends at the worst
    point +1 of [−1, 1], AMSGrad at x* = −1.

    >>> from adasim import Adam, AMSGrad, Online, Schedule, simulate
    >>> for opt in (Adam, AMSGrad):
    ...     run = simulate(Online(C=10.0), opt(beta1=0.0, beta2=1 / 101, lr=0.5, schedule=Schedule("inv-sqrt")),
    ...                    steps=3000, x0=0.0, engine="numpy")
    ...     print(opt.name, round(float(run.final_x[0, 0]), 2), run.summary()["verdict"])
    adam 1.0 worst point
    amsgrad -1.0 optimum
    """
    run = run_settings(run, steps=steps, seeds=seeds, x0=x0, warmup=warmup, engine=engine).resolve()
    steps, warmup = run.steps, run.warmup
    if stride is None:
        stride = max(1, -(-steps // DEFAULT_RECORDS))
    stride = int(check_range("stride", stride, 1, integer=True))
    known = (*TRACE_FIELDS, "average_regret")
    record = known if record is None else tuple(record)
    for name in record:
        check_choice("trace field", name, known)
    began = time.perf_counter()
    layout = Layout.build(problem, optimizer, run.seeds, problem.default_x0 if run.x0 is None else run.x0)
    steps_kept = recorded_steps(steps, stride, log_spaced)
    check_memory(layout, len(steps_kept), len(record))
    executor = make_executor(layout, run.engine, (), regret=True, record=tuple(f for f in record if f in TRACE_FIELDS),
                             regret_rows="average_regret" in record)  # fmt: skip
    regret = Regret(layout)
    trace = Trace(record, regret if "average_regret" in record else None, rows=len(steps_kept),
                  into=executor.reserve_rows(len(steps_kept)))  # fmt: skip
    blocks = iterate(problem, optimizer, run=run, block=block, record=steps_kept, regret=True, executor=executor)
    last = observe(blocks, [regret, trace], warmup, progress)
    assert last is not None
    arrays = trace.arrays(record)
    run_trace = RunTrace(**{k: arrays.get(k) for k in ("t", *known)})
    if not regret.defined and "average_regret" in record:  # min over an unbounded domain of a linear loss is −∞: no regret
        run_trace.average_regret[:] = np.nan
    status, bad_step = health(last)
    return Run(
        problem=problem,
        optimizer=optimizer,
        steps=steps,
        warmup=warmup,
        seeds=layout.seeds.astype(np.int64),
        x0=layout.x0,
        stride=stride,
        trace=run_trace,
        final_x=np.array(last.x_end),
        average_regret=regret.average(last, steps),
        status=status,
        bad_step=bad_step,
        seconds=time.perf_counter() - began,
        engine=executor.name,
    )


def run_bytes(layout: Layout, rows: int, fields: int) -> float:
    """The memory a run needs: the recorded rows of every field and the running sums, the state
    and the ring of past gradients per cell (what `check_memory` holds to ADASIM_MEMORY_LIMIT)."""
    cells = layout.lanes * layout.dim
    per_cell = 8.0 * ((rows + 1) * (fields + 2) * 2 + len(layout.optimizer.definition.state._fields) + 16 + 2 * layout.depth)
    return per_cell * cells


def check_memory(layout: Layout, rows: int, fields: int) -> None:
    """Refuse a run whose trace and state would not fit (adasim.memory, `run_bytes`)."""
    from adasim.memory import require

    what = f"this run ({layout.lanes:,} lanes × {layout.dim:,} coordinates, {rows:,} recorded rows)"
    require(run_bytes(layout, rows, fields), what,
            "use fewer seeds, a smaller problem, a larger --stride or fewer recorded fields"
            + (", or a smaller shift or window" if layout.depth > rows else ""))  # fmt: skip
