"""What an optimizer is: one elementwise step over a small NamedTuple state, written once.

A `Definition` holds the step and what sits beside it: the hyper-parameter record (a NamedTuple
whose numeric fields may be one value or one per lane, and whose `str`/`bool` fields are named
conventions), the state record (its field defaults are the initial state), an optional *clock*
(values that depend only on t and the hyper-parameters, such as bias corrections: an executor
computes them once per step when every lane shares them), and the declarations the analysis reads
(the momentum kernel K and the scale's limit, docs/REFERENCE.md §3; a sign method's mix, §6).

The step is called as

    step(s, hp, g, t, alpha[, clock][, x][, past][, blocks]) -> (state, Out)

with `s` the state, `hp` the hyper-parameters, `g` the gradient of step t (1-based), `alpha` the
step size α_t; a step that names `clock` gets the clock ticked for t, one that names `x` the
current iterate, `past` the ring of earlier gradients (read with `ops.lag`; the definition
declares how many with `history`), `blocks` the block sizes that `ops.reduce` shares a scale over.
Its arithmetic is that of `adasim.ops`, so the same function runs on one float (the compiled
executor, plain Python) and on arrays of lanes (the NumPy executor), with the same floats.
`Out` carries the displacement: x_t = Π(x_{t−1} − step), and the net-update-factor structure
step = α_t · post · Σ_s K(t, s) · pre_s · g_s with the m and v that made it.
A `Definition` is called with values to give an `Optimizer`: `ADAM(beta2=0.99, lr=0.1)`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, check_choice, check_range, unknown_name
from adasim.schedules import Schedule
from adasim.usercode import call_user


class Out(NamedTuple):
    """What one step did: x_t = Π(x_{t−1} − step); m and v the moments that made it (NaN where
    an optimizer has none); pre = Q_s and post = P_t of the net update factor (docs/REFERENCE.md §3).

    Examples
    --------
    Reddi et al.'s Adam (no correction, no ε) at step 1 on g = 2 with α = 0.1: m = 0.2, v = 0.004, and
    step = α·post·m with post = 1/√v.

    >>> from adasim import Adam, Out
    >>> adam = Adam(bias_correction=False, eps=0.0)
    >>> state, o = Adam.step(adam.initial_state(), adam.hp, 2.0, 1, 0.1, adam.initial_clock())
    >>> isinstance(o, Out), o._fields
    (True, ('step', 'm', 'v', 'pre', 'post'))
    >>> round(o.m, 6), round(o.v, 6), round(float(o.post), 4), round(float(o.step), 6)
    (0.2, 0.004, 15.8114, 0.316228)
    """

    step: Any
    m: Any
    v: Any
    pre: Any
    post: Any


def out(step: Any, m: Any = math.nan, v: Any = math.nan, pre: Any = 1.0, post: Any = 1.0) -> Out:
    """An `Out` with the usual defaults: no m or v, pre = post = 1.

    Examples
    --------
    >>> from adasim import out
    >>> out(0.25, m=0.5)  # what SGD-like steps return
    Out(step=0.25, m=0.5, v=nan, pre=1.0, post=1.0)
    """
    return Out(step, m, v, pre, post)


class Kernel(NamedTuple):
    """Momentum kernel K(t, s): `identity` (K = δ_ts), `ema` (K = (1−β1_s)·Π_{s<r≤t} β1_r with
    β1_r = β1·λ^(r−1), λ = 1 for a constant β1), `window` (K = β1^(t−s)/Σ_{i<w} β1^i for t − s < w)
    or `none`: the step is not of the form α_t·P_t·Σ_s K(t, s)·Q_s·g_s (Lion's sign of a mix of two
    EMAs, a decay term in x, schedule-free's averaging), so it has no exact net update factors;
    `adasim check` measures them model-free.

    Examples
    --------
    Momentum SGD's m_t = Σ_s (1−β1)β1^(t−s) g_s is the `ema` kernel; Lion has no such form.

    >>> from adasim import Kernel, Lion, Momentum
    >>> Momentum(beta1=0.5).kernel() == Kernel("ema", beta1=0.5)
    True
    >>> Momentum(beta1=0.5).kernel()
    Kernel(kind='ema', beta1=0.5, window=1, lam=1.0)
    >>> Lion().kernel().kind
    'none'
    """

    kind: str
    beta1: Any = 0.0
    window: Any = 1
    lam: Any = 1.0


class SignWeights(NamedTuple):
    """A sign method's mix: x ← Π(x − α_t sign(c_t)) with c_t = w0·g_t + a·Σ_{i≥1} r^(i−1) g_{t−i}
    (EMAs started at 0), the structure of the sign closed forms of docs/REFERENCE.md §6."""

    w0: float
    a: float = 0.0
    r: float = 0.0


class ScaleLimit(NamedTuple):
    """How the scale behaves as t → ∞, for the closed forms of docs/REFERENCE.md §3. The statistic v is
    `none`, `ema` (v_t = β2 v_{t−1} + (1−β2) φ(g²_{t−shift})), `max-ema` (the running maximum of
    that EMA; of its bias-corrected values when `corrected_max`), `mean` (the mean of g², AdamNC)
    or `sum` (AdaGrad: no limit). It enters as the post-scale P or the pre-scale Q with the form
    1/(√v + ε) (`outside`), 1/√(v + ε) (`inside`) or 1/max(√v, ε) (`max`). Bias corrections tend
    to 1 and ADOPT's clip bound t^(1/4) to ∞, so neither appears in the limit.

    Examples
    --------
    >>> from adasim import Adagrad, Adam, AMSGrad, ScaleLimit
    >>> Adam(beta2=0.5, eps=0.0).scale_limit() == ScaleLimit("ema", beta2=0.5)  # v_t = β2 v + (1−β2) g², P = 1/√v
    True
    >>> [opt().scale_limit().statistic for opt in (Adam, AMSGrad, Adagrad)]
    ['ema', 'max-ema', 'sum']
    >>> Adam(beta2=0.5).scale_limit().beta2
    0.5
    """

    statistic: str = "none"
    beta2: float = 0.0
    shift: int = 0
    phi: str = "identity"
    where: str = "post"
    eps: float = 0.0
    form: str = "outside"
    corrected_max: bool = False


EPS_MODES = {
    "outside": "α·m̂/(√v̂ + ε)  (Kingma & Ba, PyTorch, optax)",
    "inside": "α·m̂/√(v̂ + ε)  (the AdaShift authors' script)",
    "hat": "α·√(1−β2^t)/(1−β1^t)·m/(√v + ε̂)  (TF/Keras, PyTorch before 2019)",
}
PHI = ops.PHI

# below 2^−54, 1 − p rounds to exactly 1: such powers are set to 0 (else β·p sticks at the smallest
# subnormal for β > 1/2, and subnormal arithmetic is slow)
TINY_POWER = 2.0**-54


def power(p: Any, beta: Any) -> Any:
    """p_t = β·p_{t−1} (β^t as a running product, for bias corrections), 0 once below TINY_POWER."""
    q = p * beta
    return ops.where(q < TINY_POWER, 0.0, q)


def denominator(v: Any, eps: Any, mode: str) -> Any:
    """√v + ε (`outside`, also the ε-hat form once the corrections are moved out) or √(v + ε) (`inside`)."""
    return ops.sqrt(v + eps) if mode == "inside" else ops.sqrt(v) + eps


OPTIONAL_ARGUMENTS = ("clock", "x", "past", "blocks")


def _hints(record: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(record)
    except Exception:  # unresolvable annotations: treat every field as numeric
        return {}


def _base_type(annotation: Any) -> Any:
    """int for `int` and `int | None` (None: a value that follows another setting)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 else annotation


def _is_convention(annotation: Any) -> bool:
    return _base_type(annotation) in (str, bool)


def identity_kernel(hp: Any) -> Kernel:
    return Kernel("identity")


def no_kernel(hp: Any) -> Kernel:
    return Kernel("none")


def unknown_limit(hp: Any) -> ScaleLimit:
    return ScaleLimit("unknown")


@dataclass(frozen=True, eq=False)
class Definition:
    """One optimizer: its step and the declarations beside it (see the module text).

    `defaults` override the hyper-parameter record's defaults for this definition, `fixed` are
    values it does not let be set (RMSProp is Adam's step with β1 fixed at 0), `conventions` the
    allowed values of each `str` field with their meaning, `prepare` fills derived values (None
    = "follow another setting") before the record is built.

    Examples
    --------
    A definition of your own: SGD with half the step. Calling it with values gives an `Optimizer`.

    >>> from typing import NamedTuple
    >>> from adasim import Definition, Online, out, simulate
    >>> class Hyper(NamedTuple):
    ...     c: float = 0.5
    >>> class State(NamedTuple):
    ...     pass
    >>> def step(s, hp, g, t, alpha):
    ...     return s, out(alpha * hp.c * g)
    >>> Half = Definition("half-sgd", Hyper, State, step, rule="x ← Π(x − α_t c g_t)")
    >>> run = simulate(Online(C=2.0), Half(lr=0.1), steps=1, x0=0.5, engine="numpy")
    >>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·0.5·2
    0.4
    """

    name: str
    hyper: type
    state: type
    step: Callable[..., tuple[Any, Out]]
    rule: str = ""
    source: str = ""
    clock: type | None = None
    tick: Callable[[Any, Any, int], Any] | None = None
    init: Callable[[Any], Any] | None = None
    history: Callable[[Any], int] | None = None
    coupled: Callable[[Any], bool] | None = None
    matrix: bool = False  # the step reads a lane's coordinates as one matrix (the blocks its rows): NumPy and Python only
    kernel: Callable[[Any], Kernel] = identity_kernel
    scale_limit: Callable[[Any], ScaleLimit] = unknown_limit
    sign_weights: Callable[[Any], SignWeights | None] | None = None
    validate: Callable[[Any], None] | None = None
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    conventions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    lr: float = 1e-3

    def __post_init__(self) -> None:
        for record, what in ((self.hyper, "hyper"), (self.state, "state")):
            if not (isinstance(record, type) and issubclass(record, tuple) and hasattr(record, "_fields")):
                raise AdasimError(f"{self.name}: {what} must be a NamedTuple class, got {record!r}")
        if (self.clock is None) != (self.tick is None):
            raise AdasimError(f"{self.name}: a clock needs a tick(clock, hp, t) and a tick needs a clock")
        if not callable(self.step):
            raise AdasimError(f"{self.name}: step must be a function")
        unknown = set(self.arguments) - set(OPTIONAL_ARGUMENTS)
        if unknown:
            raise AdasimError(
                f"{self.name}: step() takes (s, hp, g, t, alpha) and optionally {', '.join(OPTIONAL_ARGUMENTS)}; "
                f"it also asks for {', '.join(sorted(unknown))}"
            )
        if "clock" in self.arguments and self.clock is None:
            raise AdasimError(f"{self.name}: step() asks for a clock, but the definition declares none")
        if "past" in self.arguments and self.history is None:
            raise AdasimError(f"{self.name}: step() asks for past gradients, but the definition declares no history")

    # -- what the step asks for ------------------------------------------------------------
    @cached_property
    def arguments(self) -> tuple[str, ...]:
        """The optional arguments the step names, in OPTIONAL_ARGUMENTS order."""
        try:
            params = list(inspect.signature(self.step).parameters)
        except (TypeError, ValueError):
            return ()
        if len(params) < 5:
            raise AdasimError(f"{self.name}: step() must take (s, hp, g, t, alpha), it takes ({', '.join(params)})")
        extra = params[5:]
        return tuple(a for a in OPTIONAL_ARGUMENTS if a in extra) + tuple(a for a in extra if a not in OPTIONAL_ARGUMENTS)

    @cached_property
    def hints(self) -> dict[str, Any]:
        return _hints(self.hyper)

    @cached_property
    def conventions_fields(self) -> tuple[str, ...]:
        """The hyper-parameter fields that are named conventions (str or bool): one value for all lanes."""
        return tuple(f for f in self.hyper._fields if _is_convention(self.hints.get(f)))

    @cached_property
    def integer_fields(self) -> tuple[str, ...]:
        return tuple(f for f in self.hyper._fields if _base_type(self.hints.get(f)) is int)

    @cached_property
    def lane_fields(self) -> tuple[str, ...]:
        """Hyper-parameters that may take one value per lane (every numeric field)."""
        return tuple(f for f in self.hyper._fields if f not in self.conventions_fields)

    def options(self) -> dict[str, Any]:
        """Every setting the constructor takes, with its default."""
        defaults = {f: d for f, d in self.hyper._field_defaults.items()}
        defaults.update(self.defaults)
        out: dict[str, Any] = {"lr": self.lr, "schedule": Schedule()}
        out.update({f: defaults.get(f) for f in self.hyper._fields if f not in self.fixed})
        return out

    def accepts(self, key: str) -> bool:
        return key in self.options() or key == "blocks"

    def __call__(self, **settings: Any) -> Optimizer:
        """An optimizer with these settings (unknown names are an error that suggests the closest)."""
        options = self.options()
        for key in settings:
            if not self.accepts(key):
                if key in self.fixed:
                    raise AdasimError(f"{self.name} fixes {key} = {self.fixed[key]!r}: it cannot be set")
                raise unknown_name(f"{self.name} setting", key, options)
        given = {k: v for k, v in settings.items() if k not in ("lr", "schedule", "blocks")}
        lr = settings.get("lr", self.lr)
        schedule = settings.get("schedule", Schedule())
        return Optimizer(self, given, self.lr if lr is None else lr, Schedule() if schedule is None else schedule,
                         settings.get("blocks"))  # fmt: skip

    def __repr__(self) -> str:
        return f"<optimizer definition {self.name}: {self.rule or ''}>"

    def __reduce__(self) -> tuple:
        """Pickled by reference (process pools, Dask): a built-in by its name, a definition from
        a file by `file.py:Name`, any other by the module attribute that holds it."""
        from adasim.optimizers import OPTIMIZERS, definition

        if OPTIMIZERS.get(self.name) is self:
            return (definition, (self.name,))
        origin = self.__dict__.get("origin")
        if origin:
            return (definition, (origin,))
        module = sys.modules.get(getattr(self.step, "__module__", ""), None)
        for attr, value in vars(module).items() if module is not None else ():
            if value is self:
                return (_module_attribute, (module.__name__, attr))
        raise AdasimError(f"the definition {self.name} cannot be sent to another process: define it at module level")


def _module_attribute(module: str, attr: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), attr)


