"""The block stream: `iterate` runs a problem and an optimizer on one executor and yields the run
as consecutive `Block`s. Everything that reads a run — the trace, the regret, the health, net
update factors, correlations, sweeps — is an observer of this stream, so every analysis runs on
the compiled executor and nothing is computed that nobody reads: a block carries only the
per-step fields that were asked for, and the fields of the steps that were asked to be recorded.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.engine import compiled, jit, kernels
from adasim.engine.executors import Executor, NumpyExecutor, PythonExecutor
from adasim.engine.layout import FIELDS, Layout
from adasim.errors import AdasimError, AdasimWarning, check_choice, check_range
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem
from adasim.settings import ENGINES, RunSettings, run_settings
from adasim.usercode import UserCodeError


@dataclass(frozen=True)
class Block:
    """Steps t (B,) of a run (absolute: warm-up steps come first). `warmup` blocks update the
    optimizer's state but not x. Per-step fields that were asked for are (B, L, D) arrays (the
    others None): x_t after the step, g_t, m_t, v_t, step_t, α_t, pre and post. `rows` are the
    block rows that were recorded, with every field in `recorded` (R, L, D) and the running sums
    of the loss and the gradient per cell at those rows (when the regret was asked for).

    The arrays of a block may be its executor's scratch, valid until the next block is asked for:
    copy what you keep (the observers' Trace does)."""

    t: np.ndarray
    warmup: bool
    x_end: np.ndarray  # (L, D)
    rows: np.ndarray
    recorded: dict[str, np.ndarray]
    loss_rows: np.ndarray | None
    gsum_rows: np.ndarray | None
    loss_end: np.ndarray | None
    gsum_end: np.ndarray | None
    bad_step: np.ndarray  # (L, D) cumulative: first step that was not finite, 0 if none
    bad_nan: np.ndarray
    x: np.ndarray | None = None
    g: np.ndarray | None = None
    m: np.ndarray | None = None
    v: np.ndarray | None = None
    step: np.ndarray | None = None
    alpha: np.ndarray | None = None
    pre: np.ndarray | None = None
    post: np.ndarray | None = None


def _executor_class(layout: Layout, engine: str) -> type[Executor]:
    check_choice("engine", engine, ENGINES)
    if engine == "numpy":
        return NumpyExecutor
    if engine == "python":
        return PythonExecutor
    reason = kernels.unsupported(layout)
    if engine == "compiled":
        if not jit.available():
            raise AdasimError(f"the compiled engine is not available: {jit.unavailable_reason()} (use --engine numpy)")
        if reason is not None:
            raise AdasimError(f"the compiled engine cannot run this: {reason} (use --engine numpy)")
        return compiled.CompiledExecutor
    if reason is not None:
        return NumpyExecutor
    if not jit.available():
        _warn_once(f"{jit.unavailable_reason()}: running the NumPy executor (slower, the same numbers)")
        return NumpyExecutor
    return compiled.CompiledExecutor


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, AdasimWarning, stacklevel=3)


def make_executor(
    layout: Layout, engine: str = "auto", fields: Sequence[str] = (), regret: bool = True, record: Sequence[str] = FIELDS,
    regret_rows: bool = True,
) -> Executor:  # fmt: skip
    """The executor `engine` names for this layout. Under `auto` a step that numba cannot compile
    runs on NumPy instead, with a warning; under `compiled` it is an error. `regret`: keep the
    loss and gradient sums (R_T); `regret_rows`: also their values at the recorded rows (R_t)."""
    cls = _executor_class(layout, engine)
    try:
        executor = cls(layout, tuple(fields), regret, tuple(record), regret_rows)
        if isinstance(executor, compiled.CompiledExecutor):
            executor.compile()
        return executor
    except UserCodeError as err:
        if engine == "auto" and cls is compiled.CompiledExecutor:
            _warn_once(f"{err}: running it on the NumPy executor instead")
            return NumpyExecutor(layout, tuple(fields), regret, tuple(record), regret_rows)
        raise


def segments(warmup: int, steps: int, size: int) -> Iterator[tuple[int, int, bool]]:
    """Consecutive (first step, count, warm-up?) of at most `size` steps (1-based, warm-up first)."""
    total = warmup + steps
    start = 1
    while start <= total:
        is_warm = start <= warmup
        stop = min(start + size, (warmup if is_warm else total) + 1)
        yield start, stop - start, is_warm
        start = stop


