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

The layout's optimizer carries the run's step size (α_t = lr·σ_t, its `lr` and `schedule`); its
own step is never called.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from adasim.engine.executors import Chunk, Executor, _gradient_block
from adasim.engine.layout import FIELDS, Layout
from adasim.errors import AdasimError
from adasim.usercode import call_user


class Stepper(Protocol):
    def run_block(self, x: np.ndarray, G: np.ndarray, alpha: np.ndarray, lo: Any, hi: Any,
                  t0: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Steps t0 … t0+B−1 from x (L, D) on gradients G (B, L, D) with step sizes α (B,), each
        projected on [lo, hi]: returns (u, x), both (B, L, D)."""


class StepError(AdasimError):
    """The foreign optimizer raised, or returned something that is not a step of the lanes."""


class StepperExecutor(Executor):
    """A foreign stepper's blocks with the executor's bookkeeping (see the module text)."""

    name = "stepper"

    def __init__(self, layout: Layout, stepper: Stepper, fields: tuple[str, ...] = (), regret: bool = True,
                 record: tuple[str, ...] = FIELDS) -> None:  # fmt: skip
        super().__init__(layout, fields, regret, record)
        if layout.problem.gradient_kernel is None:
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
            G = np.array(_gradient_block(lay, t0, B))
            u, x = self.stepper.run_block(x_start, G, alpha, lay.lo, lay.hi, t0)
        else:  # the gradient at each step's x: the stepper runs blocks of one step
            G, u, x = (np.empty((B, L, D)) for _ in range(3))
            here = x_start
            for b in range(B):
                g = call_user(lay.problem.gradient_kernel, "gradient", lay.params, lay.keys, t0 + b, here)
                G[b] = np.broadcast_to(g, (L, D))
                ub, xb = self.stepper.run_block(here, G[b : b + 1].copy(), alpha[b : b + 1], lay.lo, lay.hi, t0 + b)
                u[b], x[b] = ub[0], xb[0]
                here = x[b]
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
                if R:  # the running sums at the recorded rows only: partial sums between rows, then their cumsum
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
