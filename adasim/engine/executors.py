"""The NumPy and plain-Python executors, and what every executor returns for a block of steps.

An executor runs an optimizer's step — the same function on every executor — over the lanes of a
`Layout`, block by block, and keeps its own state, clock, ring of past gradients and iterate
between blocks. For each block it returns a `Chunk`: the requested per-step fields, the recorded
rows, the running sums the regret needs, and the first step at which each cell stopped being
finite. The compiled executor (adasim.engine.compiled) returns the same chunks with the same
floats; the NumPy executor calls the step once per step on (L, D) arrays; the Python executor
calls it once per step and cell on floats (for debugging and as the plainest reference).

Both project x_t = Π(x_{t−1} − u_t) with Π the clip to the domain's box, then, for a problem with a
set of its own (`Problem.projection()`, a ball of matrices), `Problem.project_lanes`; an executor
that cannot apply the latter (`projects` False: the compiled one) refuses the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim import ops
from adasim.engine.layout import FIELDS, Layout, negate_flipped
from adasim.errors import AdasimError
from adasim.usercode import UserCodeError, call_user, who


@dataclass(frozen=True)
class Chunk:
    """What one block of steps t0 … t0+B−1 produced. Arrays are over (L, D) cells."""

    t: np.ndarray  # (B,)
    fields: dict[str, np.ndarray]  # requested per-step fields, (B, L, D)
    rows: np.ndarray  # block rows recorded, (R,)
    recorded: dict[str, np.ndarray]  # every field at the recorded rows, (R, L, D)
    loss_rows: np.ndarray | None  # running Σ_s f_s(x_{s−1}) per cell at the rows, (R, L, D)
    gsum_rows: np.ndarray | None  # running Σ_s g_s per cell at the rows, (R, L, D)
    loss_end: np.ndarray | None  # the same after the block, (L, D)
    gsum_end: np.ndarray | None
    bad_step: np.ndarray  # (L, D) first step whose step or x was not finite (0: none so far)
    bad_nan: np.ndarray  # (L, D) whether that was a NaN
    x: np.ndarray  # (L, D) after the block


VALUES_PER_BLOCK = 2**20  # cells × steps × per-step fields in a block (8 MiB: the fields stay in cache for their reader)


class Executor:
    """Shared by the NumPy and Python executors: the carried state, and the bookkeeping of a chunk."""

    name = ""
    projects = False  # applies the problem's own projection (`Problem.project_lanes`, a ball) after the box's clip

    def __init__(
        self, layout: Layout, fields: tuple[str, ...] = (), regret: bool = True, record: tuple[str, ...] = FIELDS,
        regret_rows: bool = True,
    ) -> None:  # fmt: skip
        """`regret`: keep the running sums of the loss and the gradient (R_T at the end);
        `regret_rows`: also record them at the recorded rows (R_t along the trace)."""
        for f in (*fields, *record):
            if f not in FIELDS:
                raise AdasimError(f"unknown field '{f}' (known: {', '.join(FIELDS)})")
        where = layout.problem.projection()
        if where is not None and not self.projects:
            raise AdasimError(f"the {self.name} engine cannot run this: {layout.problem.name} projects every step on "
                              f"{where}, which the numpy, python and foreign executors apply (use --engine numpy)")  # fmt: skip
        self.project = where is not None
        self.layout = layout
        self.fields = tuple(fields)
        self.record = tuple(record)
        self.regret = regret
        self.regret_rows = bool(regret and regret_rows)
        L, D = layout.lanes, layout.dim
        self.x = layout.x0.copy()
        self.state = layout.state_arrays()
        self.clock = layout.clock0
        self.past = np.zeros((max(layout.depth, 1), L, D)) if layout.depth else None
        self.loss_sum = np.zeros((L, D))
        self.g_sum = np.zeros((L, D))
        self.bad_step = np.zeros((L, D))
        self.bad_nan = np.zeros((L, D))
        d = layout.optimizer.definition
        self.step_fn, self.tick_fn, self.arguments = d.step, d.tick, d.arguments

    def block_size(self) -> int:
        """The same for every engine, so that every engine's blocks — and the sums an observer
        keeps over them — are the same floats: about VALUES_PER_BLOCK values of per-step fields (or
        cell-steps, without fields), and at least 4 times the ring of past gradients (the compiled
        executor copies a block's state before it runs, to run it again)."""
        per_step = max(self.layout.cells, 1) * max(len(set(self.fields)), 1)
        return max(64, 4 * self.layout.depth, min(2**16, VALUES_PER_BLOCK // per_step))

    def _health(self, t: int, u: np.ndarray, x: np.ndarray) -> None:
        """Note the first step at which a cell's step, x or state stopped being finite (an
        overflowing v can give a step of 0 that looks fine), and whether by NaN."""
        values = (u, x, *self.state)
        finite = np.logical_and.reduce([np.isfinite(v) for v in values])
        if finite.all():
            return
        fresh = ~finite & (self.bad_step == 0.0)
        nan = np.logical_or.reduce([np.isnan(v) for v in values])
        self.bad_step = np.where(fresh, float(t), self.bad_step)
        self.bad_nan = np.where(fresh, nan.astype(float), self.bad_nan)

    def _chunk(self, t: np.ndarray, full: dict, rows: np.ndarray, rec: dict, loss_rows: Any, gsum_rows: Any) -> Chunk:
        return Chunk(
            t=t,
            fields=full,
            rows=rows,
            recorded=rec,
            loss_rows=loss_rows,
            gsum_rows=gsum_rows,
            loss_end=self.loss_sum.copy() if self.regret else None,
            gsum_end=self.g_sum.copy() if self.regret else None,
            bad_step=self.bad_step.copy(),
            bad_nan=self.bad_nan.copy(),
            x=self.x.copy(),
        )

    def reserve_rows(self, rows: int) -> dict[str, np.ndarray]:
        """Arrays the recorded rows are written into directly ({}: this executor's blocks carry
        their own copies, which a Trace copies out); see CompiledExecutor.reserve_rows."""
        return {}

    def _buffers(self, B: int, R: int) -> tuple[dict, dict, np.ndarray | None, np.ndarray | None]:
        """A block's per-step fields (B, L, D), recorded rows (R, L, D) and running-sum rows."""
        L, D = self.layout.lanes, self.layout.dim
        full = {f: np.empty((B, L, D)) for f in self.fields}
        rec = {f: np.empty((R, L, D)) for f in FIELDS} if R else {}
        loss_rows = np.empty((R, L, D)) if self.regret_rows and R else None
        gsum_rows = np.empty((R, L, D)) if self.regret_rows and R else None
        return full, rec, loss_rows, gsum_rows

    def _store(self, b: int, values: dict[str, Any], full: dict, rows: np.ndarray, r: int, rec: dict,
               loss_rows: np.ndarray | None, gsum_rows: np.ndarray | None) -> int:  # fmt: skip
        """Step b's per-step fields into `full`, and into recorded row r when b is the next recorded
        step (with the running loss and gradient sums); returns the next row to record."""
        for f in self.fields:
            full[f][b] = values[f]
        if r < len(rows) and rows[r] == b:
            for f in FIELDS:
                rec[f][r] = values[f]
            if loss_rows is not None:
                loss_rows[r] = self.loss_sum
                gsum_rows[r] = self.g_sum
            r += 1
        return r


def _gradient_block(layout: Layout, t0: int, B: int) -> np.ndarray | None:
    """The gradients of steps t0 … t0+B−1 for x-independent problems, (B, L, D) or broadcastable."""
    problem = layout.problem
    if not problem.x_independent:
        return None
    t = np.arange(t0, t0 + B, dtype=np.int64)[:, None, None]
    distinct = layout.distinct_lanes  # twin lanes: each stream drawn once
    keys = layout.keys if distinct is None else layout.keys[distinct[0]]
    with np.errstate(over="ignore"):
        g = call_user(problem.gradient_kernel, "gradient", layout.params, keys[None], t)
    g = np.broadcast_to(np.asarray(g, dtype=np.float64), (B, len(keys), layout.dim))
    if distinct is not None:
        g = g[:, distinct[1]]
    return negate_flipped(layout, g, t0)


def _check_out(o: Any, what: str) -> None:
    from adasim.optimizers.base import Out

    if not isinstance(o, Out):
        raise UserCodeError(f"{what} must return (state, Out), got {type(o).__name__} as the second value")


class NumpyExecutor(Executor):
    """The step once per step on (L, D) arrays: lanes and coordinates at once."""

    name = "numpy"
    projects = True

    def advance(self, g: np.ndarray, t: int, alpha: Any) -> tuple[np.ndarray, Any]:
        """One step of the optimizer on gradients g (L, D) at step t: ticks the clock, updates the
        state and the ring of past gradients, and returns the step u (L, D) with the step's Out.
        x (read by steps that ask for it) and the health are the caller's."""
        lay = self.layout
        L, D = lay.lanes, lay.dim
        d = lay.optimizer.definition
        if self.clock is not None:
            self.clock = call_user(self.tick_fn, "tick", self.clock, lay.hp, t)
        kwargs = {}
        for a in self.arguments:
            kwargs[a] = {"clock": self.clock, "x": self.x, "past": self.past, "blocks": lay.blocks}[a]
        result = call_user(self.step_fn, "step", self.state, lay.hp, g, t, alpha, **kwargs)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise UserCodeError(f"{who(d)}: step must return (state, Out), got {type(result).__name__}")
        state, o = result
        _check_out(o, f"{who(d)}: step")
        if not isinstance(state, d.state):
            raise UserCodeError(f"{who(d)}: step must return its {d.state.__name__} as the first value")
        named = zip(d.state._fields, state, strict=True)
        self.state = d.state(*(np.array(_real(v, (L, D), d, f"its state {n}")) for n, v in named))
        u = _real(o.step, (L, D), d, "the step")
        if self.past is not None:
            self.past[t % self.past.shape[0]] = g
        return u, o

    def run(self, t0: int, B: int, moving: bool, rows: np.ndarray) -> Chunk:
        lay = self.layout
        L, D = lay.lanes, lay.dim
        problem = lay.problem
        opt = lay.optimizer
        sigma = opt.schedule(np.arange(t0, t0 + B, dtype=np.int64))
        G = _gradient_block(lay, t0, B)
        full, rec, loss_rows, gsum_rows = self._buffers(B, len(rows))
        R = len(rows)
        r = 0
        lo, hi = lay.lo, lay.hi
        for b in range(B):
            t = t0 + b
            alpha = lay.lr * sigma[b]
            if G is not None:
                g = G[b]
            elif problem.gradient_kernel is not None:
                g = np.broadcast_to(call_user(problem.gradient_kernel, "gradient", lay.params, lay.keys, t, self.x), (L, D))
            else:
                g = problem.gradient(self.x, t, lay.seeds)
            u, o = self.advance(g, t, alpha)
            x_before = self.x
            x = ops.clip(x_before - u, lo, hi) if moving else x_before
            if self.project and moving:
                x = problem.project_lanes(x)
            self._health(t, u, x)
            if self.regret and moving:
                f = g * x_before if problem.linear else problem.loss_cells(x_before, t, g)
                self.loss_sum = self.loss_sum + f
                self.g_sum = self.g_sum + g
            self.x = np.array(x)
            if full or (r < R and rows[r] == b):
                values = {"x": self.x, "g": g, "m": o.m, "v": o.v, "step": u, "alpha": alpha, "pre": o.pre, "post": o.post}
                r = self._store(b, values, full, rows, r, rec, loss_rows, gsum_rows)
        return self._chunk(np.arange(t0, t0 + B, dtype=np.int64), full, rows, rec, loss_rows, gsum_rows)


class PythonExecutor(Executor):
    """The step once per step and cell (or lane, for a coupled step) on NumPy float64 scalars,
    in plain Python loops: slow, and the plainest statement of what the other executors compute."""

    name = "python"
    projects = True

    def _lane_hp(self, lane: int) -> Any:
        hp = self.layout.hp
        return hp._replace(**{f: _pick(getattr(hp, f), lane, 0) for f in self.layout.optimizer.definition.lane_fields})

    def run(self, t0: int, B: int, moving: bool, rows: np.ndarray) -> Chunk:
        lay = self.layout
        L, D = lay.lanes, lay.dim
        problem = lay.problem
        opt = lay.optimizer
        d = opt.definition
        sigma = opt.schedule(np.arange(t0, t0 + B, dtype=np.int64))
        G = _gradient_block(lay, t0, B)
        full, rec, loss_rows, gsum_rows = self._buffers(B, len(rows))
        hps = [self._lane_hp(lane) for lane in range(L)]
        if self.clock is not None and not isinstance(self.clock, list):  # one clock record per lane
            self.clock = [self.clock] * L
        units = [(lane, None) for lane in range(L)] if lay.coupled else [(lane, c) for lane in range(L) for c in range(D)]
        r = 0
        for b in range(B):
            t = t0 + b
            if G is not None:
                g_all = np.asarray(G[b])
            elif problem.gradient_kernel is not None:
                g_all = np.broadcast_to(call_user(problem.gradient_kernel, "gradient", lay.params, lay.keys, t, self.x), (L, D))
            else:
                g_all = problem.gradient(self.x, t, lay.seeds)
            if self.clock is not None:
                self.clock = [call_user(self.tick_fn, "tick", c, hps[lane], t) for lane, c in enumerate(self.clock)]
            values = {f: np.empty((L, D)) for f in FIELDS}
            x_before = self.x.copy()
            for lane, c in units:
                where = (lane, slice(None)) if c is None else (lane, c)
                alpha = np.float64(_pick(lay.lr, lane, 0)) * sigma[b]
                g = np.float64(g_all[where]) if c is not None else np.asarray(g_all[where], dtype=np.float64)
                s = d.state(*(np.float64(f[where]) if c is not None else f[where].copy() for f in self.state))
                kwargs = {}
                for a in self.arguments:
                    if a == "clock":
                        kwargs[a] = self.clock[lane]
                    elif a == "x":
                        kwargs[a] = np.float64(x_before[where]) if c is not None else x_before[where].copy()
                    elif a == "past":
                        kwargs[a] = self.past[:, lane, c] if c is not None else self.past[:, lane, :]
                    else:
                        kwargs[a] = lay.blocks if c is None else None
                state, o = call_user(d.step, "step", s, hps[lane], g, t, alpha, **kwargs)
                _check_out(o, f"{who(d)}: step")
                shape = () if c is not None else (D,)
                if not isinstance(state, d.state):
                    raise UserCodeError(f"{who(d)}: step must return its {d.state.__name__} as the first value")
                for f, n, v in zip(self.state, d.state._fields, state, strict=True):
                    f[where] = _real(v, shape, d, f"its state {n}")
                for name, value in (("g", g), ("m", o.m), ("v", o.v), ("step", o.step), ("alpha", alpha), ("pre", o.pre),
                                    ("post", o.post)):  # fmt: skip
                    values[name][where] = _real(value, shape, d, "the step" if name == "step" else f"its {name}")
            u = values["step"]
            x = ops.clip(x_before - u, lay.lo, lay.hi) if moving else x_before
            if self.project and moving:
                x = problem.project_lanes(x)
            values["x"] = x
            self._health(t, u, x)
            if self.regret and moving:
                f = g_all * x_before if problem.linear else problem.loss_cells(x_before, t, g_all)
                self.loss_sum = self.loss_sum + f
                self.g_sum = self.g_sum + g_all
            if self.past is not None:
                self.past[t % self.past.shape[0]] = g_all
            self.x = np.array(x)
            r = self._store(b, values, full, rows, r, rec, loss_rows, gsum_rows)
        return self._chunk(np.arange(t0, t0 + B, dtype=np.int64), full, rows, rec, loss_rows, gsum_rows)


def _real(value: Any, shape: tuple[int, ...], d: Any, what: str) -> np.ndarray:
    """A step's output as float64 of `shape` (broadcast); complex numbers or another shape are the
    user step's error, not a warning (NumPy would drop the imaginary part) or an internal one."""
    arr = np.asarray(value)
    if np.iscomplexobj(arr):
        raise UserCodeError(f"{who(d)}: step returned complex numbers as {what}: a step must give real floats")
    try:
        return np.broadcast_to(np.asarray(arr, dtype=np.float64), shape)
    except (ValueError, TypeError) as err:
        raise UserCodeError(f"{who(d)}: step returned values of the wrong shape or type as {what} ({err})") from None


def _pick(value: Any, lane: int, coordinate: int) -> Any:
    """A lane's value of a scalar, (L, 1) column or (L, D) array."""
    if np.ndim(value) == 0:
        return value
    arr = np.asarray(value)
    return arr[lane, 0] if arr.shape[-1] == 1 else arr[lane, coordinate]
