"""An optimizer adasim does not define (a torch.optim class, an optax transformation) as one more
executor of the block stream.

`StepperExecutor` is the NumPy executor with the optimizer's step replaced by a *stepper*: an
object that takes the gradients g_t (L, D) of every lane, the step t and the step size α_t, and
returns the displacement u_t = x_{t−1} − x_t it made. Everything else — the gradients (with the
twin lanes' flips), the projection x_t = Π(x_{t−1} − u_t), the health, the regret's running
sums, the per-step fields and recorded rows — is the executor's, written once for every
optimizer. Before each step the stepper is given the projected iterate (`set_x`), so the
optimizer always steps from the point the problem sees. A foreign optimizer has no m, v, pre or
post that adasim can read: those fields are NaN.

The layout's optimizer carries the run's step size (α_t = lr·σ_t, its `lr` and `schedule`); its
own step is never called.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from adasim.engine.executors import NumpyExecutor
from adasim.engine.layout import FIELDS, Layout
from adasim.errors import AdasimError
from adasim.optimizers.base import Out


class Stepper(Protocol):
    def step(self, g: np.ndarray, t: int, alpha: float) -> np.ndarray:
        """One step on gradients g (L, D) with step size α_t; returns u = x_before − x_after."""

    def set_x(self, x: np.ndarray) -> None:
        """Put x (L, D) into the optimizer's parameters."""


class StepError(AdasimError):
    """The foreign optimizer raised, or returned something that is not a step of the lanes."""


class StepperExecutor(NumpyExecutor):
    """The NumPy executor's loop around a foreign stepper (see the module text)."""

    name = "stepper"

    def __init__(self, layout: Layout, stepper: Stepper, fields: tuple[str, ...] = (), regret: bool = True,
                 record: tuple[str, ...] = FIELDS) -> None:  # fmt: skip
        super().__init__(layout, fields, regret, record)
        self.stepper = stepper
        self.stepper.set_x(self.x)
        self._nan = np.full((layout.lanes, layout.dim), np.nan)

    def block_size(self) -> int:
        return 1024

    def advance(self, g: np.ndarray, t: int, alpha: Any) -> tuple[np.ndarray, Any]:
        L, D = self.layout.lanes, self.layout.dim
        self.stepper.set_x(self.x)
        u = self.stepper.step(np.array(g, dtype=np.float64), int(t), float(alpha))
        u = np.asarray(u)
        if u.shape != (L, D):
            raise StepError(f"step {t}: the update has shape {u.shape}, expected {(L, D)}")
        if not np.isrealobj(u):
            raise StepError(f"step {t}: the update is {u.dtype}, not real numbers")
        nan = self._nan
        return u.astype(np.float64, copy=False), Out(u, nan, nan, nan, nan)