def _lane_value(name: str, value: Any, integer: bool) -> Any:
    """A numeric hyper-parameter as a float (int) or a 1-D float (int) array over lanes."""
    from adasim.errors import as_lane_array

    arr = as_lane_array(name, value, integer=integer)
    if arr.ndim == 0:
        return int(arr) if integer else float(arr)
    return arr


@dataclass(frozen=True, eq=False)
class Optimizer:
    """A definition bound to values: hyper-parameters (scalars, or 1-D arrays with one value per
    lane), the step size lr (α, scalar or per lane), the schedule σ(t) (α_t = lr·σ(t)) and, for
    optimizers that share a scale over blocks of coordinates, the block sizes (default: the
    problem's). `settings` are the hyper-parameters as given (None = the default, or a value that
    follows another setting); `hp` is the resolved record the step receives.

    Examples
    --------
    >>> from adasim import Adam, Optimizer
    >>> adam = Adam(beta2=0.99, lr=0.1)
    >>> isinstance(adam, Optimizer)
    True
    >>> adam.beta2, adam.hp.beta1, adam.replace(lr=0.2).lr  # a setting, a default, a changed copy
    (0.99, 0.9, 0.2)
    >>> Adam(beta2=[0.9, 0.99]).lanes()  # one value per lane: two runs in one
    2
    """

    definition: Definition
    settings: Mapping[str, Any]
    lr: Any = 1e-3
    schedule: Schedule = field(default_factory=Schedule)
    blocks: Any = None
    origin: str | None = None  # `file.py:Name` for a definition loaded from a file

    def __post_init__(self) -> None:
        d = self.definition
        check_range("lr", self.lr, 0.0, lo_open=True)
        lr = _lane_value("lr", self.lr, False)
        object.__setattr__(self, "lr", lr)
        if not isinstance(self.schedule, Schedule):
            raise AdasimError(f"schedule must be a Schedule, got {self.schedule!r}")
        values = {**{f: dv for f, dv in d.hyper._field_defaults.items()}, **d.defaults}
        values.update({k: v for k, v in self.settings.items() if v is not None})
        values.update(d.fixed)
        if d.prepare is not None:
            values = d.prepare({**values, **{k: v for k, v in self.settings.items() if v is None}})
        missing = [f for f in d.hyper._fields if f not in values or values[f] is None]
        if missing:
            raise AdasimError(f"{d.name}: no value for {', '.join(missing)}")
        record = {}
        for name in d.hyper._fields:
            value = values[name]
            if name in d.conventions_fields:
                kind = _base_type(d.hints[name])
                if kind is bool:
                    if not isinstance(value, bool | np.bool_):
                        raise AdasimError(f"{d.name}: {name} must be true or false, got {value!r}")
                    value = bool(value)
                elif not isinstance(value, str):
                    raise AdasimError(f"{d.name}: {name} must be a name, got {value!r}")
                if name in d.conventions:
                    check_choice(f"{d.name} {name}", value, d.conventions[name])
                record[name] = value
            else:
                record[name] = _lane_value(name, value, name in d.integer_fields)
        hp = d.hyper(**record)
        if self.blocks is not None:
            sizes = np.atleast_1d(np.asarray(self.blocks))
            if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1) or not np.all(sizes == np.round(sizes)):
                raise AdasimError(f"block sizes must be whole numbers ≥ 1, got {self.blocks!r}")
            object.__setattr__(self, "blocks", tuple(int(b) for b in sizes))
        if d.validate is not None:
            d.validate(hp)
        object.__setattr__(self, "hp", hp)
        self.lanes()  # per-lane lengths agree

    hp: Any = field(init=False, repr=False, default=None)

    # -- reading ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.origin.rpartition(":")[2] if self.origin else self.definition.name

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__") or key in ("definition", "hp", "settings"):
            raise AttributeError(key)
        hp = self.__dict__.get("hp")
        if hp is not None and key in hp._fields:
            return getattr(hp, key)
        raise AttributeError(f"{self.definition.name} has no setting '{key}'")

    @property
    def rule(self) -> str:
        return self.definition.rule

    @property
    def source(self) -> str:
        return self.definition.source

    def lane_arrays(self) -> dict[str, Any]:
        """lr and every numeric hyper-parameter, by name."""
        return {"lr": self.lr, **{f: getattr(self.hp, f) for f in self.definition.lane_fields}}

    def lanes(self) -> int:
        """Number of lanes the settings ask for (1 when all are scalars)."""
        sizes = {np.size(v) for v in self.lane_arrays().values() if np.ndim(v) == 1}
        if len(sizes) > 1:
            raise AdasimError(f"{self.name}: per-lane settings have different lengths {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def at_lane(self, i: int) -> Optimizer:
        """The optimizer of lane i (scalar settings)."""
        picks = {k: (np.asarray(v)[i].item() if np.ndim(v) == 1 else v) for k, v in self.lane_arrays().items()}
        settings = {**self.settings, **{k: v for k, v in picks.items() if k != "lr" and np.ndim(self.settings.get(k)) == 1}}
        return dataclasses.replace(self, settings=settings, lr=picks["lr"])

    def replace(self, **changes: Any) -> Optimizer:
        """The same optimizer with some settings changed (lr, schedule, blocks or hyper-parameters)."""
        d = self.definition
        for key in changes:
            if not d.accepts(key):
                raise unknown_name(f"{d.name} setting", key, d.options())
        own = {k: changes.pop(k) for k in ("lr", "schedule", "blocks") if k in changes}
        return dataclasses.replace(self, settings={**self.settings, **changes}, **own)

    def alpha(self, t: np.ndarray) -> np.ndarray:
        """α_t = lr·σ(t) for 1-based steps t (B,), shaped (B, L or 1, 1)."""
        lr = np.asarray(self.lr, dtype=np.float64)
        return (lr[:, None] if lr.ndim == 1 else lr) * self.schedule(t)[:, None, None]

    def kernel(self) -> Kernel:
        return call_user(self.definition.kernel, f"{self.name}: kernel declaration", self.hp)

    def scale_limit(self) -> ScaleLimit:
        """The scale's structure as t → ∞ (for scalar settings); `unknown` unless declared."""
        return call_user(self.definition.scale_limit, f"{self.name}: scale_limit declaration", self.hp)

    def sign_weights(self) -> SignWeights | None:
        """For a sign method (declared by its definition), the weights of the mix it takes the sign of."""
        d = self.definition
        return None if d.sign_weights is None else call_user(d.sign_weights, f"{self.name}: sign_weights declaration", self.hp)

    def history(self) -> int:
        """How many earlier gradients the step reads (0: none)."""
        d = self.definition
        return 0 if d.history is None else int(call_user(d.history, f"{self.name}: history declaration", self.hp))

    def coupled(self) -> bool:
        """Whether coordinates of a block share values (the step then sees a lane's coordinates together)."""
        d = self.definition
        if d.matrix:  # a matrix step reads a lane's coordinates together, always
            return True
        return d.coupled is not None and bool(call_user(d.coupled, f"{self.name}: coupled declaration", self.hp))

    def initial_state(self) -> Any:
        """The state before step 1, as scalars (the executors broadcast it)."""
        d = self.definition
        if d.init is not None:
            return call_user(d.init, f"{self.name}: init", self.hp)
        missing = [f for f in d.state._fields if f not in d.state._field_defaults]
        if missing:
            raise AdasimError(f"{d.name}: the state fields {', '.join(missing)} have no initial value (give defaults or init)")
        return d.state()

    def initial_clock(self) -> Any:
        d = self.definition
        return None if d.clock is None else call_user(d.clock, f"{self.name}: clock")

    def config(self) -> dict[str, Any]:
        """Every setting and convention, JSON-ready."""

        def plain(v: Any) -> Any:
            return np.asarray(v).tolist() if isinstance(v, np.ndarray) else v

        out: dict[str, Any] = {"lr": plain(self.lr), "schedule": self.schedule.config()}
        out.update({f: plain(getattr(self.hp, f)) for f in self.definition.hyper._fields})
        if self.blocks is not None:
            out["blocks"] = list(self.blocks)
        if self.origin:
            out["definition"] = self.origin
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "schedule")
        return f"{self.name}({shown}, schedule={self.schedule.kind})"


# -- validation helpers shared by the definitions ------------------------------------------------


def check_beta(name: str, value: Any) -> None:
    check_range(name, value, 0.0, 1.0, hi_open=True)


def check_eps(value: Any) -> None:
    check_range("eps", value, 0.0)


def check_moments(hp: Any) -> None:
    """β1, β2 in [0, 1) and ε ≥ 0: the settings every Adam-like definition shares."""
    check_beta("beta1", hp.beta1)
    check_beta("beta2", hp.beta2)
    check_eps(hp.eps)
