"""An optimizer adasim does not define (a torch.optim class, an optax transformation) as one more
executor of the block stream.

`StepperExecutor` hands a block of the run to a *stepper*: an object that takes the iterate x
(L, D), the block's gradients G (B, L, D) (the problem's, with the twin lanes' flips), the step
sizes α_t (B,) and the box [lo, hi], steps its optimizer B times — x_t = Π(x_{t−1} − u_t), Π the
clip to the box, the optimizer always stepping from the projected point — and returns the
displacements u (B, L, D) and the iterates x (B, L, D). The stepper owns only the optimizer's
loop (a Python loop of `opt.step()` for torch, one jitted `lax.scan` for optax); everything else
— the gradients, the health, the regret's running sums, the per-step fields and recorded rows —
is this executor's, the same bookkeeping as the NumPy executor's, over the whole block at once.
A foreign optimizer has no m, v, pre or post that adasim can read: those fields are NaN.

A problem with a set of its own beyond the box (`Problem.projection()`, a ball of matrices) is
stepped one step per `run_block` call, each result projected by `Problem.project_lanes` and handed
back as the next call's x: a stepper projects on the box only, and starts each block from the x
it is given.

The layout's optimizer carries the run's step size (α_t = lr·σ_t, its `lr` and `schedule`); its
own step is never called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from adasim.engine.executors import Chunk, Executor, _gradient_block
from adasim.engine.layout import FIELDS, Layout
from adasim.errors import AdasimError
from adasim.usercode import call_user

Gradient = Callable[[int, np.ndarray], np.ndarray]


class Stepper(Protocol):
    block: int

    def run_block(self, x: np.ndarray, G: np.ndarray, alpha: np.ndarray, lo: Any, hi: Any, t0: int,
                  gradient: Gradient | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Steps t0 … t0+B−1 from x (L, D) on gradients G (B, L, D) with step sizes α (B,), each
        projected on [lo, hi]: returns (u, x), both (B, L, D). When the problem's gradient depends
        on x, `gradient(t, x_{t−1})` gives step t's (L, D), which the stepper writes into G[t − t0]
        before it steps."""


class StepError(AdasimError):
    """The foreign optimizer raised, or returned something that is not a step of the lanes."""


