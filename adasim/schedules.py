"""Step-size schedules α_t = lr · σ(t), t = 1, 2, ...: constant, α/√t (Reddi et al. 2018's
analysis) and α/√(1 + c·t) (the ADOPT toy problem, Taniguchi et al. 2024, c = 0.01)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adasim.errors import AdasimError, check_choice

SCHEDULES = {
    "constant": "α_t = α",
    "inv-sqrt": "α_t = α/√t",
    "inv-sqrt-affine": "α_t = α/√(1 + c·t)",
}


@dataclass(frozen=True)
class Schedule:
    """σ(t) with α_t = lr·σ(t): `constant` (1), `inv-sqrt` (1/√t), `inv-sqrt-affine` (1/√(1 + c·t))."""

    kind: str = "constant"
    c: float = 0.01

    def __post_init__(self) -> None:
        check_choice("schedule", self.kind, SCHEDULES)
        if not (np.isfinite(self.c) and self.c > 0):
            raise AdasimError(f"schedule constant c must be > 0, got {self.c!r}")

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """σ(t) for an array of 1-based steps."""
        out = np.array(t, dtype=np.float64)  # one new array, then in place (blocks can be long)
        if self.kind == "constant":
            out.fill(1.0)
            return out
        if self.kind == "inv-sqrt-affine":
            np.multiply(self.c, out, out=out)
            np.add(1.0, out, out=out)
        np.sqrt(out, out=out)
        return np.divide(1.0, out, out=out)

    def describe(self) -> str:
        text = SCHEDULES[self.kind]
        return text.replace("c·t", f"{self.c:g}·t") if self.kind == "inv-sqrt-affine" else text

    def config(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.kind == "inv-sqrt-affine":
            out["c"] = self.c
        return out
