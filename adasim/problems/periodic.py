"""A periodic problem given by one period of its gradients: any online counterexample (several
spikes in a row, spikes of different sizes, a recorded sequence replayed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from adasim.errors import AdasimError
from adasim.problems.base import Pattern, Problem


class PeriodicParams(NamedTuple):
    c: np.ndarray  # one period (a table, passed whole)
    d: int


def periodic_gradient(p: PeriodicParams, key, t):
    """g_t = c_{(t−1) mod d}."""
    return p.c[(t - 1) % p.d]


def _period(values: Any) -> tuple[float, ...]:
    try:
        c = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise AdasimError(f"gradients must be numbers, got {values!r}") from None
    return tuple(float(v) for v in c)


@dataclass(frozen=True, eq=False)
class Periodic(Problem):
    """f_t(x) = g_t·x with g_t = c_{(t−1) mod d} for one period c_0, …, c_{d−1} given in full."""

    c: Any = (10.0, -1.0, -1.0)

    name = "periodic"
    summary = "one period of gradients, given in full: g_t = c[(t−1) mod d]"
    source = "Reddi et al. 2018 (the online problem), for any period"
    outcome = "the net update factors and the drift are exact over a period (docs/REFERENCE.md §3): the drift's sign decides"
    uses_seeds: ClassVar[bool] = False
    tables: ClassVar[tuple[str, ...]] = ("c",)
    gradient_kernel = staticmethod(periodic_gradient)

    def validate(self) -> None:
        c = _period(self.c)
        if not c:
            raise AdasimError("a periodic problem needs at least one gradient")
        object.__setattr__(self, "c", c)

    def kernel_params(self) -> PeriodicParams:
        return PeriodicParams(np.asarray(self.c, dtype=np.float64), len(self.c))

    def pattern(self) -> Pattern:
        return Pattern(np.asarray(self.c, dtype=np.float64))

    def mean_gradient(self) -> np.ndarray:
        return np.array(float(np.mean(self.c)))