class StepperExecutor(Executor):
    """A foreign stepper's blocks with the executor's bookkeeping (see the module text)."""

    name = "stepper"
    projects = True

    def __init__(self, layout: Layout, stepper: Stepper, fields: tuple[str, ...] = (), regret: bool = True,
                 record: tuple[str, ...] = FIELDS, regret_rows: bool = True) -> None:  # fmt: skip
        super().__init__(layout, fields, regret, record, regret_rows)
        if layout.problem.gradient_kernel is None and layout.problem.x_independent:
            raise AdasimError(f"{layout.problem.name}: a foreign optimizer needs a problem with a gradient kernel")
        self.stepper = stepper

    def block_size(self) -> int:
        return int(getattr(self.stepper, "block", 1000))

    def run(self, t0: int, B: int, moving: bool, rows: np.ndarray) -> Chunk:
        if not moving:
            raise AdasimError("a foreign optimizer runs no warm-up steps (they would move its parameters)")
        lay = self.layout
        L, D = lay.lanes, lay.dim
        t = np.arange(t0, t0 + B, dtype=np.int64)
        alpha = np.array(np.broadcast_to(np.asarray(lay.lr, dtype=np.float64).reshape(-1)[:1] * lay.optimizer.schedule(t), (B,)))
        x_start = self.x
        if lay.problem.x_independent:
            shared = getattr(self.stepper, "gradients", None)  # a Joint's part: the joint's draw, not a second one
            G = shared(t0, B, alpha, self.x) if shared is not None else np.array(_gradient_block(lay, t0, B))
            gradient = None
        else:  # the gradient at each step's x, asked for by the stepper as it goes
            G = np.empty((B, L, D))
            kernel = lay.problem.gradient_kernel

            def gradient(t: int, here: np.ndarray) -> np.ndarray:
                if kernel is None:  # a problem whose gradient is a Python function of whole arrays (Custom, Matrix)
                    return lay.problem.gradient(here, t, lay.seeds)
                return np.broadcast_to(call_user(kernel, "gradient", lay.params, lay.keys, t, here), (L, D))

        if self.project:
            u, x = self._projected_block(x_start, G, alpha, t0, gradient)
        else:
            u, x = self.stepper.run_block(x_start, G, alpha, lay.lo, lay.hi, t0, gradient)
        if u.shape != (B, L, D) or x.shape != (B, L, D):
            raise StepError(f"steps {t0}…{t0 + B - 1}: the updates have shape {u.shape}, expected {(B, L, D)}")
        self._block_health(t, u, x)
        R = len(rows)
        loss_rows = gsum_rows = None
        if self.regret:
            x_prev = np.concatenate([x_start[None], x[:-1]], axis=0)
            problem = lay.problem
            with np.errstate(all="ignore"):
                f = G * x_prev if problem.linear else problem.loss_kernel(problem.kernel_params(), x_prev)
                f = np.broadcast_to(f, (B, L, D))
                if R and self.regret_rows:  # sums at the recorded rows: partial sums between rows, cumsum
                    cuts = np.concatenate([[0], rows[:-1] + 1])
                    loss_rows = self.loss_sum + np.cumsum(np.add.reduceat(f[: rows[-1] + 1], cuts, axis=0), axis=0)
                    gsum_rows = self.g_sum + np.cumsum(np.add.reduceat(G[: rows[-1] + 1], cuts, axis=0), axis=0)
                self.loss_sum = self.loss_sum + f.sum(axis=0)
                self.g_sum = self.g_sum + G.sum(axis=0)
        self.x = x[-1].copy()
        values = {"x": x, "g": G, "step": u, "alpha": np.broadcast_to(alpha[:, None, None], (B, L, D))}
        full = {f: values[f] if f in values else np.full((B, L, D), np.nan) for f in self.fields}
        rec = {f: (np.array(values[f][rows]) if f in values else np.full((R, L, D), np.nan)) for f in FIELDS} if R else {}
        return self._chunk(t, full, rows, rec, loss_rows, gsum_rows)

    def _projected_block(self, x: np.ndarray, G: np.ndarray, alpha: np.ndarray, t0: int,
                         gradient: Gradient | None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """The block one step at a time, each step's x projected on the problem's own set before
        the next step starts from it (see the module text): u (B, L, D) and x (B, L, D)."""
        lay = self.layout
        us, xs = np.empty_like(G), np.empty_like(G)
        here = x
        for b in range(len(G)):
            u, after = self.stepper.run_block(here, G[b : b + 1], alpha[b : b + 1], lay.lo, lay.hi, t0 + b, gradient)
            if np.shape(u) != (1, *here.shape) or np.shape(after) != (1, *here.shape):
                raise StepError(f"step {t0 + b}: the update has shape {np.shape(u)}, expected {(1, *here.shape)}")
            us[b] = u[0]
            here = xs[b] = lay.problem.project_lanes(np.asarray(after[0], dtype=np.float64))
        return us, xs

    def _block_health(self, t: np.ndarray, u: np.ndarray, x: np.ndarray) -> None:
        """The first step of the block at which a cell's step or x was not finite, and whether by NaN."""
        bad = ~(np.isfinite(u) & np.isfinite(x))
        if not bad.any():
            return
        first = np.argmax(bad, axis=0)  # (L, D)
        hit = bad.any(axis=0)
        fresh = hit & (self.bad_step == 0.0)
        nan = np.take_along_axis(np.isnan(u) | np.isnan(x), first[None], axis=0)[0]
        self.bad_step = np.where(fresh, t[first].astype(float), self.bad_step)
        self.bad_nan = np.where(fresh, nan.astype(float), self.bad_nan)


class Joint:
    """One stepper run for the lanes of several layouts side by side — independent streams (other
    problems, other seeds) with the same step sizes α_t and dimension — so that a foreign
    optimizer steps once per t for all of them instead of once per layout and t. Each layout's
    StepperExecutor is handed a `part(i)`; the first part that asks for a block runs it for all:
    the other layouts' gradients come from their own layouts (the stream is a pure function of a
    layout and t), the box is each lane's own. Every part then takes its lanes.

    Valid only where the stepper's lanes are independent (adasim.checks.adapters proves that of a
    layout before a check uses it) and every problem is x-independent. The parts must be advanced
    in step — each asks for a block before any asks for the next (`drop(i)` takes a part out):
    a part that runs ahead is an error, not a silent recomputation."""

    def __init__(self, layouts: Sequence[Layout], make: Callable[[np.ndarray], Stepper]) -> None:
        if len({lay.dim for lay in layouts}) != 1:
            raise AdasimError("a joint run needs layouts of one dimension")
        if not all(lay.problem.x_independent and lay.problem.gradient_kernel is not None for lay in layouts):
            raise AdasimError("a joint run needs problems whose gradients do not depend on x")
        self.layouts = list(layouts)
        self.edges = np.cumsum([0] + [lay.lanes for lay in self.layouts])
        self.x = np.concatenate([lay.x0 for lay in self.layouts]).astype(np.float64)
        self.lo, self.hi = (np.concatenate([np.broadcast_to(np.asarray(b, dtype=np.float64), (lay.lanes, lay.dim))
                                            for lay, b in zip(self.layouts, bounds, strict=True)])
                            for bounds in ([lay.lo for lay in self.layouts], [lay.hi for lay in self.layouts]))  # fmt: skip
        self.stepper = make(self.x.copy())
        self.block = int(getattr(self.stepper, "block", 1000))
        self.key: tuple[int, int] | None = None
        self.waiting: set[int] = set()
        self.live = set(range(len(self.layouts)))

    def part(self, i: int) -> Stepper:
        return _Part(self, i)

    def drop(self, i: int) -> None:
        """Part i stops asking (its case ended early): the others go on without waiting for it."""
        self.live.discard(i)
        self.waiting.discard(i)

    def _run(self, t0: int, B: int, alpha: np.ndarray) -> None:
        G = np.concatenate([np.broadcast_to(_gradient_block(lay, t0, B), (B, lay.lanes, lay.dim)) for lay in self.layouts],
                           axis=1)  # fmt: skip
        self.start, self.G = self.x, G
        self.u, self.xs = self.stepper.run_block(self.x, G, alpha, self.lo, self.hi, t0)
        self.x = self.xs[-1].copy()
        self.key, self.alpha = (t0, B), np.array(alpha)
        self.waiting = set(self.live)

    def gradients(self, i: int, x: np.ndarray, alpha: np.ndarray, t0: int, B: int) -> np.ndarray:
        """Part i's gradients of steps t0 … t0+B−1: the block is run for every part when the first
        part asks (so each layout's stream is drawn once)."""
        self._ensure(i, t0, B, alpha)
        a, b = self.edges[i], self.edges[i + 1]
        return np.array(self.G[:, a:b])

    def _ensure(self, i: int, t0: int, B: int, alpha: np.ndarray) -> None:
        if self.key != (t0, B):
            if self.waiting:
                raise AdasimError(f"a joint run's part {i} asked for steps {t0}… before parts {sorted(self.waiting)} "
                                  "took the previous block")  # fmt: skip
            self._run(t0, B, alpha)

    def take(self, i: int, x: np.ndarray, alpha: np.ndarray, t0: int, B: int) -> tuple[np.ndarray, np.ndarray]:
        self._ensure(i, t0, B, alpha)
        a, b = self.edges[i], self.edges[i + 1]
        same = np.array_equal(alpha, self.alpha) and np.array_equal(x, self.start[a:b], equal_nan=True)
        if i not in self.waiting or not same:
            raise AdasimError(f"a joint run's part {i} is out of step at steps {t0}…{t0 + B - 1}")
        self.waiting.discard(i)
        return self.u[:, a:b], self.xs[:, a:b]


class _Part:
    """One layout's lanes of a Joint run, as a Stepper."""

    def __init__(self, joint: Joint, i: int) -> None:
        self.joint, self.i, self.block = joint, i, joint.block

    def run_block(self, x: np.ndarray, G: np.ndarray, alpha: np.ndarray, lo: Any, hi: Any, t0: int,
                  gradient: Gradient | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        if gradient is not None:
            raise AdasimError("a joint run needs problems whose gradients do not depend on x")
        return self.joint.take(self.i, x, alpha, t0, len(G))

    def gradients(self, t0: int, B: int, alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
        return self.joint.gradients(self.i, x, alpha, t0, B)
