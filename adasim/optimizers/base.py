"""What every optimizer is: a frozen record of hyper-parameters with two pure functions,
`init(shape) -> state` and `update(state, g, t) -> (Update, state)`, over a block of steps.

Shapes: g is (B, L, D) — B consecutive steps, L lanes, D coordinates; t is (B,) with 1-based steps.
A hyper-parameter is a scalar or a 1-D array over lanes. The update returns, besides the step, the
net-update-factor structure of REFERENCE.md §3: step_t = α_t · P_t · Σ_s K(t, s) · Q_s · g_s with
`pre` = Q, `post` = P and the kernel K declared by `kernel()`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from adasim.errors import AdasimError, as_lane_array, check_choice, check_range, pick_lane
from adasim.schedules import Schedule

EPS_MODES = {
    "outside": "α·m̂/(√v̂ + ε)  (Kingma & Ba, PyTorch, optax)",
    "inside": "α·m̂/√(v̂ + ε)  (the AdaShift authors' script)",
    "hat": "α·√(1−β2^t)/(1−β1^t)·m/(√v + ε̂)  (TF/Keras, PyTorch before 2019)",
}


class Update(NamedTuple):
    """One block of steps: x_t = Π(x_{t−1} − step_t); m, v the moments that made the step
    (v: the second-moment statistic that scales g_t, NaN where there is none); pre = Q_s, post = P_t."""

    step: np.ndarray
    m: np.ndarray
    v: np.ndarray
    pre: np.ndarray
    post: np.ndarray


class Kernel(NamedTuple):
    """Momentum kernel K(t, s): `identity` (K = δ_ts), `ema` (K = (1−β1_s)·Π_{s<r≤t} β1_r with
    β1_r = β1·λ^(r−1), λ = 1 for a constant β1) or `window` (K = β1^(t−s)/Σ_{i<w} β1^i for t − s < w)."""

    kind: str
    beta1: Any = 0.0
    window: Any = 1
    lam: Any = 1.0


class ScaleLimit(NamedTuple):
    """How the scale behaves as t → ∞, for the closed forms of REFERENCE §3. The statistic v is
    `none`, `ema` (v_t = β2 v_{t−1} + (1−β2) φ(g²_{t−shift})), `max-ema` (the running maximum of
    that EMA; of its bias-corrected values when `corrected_max`), `mean` (the mean of g², AdamNC)
    or `sum` (AdaGrad: no limit). It enters as the post-scale P or the pre-scale Q with the form
    1/(√v + ε) (`outside`), 1/√(v + ε) (`inside`) or 1/max(√v, ε) (`max`). Bias corrections tend
    to 1 and ADOPT's clip bound t^(1/4) to ∞, so neither appears in the limit."""

    statistic: str = "none"
    beta2: float = 0.0
    shift: int = 0
    phi: str = "identity"
    where: str = "post"
    eps: float = 0.0
    form: str = "outside"
    corrected_max: bool = False


PHI = {
    "identity": "φ(g²) = g² per coordinate",
    "max": "φ(g²) = max of g² over the block (the AdaShift authors' default)",
    "mean": "φ(g²) = mean of g² over the block",
    "norm": "φ(g²) = Σ g² over the block (the squared norm)",
}


def reduce_phi(g2: np.ndarray, phi: str, block_sizes: Any = None) -> np.ndarray:
    """The spatial reduction φ over each block of the last axis (the whole axis when
    block_sizes is None), broadcast back so every coordinate of a block shares the value."""
    if phi == "identity":
        return g2
    D = g2.shape[-1]
    sizes = [D] if block_sizes is None else [int(b) for b in np.atleast_1d(block_sizes)]
    if sum(sizes) != D:
        raise AdasimError(f"block sizes {sizes} add up to {sum(sizes)}, but the problem has {D} coordinates")
    fn = {"max": np.max, "mean": np.mean, "norm": np.sum}[phi]
    if len(sizes) == 1:
        return np.broadcast_to(fn(g2, axis=-1, keepdims=True), g2.shape)
    parts = []
    start = 0
    for size in sizes:
        block = g2[..., start : start + size]
        parts.append(np.broadcast_to(fn(block, axis=-1, keepdims=True), block.shape))
        start += size
    return np.concatenate(parts, axis=-1)


def check_blocks(phi: str, block_sizes: Any) -> None:
    check_choice("phi", phi, PHI)
    if block_sizes is not None:
        sizes = np.atleast_1d(np.asarray(block_sizes))
        if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1) or not np.all(sizes == np.round(sizes)):
            raise AdasimError(f"block sizes must be whole numbers ≥ 1, got {block_sizes!r}")


