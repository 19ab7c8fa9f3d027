"""What every executor needs, resolved once: the lanes, the coordinates, the optimizer's values
laid out for arrays, the initial state and clock, and which clock values all lanes share.

Shapes follow one convention: L lanes (seeds × per-lane settings) × D coordinates. A setting is a
scalar, a per-lane column (L, 1) or a per-coordinate row (D,); state and iterate are (L, D). The
compiled executor flattens (L, D) into L·D cells, lane-major.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.arguments import require_optimizer, require_problem
from adasim.errors import AdasimError
from adasim.memory import require
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem

FIELDS = ("x", "g", "m", "v", "step", "alpha", "pre", "post")


def as_seeds(seeds: Any) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(seeds))
    except (TypeError, ValueError):
        arr = np.array([], dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 0):
        raise AdasimError(f"seeds must be non-negative whole numbers, got {seeds!r}")
    if np.any(arr > np.iinfo(np.int64).max):
        raise AdasimError("seeds must be below 2^63")
    return arr.astype(np.uint64)


def lane_count(problem: Problem, optimizer: Optimizer, seeds: np.ndarray) -> int:
    """L: the common length of the seeds and every per-lane parameter (1 broadcasts)."""
    sizes = {n for n in (len(seeds), problem.lanes(), optimizer.lanes()) if n != 1}
    if len(sizes) > 1:
        raise AdasimError(
            f"lane counts differ: {len(seeds)} seeds, {problem.lanes()} problem settings, "
            f"{optimizer.lanes()} optimizer settings (give equal lengths or length 1)"
        )
    return sizes.pop() if sizes else 1


def start_point(problem: Problem, x0: Any, lanes: int) -> np.ndarray:
    """x_0 broadcast to (L, D); it must lie in the domain."""
    try:
        x = np.array(np.broadcast_to(np.asarray(x0, dtype=np.float64), (lanes, problem.dim)))
    except (TypeError, ValueError):
        raise AdasimError(f"x0 must be a number, a point of dimension {problem.dim} or one per lane") from None
    if not np.all(np.isfinite(x)):
        raise AdasimError(f"x0 must be finite, got {x0!r}")
    if not np.all(problem.domain.contains(x)):
        raise AdasimError(f"x0 = {np.asarray(x0).tolist()} lies outside the domain {problem.domain.describe()}")
    return x


def column(value: Any) -> Any:
    """A scalar stays a scalar; a per-lane 1-D array becomes a (L, 1) column."""
    return value[:, None] if isinstance(value, np.ndarray) and value.ndim == 1 else value


def _bound(value: Any, dim: int) -> Any:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    try:
        return np.array(np.broadcast_to(arr, (dim,)))
    except ValueError:
        raise AdasimError(f"the domain's bounds must be numbers or one per coordinate ({dim})") from None


def shared_fields(tick: Any, clock: Any, hp: Any) -> tuple[bool, ...]:
    """Which clock values are the same in every lane: a value computed only from scalar settings
    stays a scalar under NumPy broadcasting, one that depends on a per-lane setting becomes a
    column. A few ticks let values that depend on each other settle."""
    with np.errstate(all="ignore"):
        for t in range(1, len(clock) + 2):
            clock = tick(clock, hp, t)
    return tuple(np.ndim(v) == 0 for v in clock)


class _Reads:
    """A clock record that notes which of its fields a tick reads."""

    def __init__(self, record: Any) -> None:
        object.__setattr__(self, "_record", record)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name: str) -> Any:
        record = object.__getattribute__(self, "_record")
        if name in record._fields:
            self.read.add(name)
        return getattr(record, name)

    def __getitem__(self, i: Any) -> Any:
        self.read.update(self._record._fields)
        return self._record[i]

    def __iter__(self) -> Any:
        self.read.update(self._record._fields)
        return iter(self._record)

    def __len__(self) -> int:
        return len(self._record)


def carried_fields(tick: Any, clock: Any, hp: Any) -> tuple[bool, ...]:
    """Which clock values a tick reads from the previous step (the others it derives afresh, so
    the compiled kernel need not keep them)."""
    probe = _Reads(clock)
    try:
        with np.errstate(all="ignore"):
            tick(probe, hp, 1)
    except Exception:  # a tick the probe cannot follow: keep every value
        return tuple(True for _ in clock)
    return tuple(f in probe.read for f in clock._fields)


@dataclass(frozen=True, eq=False)
class Layout:
    """A run's lanes and everything the executors take from the problem and the optimizer."""

    problem: Problem
    optimizer: Optimizer
    seeds: np.ndarray  # (L,) uint64
    lanes: int
    dim: int
    x0: np.ndarray  # (L, D)
    blocks: tuple[int, ...]  # the block sizes a coupled step shares over
    coupled: bool  # the step sees a lane's coordinates together (a block has more than one)
    depth: int  # earlier gradients kept for the step (0: none)
    hp: Any  # the hyper-parameter record with per-lane values as (L, 1) columns
    lr: Any  # scalar or (L, 1)
    state0: Any  # initial state, scalars
    clock0: Any  # initial clock (None: the optimizer has none)
    shared: tuple[bool, ...]  # per clock field: the same in every lane
    carried: tuple[bool, ...]  # per clock field: read by the next tick (kept between steps)
    params: Any  # the gradient kernel's parameters: scalars, (L, 1) columns, (D,) rows
    keys: np.ndarray  # (L, D) uint64
    lo: Any  # scalar or (D,)
    hi: Any
    flip: np.ndarray | None = None  # (L,) the step at which each lane's gradient is negated (0: never), or None

    @classmethod
    def build(cls, problem: Problem, optimizer: Optimizer, seeds: Any, x0: Any, flip: Any = None) -> Layout:
        """Resolve the run's lanes. `flip` (one step per lane, 0 for none) negates a lane's gradient at
        that one step: the "twin" lanes of `adasim check`, which see their seed's gradients but −g_s at s."""
        require_problem(problem)
        require_optimizer(optimizer)
        seeds = as_seeds(seeds)
        lanes = lane_count(problem, optimizer, seeds)
        seeds = np.array(np.broadcast_to(seeds, (lanes,)))
        dim = problem.dim
        # the layout's own arrays (keys, x, the kernel's per-coordinate rows, ...): about 8 doubles per cell
        require(64.0 * lanes * dim, f"{lanes:,} lanes × {dim:,} coordinates", "use fewer seeds or coordinates")
        blocks = optimizer.blocks if optimizer.blocks is not None else (problem.block_sizes() or (dim,))
        if sum(blocks) != dim:
            raise AdasimError(f"block sizes {list(blocks)} add up to {sum(blocks)}, but the problem has {dim} coordinates")
        coupled = optimizer.coupled() and (max(blocks) > 1 or optimizer.definition.matrix)  # a 1 × 1 matrix too
        hp = optimizer.hp._replace(**{f: column(getattr(optimizer.hp, f)) for f in optimizer.definition.lane_fields})
        clock0 = optimizer.initial_clock()
        shared = () if clock0 is None else shared_fields(optimizer.definition.tick, clock0, hp)
        carried = () if clock0 is None else carried_fields(optimizer.definition.tick, clock0, hp)
        params = None
        keys = np.zeros((lanes, dim), dtype=np.uint64)
        if problem.gradient_kernel is not None:
            params = problem.kernel_params()
            keys = np.array(np.broadcast_to(problem.keys(seeds), (lanes, dim)))
        return cls(
            problem=problem,
            optimizer=optimizer,
            seeds=seeds,
            lanes=lanes,
            dim=dim,
            x0=start_point(problem, x0, lanes),
            blocks=tuple(int(b) for b in blocks),
            coupled=coupled,
            depth=optimizer.history(),
            hp=hp,
            lr=column(optimizer.lr),
            state0=optimizer.initial_state(),
            clock0=clock0,
            shared=shared,
            carried=carried,
            params=params,
            keys=keys,
            lo=_bound(problem.domain.lo, dim),
            hi=_bound(problem.domain.hi, dim),
            flip=_flips(flip, lanes, problem),
        )

    @property
    def cells(self) -> int:
        return self.lanes * self.dim

    @functools.cached_property
    def distinct_lanes(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(first lane of each distinct gradient stream, each lane's stream) when lanes repeat a
        stream — twin lanes share their seed's keys and no setting varies per lane — else None."""
        if self.params is None or self.flip is None:
            return None
        if any(np.ndim(v) == 2 and np.shape(v)[0] == self.lanes and self.lanes > 1 for v in self.params):
            return None  # a per-lane problem setting: every lane its own stream
        _, first, inverse = np.unique(self.keys, axis=0, return_index=True, return_inverse=True)
        if len(first) == self.lanes:
            return None
        return first, inverse.reshape(-1)

    def state_arrays(self) -> Any:
        """The initial state as (L, D) arrays."""
        return type(self.state0)(*(np.full((self.lanes, self.dim), float(v)) for v in self.state0))

    def gradient_is_shared(self) -> bool:
        """Whether every lane and coordinate sees the same gradient (no seeds, no per-lane or
        per-coordinate parameters): it is then drawn once per step."""
        if self.params is None or self.problem.uses_seeds or not self.problem.x_independent:
            return False
        tables = set(self.problem.tables)
        return all(np.ndim(v) == 0 for f, v in zip(self.params._fields, self.params, strict=True) if f not in tables)


def _flips(flip: Any, lanes: int, problem: Problem) -> np.ndarray | None:
    if flip is None:
        return None
    arr = np.asarray(flip)
    if arr.shape != (lanes,) or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 0):
        raise AdasimError(f"flip must give one step (≥ 0) per lane ({lanes}), got shape {arr.shape}")
    if not problem.x_independent:
        raise AdasimError(f"{problem.name}: a flipped gradient needs gradients that do not depend on x")
    return arr.astype(np.int64)


def negate_flipped(layout: Layout, G: np.ndarray, t0: int) -> np.ndarray:
    """The gradients G (B, L, D) of steps t0 … t0+B−1 with each lane's flipped step negated (a
    copy when something changes; G itself otherwise)."""
    if layout.flip is None:
        return G
    B = G.shape[0]
    lanes = np.flatnonzero((layout.flip >= t0) & (layout.flip < t0 + B))
    if lanes.size == 0:
        return G
    G = np.array(G)
    rows = layout.flip[lanes] - t0
    G[rows, lanes] = -G[rows, lanes]
    return G
