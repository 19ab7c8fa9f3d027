"""A user-defined problem: a gradient callable and a domain; the engine's general path runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.errors import AdasimError
from adasim.problems.base import Problem


@dataclass(frozen=True, eq=False)
class Custom(Problem):
    """g_t = gradient(x, t, seeds) with x of shape (L, D), t the 1-based step and seeds (L,);
    optional loss(x, t) -> (L,) and optimum (D,) give regret and the verdict.

    Examples
    --------
    The gradient of f(x) = ½(x − 0.3)²: SGD with α = 0.5 halves the distance to x* = 0.3 every step.

    >>> from adasim import SGD, Custom, simulate
    >>> problem = Custom(gradient_fn=lambda x, t, seeds: x - 0.3, optimum_point=0.3)
    >>> run = simulate(problem, SGD(lr=0.5), steps=20, x0=1.0)
    >>> round(float(run.final_x[0, 0]), 4), run.summary()["verdict"]  # 0.3 + 0.7·0.5²⁰
    (0.3, 'optimum')
    """

    gradient_fn: Callable[[np.ndarray, int, np.ndarray], np.ndarray] | None = None
    size: int = 1
    loss_fn: Callable[[np.ndarray, int], np.ndarray] | None = None
    optimum_point: Any = None
    label: str = "custom"

    name = "custom"
    summary = "your gradient(x, t, seeds) on your domain"
    source = "user-defined"
    x_independent = False
    linear = False
    gradient_kernel = None  # a Python function of whole arrays: the NumPy and Python executors run it

    @property
    def dim(self) -> int:  # type: ignore[override]
        return int(self.size)

    def validate(self) -> None:
        if not callable(self.gradient_fn):
            raise AdasimError("a custom problem needs gradient_fn, a callable gradient(x, t, seeds)")
        if int(self.size) < 1:
            raise AdasimError(f"size (the dimension) must be at least 1, got {self.size}")

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        try:
            g = np.asarray(self.gradient_fn(x, t, seeds), dtype=np.float64)  # type: ignore[misc]
        except AdasimError:
            raise
        except Exception as err:
            raise AdasimError(f"{self.label}: gradient failed at t = {t}: {type(err).__name__}: {err}") from None
        try:
            return np.array(np.broadcast_to(g, x.shape))
        except ValueError:
            raise AdasimError(f"{self.label}: gradient returned shape {g.shape}, expected {x.shape} (lanes, dim)") from None

    def keys(self, seeds: np.ndarray) -> np.ndarray:
        return np.zeros((len(seeds), self.dim), dtype=np.uint64)

    def loss(self, x: np.ndarray, t: int, g: np.ndarray) -> np.ndarray:
        if self.loss_fn is None:
            return np.full(x.shape[0], np.nan)
        try:
            value = np.asarray(self.loss_fn(x, t), dtype=np.float64)
        except Exception as err:
            raise AdasimError(f"{self.label}: loss failed at t = {t}: {type(err).__name__}: {err}") from None
        return np.array(np.broadcast_to(value, x.shape[:1]))

    def loss_cells(self, x: np.ndarray, t: int, g: np.ndarray) -> np.ndarray:
        """The lane's loss in the first coordinate, 0 in the others (the loss is not per coordinate)."""
        out = np.zeros(x.shape)
        out[:, 0] = self.loss(x, t, g)
        return out

    def mean_gradient(self) -> np.ndarray:
        return np.array(np.nan)

    def optimum(self) -> np.ndarray:
        if self.optimum_point is None:
            return np.full((1, self.dim), np.nan)
        return np.broadcast_to(np.asarray(self.optimum_point, float), (1, self.dim))

    def worst(self) -> np.ndarray:
        return np.full((1, self.dim), np.nan)

    def params(self) -> dict[str, Any]:
        return {"label": self.label, "size": int(self.size)}
