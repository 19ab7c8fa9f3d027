"""What a problem is: its gradients, loss, domain and optimum (REFERENCE §1).

Linear counterexamples f_t(x) = g_t·x have gradients that do not depend on x (`x_independent`),
so the engine draws a whole block of them ahead of time with `gradients(t, seeds)`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from adasim.errors import AdasimError, pick_lane


@dataclass(frozen=True)
class Domain:
    """The box [lo, hi] (per coordinate); ±inf for an unbounded side. Π_F is clipping onto it."""

    lo: float = -1.0
    hi: float = 1.0

    def __post_init__(self) -> None:
        lo, hi = np.asarray(self.lo, float), np.asarray(self.hi, float)
        if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
            raise AdasimError("domain bounds must be numbers")
        if np.any(lo >= hi):
            raise AdasimError(f"empty domain [{self.lo}, {self.hi}]: the lower bound must be below the upper")

    @classmethod
    def parse(cls, text: str) -> Domain:
        """`-1,1`, `none` (unbounded), or one open side: `-inf,1`."""
        text = text.strip().lower()
        if text in ("none", "r", "unbounded", "unconstrained"):
            return cls(-np.inf, np.inf)
        parts = [p.strip() for p in text.replace(":", ",").split(",")]
        if len(parts) != 2:
            raise AdasimError(f"domain must be 'lo,hi' or 'none', got '{text}'")
        try:
            lo, hi = (float(p) for p in parts)
        except ValueError:
            raise AdasimError(f"domain must be 'lo,hi' or 'none', got '{text}'") from None
        return cls(lo, hi)

    @property
    def bounded(self) -> bool:
        return bool(np.all(np.isfinite(self.lo)) and np.all(np.isfinite(self.hi)))

    @property
    def unconstrained(self) -> bool:
        return bool(np.all(np.isinf(self.lo)) and np.all(np.isinf(self.hi)))

    def project(self, x: np.ndarray) -> np.ndarray:
        return np.minimum(np.maximum(x, self.lo), self.hi)

    def contains(self, x: np.ndarray) -> np.ndarray:
        return (x >= self.lo) & (x <= self.hi)

    def config(self) -> list[float | None]:
        def show(b: Any) -> float | None:
            b = float(b)
            return None if np.isinf(b) else b

        return [show(self.lo), show(self.hi)]

    def describe(self) -> str:
        return "unconstrained" if self.unconstrained else f"[{float(self.lo):g}, {float(self.hi):g}]"


@dataclass(frozen=True, eq=False)
class Problem:
    """Base record. Subclasses define `gradients` (x-independent problems) or `gradient`."""

    domain: Domain = dataclasses.field(default_factory=Domain)

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    source: ClassVar[str] = ""
    dim: ClassVar[int] = 1
    x_independent: ClassVar[bool] = True
    uses_seeds: ClassVar[bool] = True  # False: the gradients are the same for every seed
    linear: ClassVar[bool] = True
    lane_params: ClassVar[tuple[str, ...]] = ()
    default_x0: ClassVar[float] = 0.0

    def block_sizes(self) -> tuple[int, ...] | None:
        """The blocks ("layers") of the coordinates, for block-wise scales; None = one block."""
        return None

    def __post_init__(self) -> None:
        if not isinstance(self.domain, Domain):
            raise AdasimError(f"domain must be a Domain, got {self.domain!r}")
        self.validate()

    def validate(self) -> None:
        """Check the problem's parameters (raise AdasimError)."""

    def lanes(self) -> int:
        sizes = {np.size(getattr(self, p)) for p in self.lane_params if np.ndim(getattr(self, p)) == 1}
        if len(sizes) > 1:
            raise AdasimError(f"{self.name}: per-lane parameters have different lengths {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def at_lane(self, i: int) -> Problem:
        """The problem of lane i (its values were checked as arrays, so not again)."""
        return pick_lane(self, self.lane_params, i)

    def replace(self, **changes: Any) -> Problem:
        return dataclasses.replace(self, **changes)

    # -- gradients -------------------------------------------------------------------------
    def gradients(self, t: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """g_t for a block of steps t (B,) and lanes (L,): shape (B, L, D). x-independent problems only."""
        raise NotImplementedError

    def block_gradients(self, start: int, count: int, seeds: np.ndarray) -> np.ndarray:
        """`gradients` for the consecutive steps start, …, start + count − 1 (problems may do it faster)."""
        return self.gradients(np.arange(start, start + count, dtype=np.int64), seeds)

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        """g_t at x (L, D): shape (L, D)."""
        return self.gradients(np.array([t]), seeds)[0]

    def loss(self, x: np.ndarray, t: int, g: np.ndarray) -> np.ndarray:
        """f_t(x) per lane; linear problems: g_t·x."""
        return np.sum(g * x, axis=-1)

    # -- optimum ---------------------------------------------------------------------------
    def mean_gradient(self) -> np.ndarray:
        """The average gradient over a period (online) or its expectation (stochastic), per lane."""
        raise NotImplementedError

    def optimum(self) -> np.ndarray:
        """x* of the average loss per lane (L or 1, D): the lower bound when the mean gradient is
        positive, the upper one when negative; ∓inf on an unbounded side; NaN when it is 0."""
        mean = np.atleast_1d(self.mean_gradient())[:, None]
        lo = np.broadcast_to(np.asarray(self.domain.lo, float), (1, self.dim))
        hi = np.broadcast_to(np.asarray(self.domain.hi, float), (1, self.dim))
        return np.where(mean > 0, lo, np.where(mean < 0, hi, np.nan))

    def worst(self) -> np.ndarray:
        """The point of the domain where the average loss is largest (the "worst point")."""
        mean = np.atleast_1d(self.mean_gradient())[:, None]
        lo = np.broadcast_to(np.asarray(self.domain.lo, float), (1, self.dim))
        hi = np.broadcast_to(np.asarray(self.domain.hi, float), (1, self.dim))
        return np.where(mean > 0, hi, np.where(mean < 0, lo, np.nan))

    # -- description -----------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "domain":
                continue
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray | list | tuple):
                value = np.asarray(value).tolist()
            elif isinstance(value, np.generic):
                value = value.item()
            out[f.name] = value
        return out

    def config(self) -> dict[str, Any]:
        """Every parameter, the domain and the optimum, JSON-ready."""
        opt = self.optimum()
        optimum: Any = None
        if opt.shape[0] == 1 and self.dim == 1:
            value = float(opt[0, 0])
            optimum = None if not np.isfinite(value) else value
        elif np.all(np.isfinite(opt)):
            optimum = opt[:, 0].tolist() if self.dim == 1 else (opt[0].tolist() if opt.shape[0] == 1 else opt.tolist())
        out = {"name": self.name, **self.params(), "domain": self.domain.config(), "optimum": optimum}
        mean = np.atleast_1d(self.mean_gradient())
        out["mean_gradient"] = float(mean[0]) if mean.size == 1 else mean.tolist()
        return out
