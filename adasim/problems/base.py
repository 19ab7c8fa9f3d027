"""What a problem is: its gradients, loss, domain, optimum and structure (docs/REFERENCE.md §1).

A problem's gradients come from one elementwise kernel, `gradient_kernel(p, key, t)` (or
`(p, key, t, x)` when they depend on x), written in `adasim.ops` like an optimizer's step: the
compiled executor evaluates it one lane and coordinate at a time, the NumPy executor on whole
blocks of steps and lanes, with the same floats. `kernel_params()` gives its parameters (scalars,
per-lane columns (L, 1) or per-coordinate rows (D,)), `keys(seeds)` one random stream per lane and
coordinate (SplitMix64, `adasim.random`).

Problems also declare their structure for the analysis, which asks the declaration and never the
class: `pattern()`, the gradients of one period of a periodic problem; `law()`, the law of
i.i.d. gradients; `mean_gradient()`, `optimum()`, `worst()`, `block_sizes()`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from adasim.errors import AdasimError, pick_lane, unknown_name
from adasim.random import STREAM_GRADIENT, lane_keys


@dataclass(frozen=True)
class Domain:
    """The box [lo, hi] (per coordinate); ±inf for an unbounded side. Π_F is clipping onto it.

    Examples
    --------
    >>> import numpy as np
    >>> from adasim import Domain
    >>> Domain(-1.0, 1.0).project(np.array([2.0, -3.0, 0.5])).tolist()  # Π_F clips
    [1.0, -1.0, 0.5]
    >>> Domain.parse("-inf,1")  # the command line's --domain
    Domain(lo=-inf, hi=1.0)
    """

    lo: float = -1.0
    hi: float = 1.0

    def __post_init__(self) -> None:
        try:
            lo, hi = np.asarray(self.lo, float), np.asarray(self.hi, float)
        except (TypeError, ValueError):
            raise AdasimError(f"domain bounds must be numbers, got {self.lo!r}, {self.hi!r}") from None
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


class Pattern(NamedTuple):
    """A periodic problem's structure: c_j, the gradient at phase j = (t−1) mod d of one period."""

    c: np.ndarray

    @property
    def d(self) -> int:
        return len(self.c)


class Law(NamedTuple):
    """An i.i.d. problem's structure: the gradient takes `values` with probabilities `probs`."""

    values: np.ndarray
    probs: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.sum(self.values * self.probs))

    def moment(self, k: int) -> float:
        return float(np.sum(self.values**k * self.probs))


def lane_column(value: Any, dtype: type = float) -> Any:
    """A per-lane parameter as a (L, 1) column (it broadcasts against (L, D)); scalars stay scalars."""
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return dtype(arr) if dtype in (int, float) else arr
    return arr[:, None]