def lane(value: Any) -> np.ndarray:
    """A hyper-parameter shaped to broadcast against (B, L, D) blocks and (L, D) states."""
    arr = np.asarray(value, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def steps_column(t: np.ndarray) -> np.ndarray:
    """1-based steps as a float (B, 1, 1) column."""
    return np.asarray(t, dtype=np.float64)[:, None, None]


# below 2^−54, 1 − p rounds to exactly 1: such powers are set to 0 (else β·p sticks at the smallest
# subnormal for β > 1/2, and subnormal arithmetic is slow)
TINY_POWER = 2.0**-54


def power_state(beta: Any) -> np.ndarray:
    """The carried β^t of `powers` at t = 0: ones shaped (1, 1), or (L, 1) for a β per lane."""
    return np.ones(np.broadcast_shapes(np.shape(lane(beta)), (1, 1)))


def powers(beta: Any, p0: np.ndarray, steps: int, where: np.ndarray | None = None) -> np.ndarray:
    """β^t for the next `steps` steps by the recurrence p_t = β·p_{t−1} from the carried p_0
    (1 at the start), shape (steps, ...), 0 once below TINY_POWER; where `where` is False p stays
    as it was. Bias corrections are 1 − p_t: the same floats in the NumPy and the compiled path,
    and no power function per lane and step."""
    factor = lane(beta) if where is None else np.where(where, lane(beta), 1.0)
    tail = np.broadcast_shapes(np.shape(factor)[1:] if where is not None else np.shape(factor), np.shape(p0))
    seq = np.empty((steps + 1, *tail))
    seq[0] = p0
    seq[1:] = factor
    out = np.cumprod(seq, axis=0)[1:]
    out[out < TINY_POWER] = 0.0  # 1 − p is 1 either way; the carried p no longer shrinks
    return out


def denominator(v_hat: np.ndarray, eps: np.ndarray, mode: str) -> np.ndarray:
    """√v̂ + ε (`outside`, also the ε-hat form once the corrections are moved out) or √(v̂ + ε) (`inside`)."""
    return np.sqrt(v_hat + eps) if mode == "inside" else np.sqrt(v_hat) + eps


def reciprocal(x: np.ndarray) -> np.ndarray:
    """1/x, with 0 where x = 0 (v = 0 means every gradient so far was 0, so m = 0 and no step)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(np.broadcast_shapes(x.shape))
    np.divide(1.0, x, out=out, where=x != 0)
    return out


@dataclass(frozen=True, eq=False)
class Optimizer:
    """Base record: lr (α, > 0, scalar or per lane) and the step-size schedule."""

    lr: Any = 1e-3
    schedule: Schedule = dataclasses.field(default_factory=Schedule)

    name: ClassVar[str] = ""
    rule: ClassVar[str] = ""
    source: ClassVar[str] = ""
    lane_params: ClassVar[tuple[str, ...]] = ("lr",)

    def __post_init__(self) -> None:
        check_range("lr", self.lr, 0.0, lo_open=True)
        if not isinstance(self.schedule, Schedule):
            raise AdasimError(f"schedule must be a Schedule, got {self.schedule!r}")
        self.validate()

    def validate(self) -> None:
        """Check the optimizer's own hyper-parameters (raise AdasimError)."""

    # -- lanes ---------------------------------------------------------------------------
    def lanes(self) -> int:
        """Number of lanes the hyper-parameters ask for (1 when all are scalars)."""
        sizes = {np.size(getattr(self, p)) for p in self.lane_params if np.ndim(getattr(self, p)) == 1}
        if len(sizes) > 1:
            raise AdasimError(f"{self.name}: per-lane hyper-parameters have different lengths {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def at_lane(self, i: int) -> Optimizer:
        """The scalar optimizer of lane i (its values were checked as arrays, so not again)."""
        return pick_lane(self, self.lane_params, i)

    def replace(self, **changes: Any) -> Optimizer:
        return dataclasses.replace(self, **changes)

    def alpha(self, t: np.ndarray) -> np.ndarray:
        """α_t = lr·σ(t), shaped (B, L or 1, 1)."""
        return lane(self.lr) * self.schedule(t)[:, None, None]

    # -- the two pure functions ----------------------------------------------------------
    def init(self, shape: tuple[int, int]) -> Any:
        raise NotImplementedError

    def update(self, state: Any, g: np.ndarray, t: np.ndarray) -> tuple[Update, Any]:
        raise NotImplementedError

    def kernel(self) -> Kernel:
        return Kernel("identity")

    def compiled_form(self) -> Any:
        """The lane-step form (optimizers.lanestep.CompiledForm) that adasim.compiled runs, or
        None when the optimizer has none (it then runs in NumPy)."""
        return None

    def scale_limit(self) -> ScaleLimit:
        """The scale's structure as t → ∞ (scalar hyper-parameters only); `unknown` unless declared."""
        return ScaleLimit("unknown")

    # -- description ---------------------------------------------------------------------
    def config(self) -> dict:
        """Every hyper-parameter and convention, JSON-ready."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Schedule):
                out[f.name] = value.config()
            elif isinstance(value, np.ndarray | list | tuple):
                out[f.name] = np.asarray(value).tolist()
            elif isinstance(value, np.generic):
                out[f.name] = value.item()
            else:
                out[f.name] = value
        return out

    @classmethod
    def options(cls) -> dict[str, Any]:
        """The constructor's fields and their defaults."""
        out = {}
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            else:
                out[f.name] = f.default_factory()  # type: ignore[misc]
        return out


def check_beta(name: str, value: Any) -> None:
    check_range(name, value, 0.0, 1.0, hi_open=True)


def check_eps(value: Any, mode: str, modes: tuple[str, ...] = tuple(EPS_MODES)) -> None:
    check_range("eps", value, 0.0)
    check_choice("eps_mode", mode, modes)


def check_int(name: str, value: Any, lo: int) -> np.ndarray:
    return check_range(name, value, lo, integer=True)


def int_lane(value: Any) -> np.ndarray:
    arr = as_lane_array("n", value, integer=True)
    return arr[:, None] if arr.ndim == 1 else arr