def iterate(
    problem: Problem,
    optimizer: Optimizer,
    steps: int | None = None,
    seeds: Any = None,
    x0: Any = None,
    *,
    warmup: int | None = None,
    block: int | None = None,
    engine: str | None = None,
    run: RunSettings | None = None,
    fields: Sequence[str] = FIELDS,
    record: np.ndarray | None = None,
    regret: bool = False,
    executor: Executor | None = None,
    prefetch: bool = False,
    min_block: int = 1,
) -> Iterator[Block]:
    """Yield the run as consecutive blocks. The first `warmup` steps update the optimizer's state
    but not x (as in the AdaShift authors' script); then `steps` steps move x. The run settings
    come as `run` (a RunSettings) or as steps, seeds (default 0), x0 (default: the problem's),
    warmup and engine — not both.

    `fields`: the per-step fields each block carries (default all; () for none). `record`: the
    main steps (1 … steps, sorted) whose fields are also collected in `Block.recorded`. `regret`:
    keep the running sums of the loss and of g. `engine`: auto | compiled | numpy | python (the
    same floats on each); `block` the steps per block (any size gives the same numbers; by default
    the executor's choice, at least `min_block` — a reader that holds back its last k steps wants
    blocks well above k).
    `prefetch`: run the next block in a second thread while the caller reads this one (the
    compiled kernel releases the GIL, so an analysis overlaps the simulation on two cores; other
    executors ignore it).

    Examples
    --------
    Six SGD steps in blocks of three on g = 2, −1, −1, …: the blocks follow each other.

    >>> from adasim import SGD, Online, iterate
    >>> blocks = iterate(Online(C=2.0), SGD(lr=0.1), steps=6, x0=0.5, engine="numpy", block=3)
    >>> [(b.t.tolist(), b.x[:, 0, 0].round(6).tolist()) for b in blocks]
    [([1, 2, 3], [0.3, 0.4, 0.5]), ([4, 5, 6], [0.3, 0.4, 0.5])]
    """
    run = run_settings(run, steps=steps, seeds=seeds, x0=x0, warmup=warmup, engine=engine).resolve()
    steps, warmup = run.steps, run.warmup
    if executor is None:
        layout = Layout.build(problem, optimizer, run.seeds, problem.default_x0 if run.x0 is None else run.x0)
        executor = make_executor(layout, run.engine, fields, regret, record=FIELDS if record is not None else ())
    size = max(executor.block_size(), min_block) if block is None else int(check_range("block", block, 1, integer=True))
    record = np.empty(0, dtype=np.int64) if record is None else np.asarray(record, dtype=np.int64)
    blocks = _blocks(executor, warmup, steps, size, record)
    # only the compiled kernel releases the GIL: a second thread of NumPy steps would only contend for it
    yield from (_prefetched(blocks) if prefetch and isinstance(executor, compiled.CompiledExecutor) else blocks)


def _prefetched(blocks: Iterator[Block]) -> Iterator[Block]:
    """The blocks, each computed in a worker thread while the previous one is being read."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            ahead = pool.submit(next, blocks, None)
            while True:
                blk = ahead.result()
                if blk is None:
                    return
                ahead = pool.submit(next, blocks, None)
                yield blk
        finally:  # a reader that stops early: the inner stream is closed in the thread that runs it
            close = getattr(blocks, "close", None)
            if close is not None:
                pool.submit(close).result()


def _blocks(executor: Executor, warmup: int, steps: int, size: int, record: np.ndarray) -> Iterator[Block]:
    with np.errstate(all="ignore"):
        for t0, B, is_warm in segments(warmup, steps, size):
            rows = np.empty(0, dtype=np.int64)
            if not is_warm and record.size:
                first, last = t0 - warmup, t0 - warmup + B - 1
                lo, hi = np.searchsorted(record, [first, last + 1])
                rows = record[lo:hi] - first
            chunk = executor.run(t0, B, not is_warm, rows)
            yield Block(
                t=chunk.t,
                warmup=is_warm,
                x_end=chunk.x,
                rows=rows,
                recorded=chunk.recorded,
                loss_rows=chunk.loss_rows,
                gsum_rows=chunk.gsum_rows,
                loss_end=chunk.loss_end,
                gsum_end=chunk.gsum_end,
                bad_step=chunk.bad_step,
                bad_nan=chunk.bad_nan,
                **chunk.fields,
            )