@dataclass(frozen=True, eq=False)
class Problem:
    """Base record. Subclasses give the gradient kernel and its parameters, and their structure.

    Examples
    --------
    Every registered problem is one; analysis asks a problem for its declared structure:

    >>> from adasim import PROBLEMS, Online, Problem, Stochastic
    >>> all(issubclass(cls, Problem) for cls in PROBLEMS.values())
    True
    >>> Online(C=3.0).pattern().c.tolist(), Stochastic().law() is not None  # periodic; i.i.d.
    ([3.0, -1.0, -1.0], True)
    """

    domain: Domain = dataclasses.field(default_factory=Domain)

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    source: ClassVar[str] = ""
    outcome: ClassVar[str] = ""  # what the documented optimizers do on it, in a sentence or two (adasim's derivations)
    x_independent: ClassVar[bool] = True
    uses_seeds: ClassVar[bool] = True  # False: the gradients are the same for every seed
    linear: ClassVar[bool] = True  # f_t(x) = g_t·x
    lane_params: ClassVar[tuple[str, ...]] = ()
    default_x0: ClassVar[float] = 0.0
    gradient_kernel: ClassVar[Callable[..., Any] | None] = None
    loss_kernel: ClassVar[Callable[..., Any] | None] = None  # f_t(x) per coordinate for problems that are not linear
    streams: ClassVar[int] = STREAM_GRADIENT  # the random stream of the keys
    tables: ClassVar[tuple[str, ...]] = ()  # kernel parameters passed whole (a table the kernel indexes)

    @property
    def dim(self) -> int:
        return 1

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

    @classmethod
    def settings(cls) -> tuple[str, ...]:
        """The problem's own settings (its dataclass fields but the domain)."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name != "domain")

    def replace(self, **changes: Any) -> Problem:
        """A copy with some settings (or the domain) changed; an unknown name is an AdasimError."""
        for key in changes:
            if key != "domain" and key not in self.settings():
                raise unknown_name(f"{self.name} problem setting", key, self.settings())
        return dataclasses.replace(self, **changes)

    # -- the gradient kernel -----------------------------------------------------------------
    def kernel_params(self) -> Any:
        """The gradient kernel's parameters: a NamedTuple of scalars, per-lane columns (L, 1) and
        per-coordinate rows (D,); `str`/`bool` fields are conventions shared by every lane."""
        raise NotImplementedError

    def keys(self, seeds: np.ndarray) -> np.ndarray:
        """One SplitMix64 key per lane and coordinate, (L, D)."""
        keys = lane_keys(np.asarray(seeds), self.streams)
        return np.broadcast_to(keys[:, None], (len(keys), self.dim))

    def gradients(self, t: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """g_t for a block of steps t (B,) and lanes (L,), shape (B, L, D): the kernel on arrays.
        x-independent problems only."""
        if not self.x_independent:
            raise AdasimError(f"{self.name}: the gradients depend on x; use gradient(x, t, seeds)")
        seeds = np.asarray(seeds)
        tt = np.asarray(t, dtype=np.int64)[:, None, None]
        with np.errstate(over="ignore"):
            g = self.gradient_kernel(self.kernel_params(), self.keys(seeds)[None], tt)
        return np.array(np.broadcast_to(g, (len(tt), len(seeds), self.dim)), dtype=np.float64)

    def gradient(self, x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        """g_t at x (L, D): shape (L, D)."""
        if self.x_independent:
            return self.gradients(np.array([t]), seeds)[0]
        with np.errstate(over="ignore"):
            g = self.gradient_kernel(self.kernel_params(), self.keys(np.asarray(seeds)), int(t), x)
        return np.array(np.broadcast_to(g, x.shape), dtype=np.float64)

    def loss_cells(self, x: np.ndarray, t: int, g: np.ndarray) -> np.ndarray:
        """f_t(x) per lane and coordinate, (L, D): g_t·x for linear problems, the loss kernel otherwise.
        Σ over the coordinates is the loss of the lane."""
        if self.linear:
            return g * x
        return np.array(np.broadcast_to(self.loss_kernel(self.kernel_params(), x), x.shape), dtype=np.float64)

    def loss(self, x: np.ndarray, t: int, g: np.ndarray) -> np.ndarray:
        """f_t(x) per lane."""
        return np.sum(self.loss_cells(x, t, g), axis=-1)

    # -- the problem's own set ----------------------------------------------------------------
    def projection(self) -> str | None:
        """The set, beyond the domain's box, that every step is projected on, in words (a ball of
        matrices: adasim.problems.balls); None: the box only, and `project_lanes` is not called."""
        return None

    def project_lanes(self, x: np.ndarray) -> np.ndarray:
        """Π on the problem's own set, per lane: x (L, D) → (L, D), applied by the NumPy, Python
        and foreign executors after the box's clip (the compiled executor refuses a problem whose
        `projection()` is not None). The identity here."""
        return x

    def linear_minimiser(self, M: np.ndarray) -> np.ndarray | None:
        """argmin of ⟨M, x⟩ over the problem's own set per lane, M (L, D) → (L, D): what the regret
        of a linear problem compares with. None: the set is the box (the regret's own formula)."""
        return None

    # -- structure ------------------------------------------------------------------------------
    def pattern(self) -> Pattern | None:
        """The gradients of one period, when the gradient sequence is periodic (one setting)."""
        return None

    def law(self) -> Law | None:
        """The law of the gradient, when the gradients are i.i.d. (one setting)."""
        return None

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

    def sweep_coordinate(self, x: np.ndarray) -> np.ndarray:
        """The one number per lane a sweep reports for points x (..., L, D): x itself for a
        one-dimensional problem; problems of several coordinates that have such a number say so."""
        if self.dim != 1:
            raise AdasimError(f"sweeps run one-dimensional problems and those with one coordinate to report; "
                              f"{self.name} has {self.dim} coordinates")  # fmt: skip
        return np.asarray(x)[..., 0]

    def sweep_optimum(self) -> np.ndarray:
        """x* of `sweep_coordinate`, per lane (L or 1,)."""
        return self.optimum()[:, 0]

    # -- description -----------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "domain" or not f.repr:
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
