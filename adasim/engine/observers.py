"""Observers of the block stream: each reads the blocks of one pass and keeps what it measures, so
that several analyses share one run. `observe(blocks, observers)` feeds them; `simulate` attaches
the trace, the regret and the health; `adasim check` attaches those and its own (the second
half's average iterate and drift, the twin lanes' factors).

An observer has `block(blk, t)`, called for every block that moves x, with `t` the block's main
steps (1-based, after any warm-up); one whose `warmup` attribute is True gets the warm-up blocks
too (their t ≤ 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from adasim.engine.layout import Layout
from adasim.engine.stream import Block
from adasim.errors import AdasimError


class Observer(Protocol):
    def block(self, blk: Block, t: np.ndarray) -> None:
        """Read one block that moved x; t its main steps."""


def observe(blocks: Iterable[Block], observers: Sequence[Observer], warmup: int = 0,
            progress: Callable[[int], None] | None = None) -> Block | None:  # fmt: skip
    """Feed every block that moves x to each observer; returns the last block (None: no block).
    `progress(n)` is told of n more steps, warm-up included."""
    last = None
    for blk in blocks:
        if progress is not None:
            progress(len(blk.t))
        last = blk
        feed(blk, observers, warmup)
    return last


def feed(blk: Block, observers: Sequence[Observer], warmup: int = 0) -> None:
    """One block to each observer; a warm-up block only to those that ask for them (`warmup` True)."""
    t = blk.t - warmup
    for o in observers:
        if not blk.warmup or getattr(o, "warmup", False):
            o.block(blk, t)


class Regret:
    """R_t = Σ_{s≤t} f_s(x_{s−1}) − min_{x∈F} Σ_{s≤t} f_s(x). For a linear f over a box the minimum
    is exact from Σ g; otherwise the comparator is the optimum x*'s own loss. As an observer it
    keeps Σ f_s(x*) up to the last block (non-linear problems); `rows` gives R at a block's
    recorded rows, `average` R_T/T at the end."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        problem = layout.problem
        self.lo = np.broadcast_to(np.asarray(problem.domain.lo, float), (layout.dim,))
        self.hi = np.broadcast_to(np.asarray(problem.domain.hi, float), (layout.dim,))
        self.linear = problem.linear
        self.ball = problem.projection() is not None  # a linear problem on a ball: its minimiser
        self.defined = problem.domain.bounded or not problem.linear or self.ball
        self.opt_sum = np.zeros(layout.lanes)
        self.opt_last: np.ndarray | None = None
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
        """min over the box of (Σ g)·x, per lane (R, L) from (R, L, D) (−inf on an unbounded side);
        over the problem's ball, ⟨Σ g, argmin⟩ (0 where Σ g = 0)."""
        if self.ball:
            best = [self.layout.problem.linear_minimiser(row) for row in g_sum]  # one recorded row at a time
            if any(b is None for b in best):  # a set without a known minimiser: no regret
                return np.full(g_sum.shape[:-1], np.nan)
            with np.errstate(invalid="ignore"):
                return np.stack([np.nan_to_num(np.sum(row * b, axis=-1)) for row, b in zip(g_sum, best, strict=True)])
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

    def block(self, blk: Block, t: np.ndarray) -> None:
        self.opt_rows = None
        if not self.linear:
            sums = self.optimum_sums(t)
            self.opt_last = sums[-1]
            self.opt_rows = sums[blk.rows] if blk.rows.size else None

    def rows(self, blk: Block) -> np.ndarray:
        """R at the block's recorded rows, (R, L) (after `block` saw it)."""
        return self.at(blk.loss_rows, blk.gsum_rows, self.opt_rows)

    def average(self, last: Block, steps: int) -> np.ndarray:
        """R_T/T per lane from the last block (NaN where it is not defined: a linear loss on an
        unbounded domain)."""
        if not self.defined:
            return np.full(self.layout.lanes, np.nan)
        with np.errstate(all="ignore"):
            opt_end = None if self.opt_last is None else self.opt_last[None]
            return self.at(last.loss_end[None], last.gsum_end[None], opt_end)[0] / steps


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a and b are the same elements of the same memory (a view written in place)."""
    return a.shape == b.shape and a.strides == b.strides and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


class Trace:
    """The fields `record` at the recorded rows, and R_t/t there when `regret` is given. With `rows`
    (how many rows the run records) the trace is written into arrays made once — or adopted from
    the executor (`into`, Executor.reserve_rows), which then writes the rows in place; without,
    each block's rows are kept as copies and joined at the end. A block's arrays that are not
    already the trace's own are copied (they may be the executor's scratch)."""

    def __init__(self, record: Sequence[str], regret: Regret | None = None, rows: int | None = None,
                 into: dict[str, np.ndarray] | None = None) -> None:  # fmt: skip
        self.record = tuple(record)
        self.regret = regret
        self.rows = rows
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in ("t", *self.record)}
        self.out: dict[str, np.ndarray] = {k: v for k, v in (into or {}).items() if k in self.record}
        self.filled = 0

    def _put(self, name: str, values: np.ndarray) -> None:
        if self.rows is None:
            self.parts[name].append(np.array(values))
            return
        if name not in self.out:
            self.out[name] = np.empty((self.rows, *values.shape[1:]), dtype=values.dtype)
        dest = self.out[name][self.filled : self.filled + len(values)]
        if not _same_memory(dest, values):  # the executor wrote them elsewhere (its scratch): copy
            dest[...] = values

    def block(self, blk: Block, t: np.ndarray) -> None:
        if not blk.rows.size:
            return
        t_rows = t[blk.rows]
        self._put("t", t_rows)
        for name in self.record:
            if name in blk.recorded:
                self._put(name, blk.recorded[name])
        if self.regret is not None and "average_regret" in self.record:
            with np.errstate(all="ignore"):
                self._put("average_regret", self.regret.rows(blk) / t_rows[:, None])
        self.filled += len(t_rows)

    def arrays(self, names: Sequence[str]) -> dict[str, Any]:
        """Every name's rows joined ((rows, L, D) or (rows, L)); None for a name not recorded."""
        if self.rows is not None:
            if self.filled != self.rows:
                raise AdasimError(f"the trace expected {self.rows} rows and was given {self.filled}")
            return {k: self.out.get(k) for k in ("t", *names)}
        return {k: (np.concatenate(self.parts[k], axis=0) if self.parts.get(k) else None) for k in ("t", *names)}


def health(last: Block) -> tuple[np.ndarray, np.ndarray]:
    """Per lane: 'ok', or 'nan'/'overflow' by the first non-finite value over its coordinates, and
    that step (0: none), from the last block's cumulative flags."""
    bad_step, bad_nan = last.bad_step, last.bad_nan
    hit = bad_step > 0
    any_hit = hit.any(axis=1)
    first = np.where(hit, bad_step, np.inf).min(axis=1)
    nan = np.any(hit & (bad_step == first[:, None]) & (bad_nan > 0), axis=1)
    status = np.where(any_hit, np.where(nan, "nan", "overflow"), "ok")
    return status.astype(str), np.where(any_hit, first, 0).astype(np.int64)
