"""Step-size schedules α_t = lr · σ(t), t = 1, 2, ...: constant, α/√t (Reddi et al. 2018's
analysis) and α/√(1 + c·t) (the ADOPT toy problem, Taniguchi et al. 2024, c = 0.01)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, check_choice

SCHEDULES = {
    "constant": "α_t = α",
    "inv-sqrt": "α_t = α/√t",
    "inv": "α_t = α/t",
    "inv-sqrt-affine": "α_t = α/√(1 + c·t)",
}


def schedule_factor(kind: str, c: float, t: Any) -> Any:
    """σ(t) for 1-based steps t, elementwise: 1 (`constant`), 1/√t (`inv-sqrt`), 1/t (`inv`) or
    1/√(1 + c·t) (`inv-sqrt-affine`). Every executor computes α_t = lr·σ(t) with this function."""
    if kind == "constant":
        return 1.0
    if kind == "inv":
        return 1.0 / (1.0 * t)
    if kind == "inv-sqrt-affine":
        return 1.0 / ops.sqrt(1.0 + c * t)
    return 1.0 / ops.sqrt(1.0 * t)


@dataclass(frozen=True)
class Schedule:
    """σ(t) with α_t = lr·σ(t): `constant` (1), `inv-sqrt` (1/√t), `inv` (1/t), `inv-sqrt-affine`
    (1/√(1 + c·t)).

    Examples
    --------
    >>> import numpy as np
    >>> from adasim import Schedule
    >>> Schedule("inv-sqrt")(np.array([1, 4, 100])).tolist()  # σ(t) = 1/√t
    [1.0, 0.5, 0.1]
    >>> Schedule("inv-sqrt-affine", c=0.01).describe()
    'α_t = α/√(1 + 0.01·t)'
    """

    kind: str = "constant"
    c: float = 0.01

    def __post_init__(self) -> None:
        check_choice("schedule", self.kind, SCHEDULES)
        if not (np.isfinite(self.c) and self.c > 0):
            raise AdasimError(f"schedule constant c must be > 0, got {self.c!r}")

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """σ(t) for an array of 1-based steps."""
        t = np.asarray(t)
        return np.array(np.broadcast_to(schedule_factor(self.kind, float(self.c), t), t.shape), dtype=np.float64)

    def describe(self) -> str:
        text = SCHEDULES[self.kind]
        return text.replace("c·t", f"{self.c:g}·t") if self.kind == "inv-sqrt-affine" else text

    def config(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.kind == "inv-sqrt-affine":
            out["c"] = self.c
        return out
