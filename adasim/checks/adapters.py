"""Any optimizer as an executor of the block stream that `adasim check` runs: x (L lanes × D
coordinates) in float64, the case's gradients in.

SPEC forms (loading one imports and executes its code):
- `torch:torch.optim.AdamW`, `torch:module.path:Class`: a torch.optim.Optimizer subclass,
  built as Class(params, lr=…, **kw), stepped by `adasim.engine.foreign.StepperExecutor`;
- `optax:optax.adamw`: a function returning an optax GradientTransformation, built as
  optax.inject_hyperparams(fn)(learning_rate=…, **kw), with jax_enable_x64;
- `file.py:Name` or a built-in name (`adam`, `adashift`, ...): adasim's own definition, run by
  the engine's executors (compiled when numba can run it).

**Independent lanes.** Seeds and twin lanes must not see each other. adasim's definitions step
every cell alone (or every lane alone, for block-wise steps). An optax transformation runs once
per lane under `jax.vmap`: one state per lane, by construction. A torch optimizer gets the
fastest of four layouts (`TORCH_LAYOUTS`) whose lanes are independent: all lanes as one (L, D)
tensor of one instance, one (D,) parameter per lane, one parameter group per lane, or one
optimizer instance per lane (always independent). torch.optim's elementwise classes
(`ELEMENTWISE_TORCH`) take the first; any other takes the first that a probe finds bit-for-bit
equal to separate instances over `PROBE_STEPS` steps (past any warm-up: pytorch-optimizer's
AdaShift keeps 10 gradients before its first step) with gradient scales 1, 10³ and 10⁻³, which a
max, a norm or a step-size estimate shared over a tensor or a group would make differ. The
report states the layout and why (`Loaded.layout`).

**Not exercised.** A matrix optimizer (Muon, SOAP, Shampoo, ...: `MATRIX_NAMES`) on the
battery's vector parameters runs only its fallback (optax's muon: Adam on non-2-D leaves), so
no verdict about its defining step can be given: every case says so instead of passing or
failing.

The step size of step t is α_t = lr·σ_t: a foreign optimizer receives α_t as its learning rate
before the step (torch: every param group's lr; optax: the injected learning_rate).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.engine.foreign import Gradient, StepError, StepperExecutor
from adasim.errors import AdasimError
from adasim.usercode import UserCodeError, call_user

LR_NAMES = ("lr", "learning_rate")
PROBE_STEPS = 300
PROBE_SCALES = (1.0, 1e3, 1e-3)
# torch.optim's classes whose update of an element reads only that element's gradient and state
# (and scalars every element shares: the step count, lr, β): lanes stacked in one tensor are
# independent. Exact classes only: a subclass may add a statistic over the tensor.
ELEMENTWISE_TORCH = ("SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "Rprop", "ASGD")
# names (case-insensitive parts of the class or function name) of optimizers whose defining step
# acts on matrices: on the battery's vector parameters they fall back to another rule or refuse
MATRIX_NAMES = ("muon", "soap", "shampoo", "scion", "polargrad", "dion", "kron", "psgd")
# torch layouts, fastest first; the last is independent by construction
TORCH_LAYOUTS = ("one tensor", "one parameter per lane", "one parameter group per lane", "one instance per lane")
TWINS = 12  # twin lanes per seed for the model-free factors
TWINS_APART = 2  # ... when lanes are separate tensors of one optimizer (each costs Python work per step)
TWINS_PER_INSTANCE = 1  # ... when every lane is its own optimizer (an opt.step() call per lane and step)
# twin lanes per seed on the drift cases, whose verdict reads the factors: 256 per seed tell Adam's
# wrong-way drift on Reddi's stochastic problem from 0 (E[κ g] = −0.0018, 95 % over the 8 seeds
# −0.0028 … −0.0008; with 64: −0.0032 … +0.0001)
DRIFT_TWINS = 256
DRIFT_TWINS_APART = 16
DRIFT_TWINS_PER_INSTANCE = 4


class CaseError(StepError):
    """The optimizer under test raised or returned something unusable (reported per case)."""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _need(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise AdasimError(f"{module} is not installed: pip install 'adasim[{extra}]'") from None


def _resolve(path: str, what: str) -> Any:
    """`pkg.mod.Name` or `pkg.mod:Name` (the attribute may be dotted)."""
    if ":" in path:
        module_name, attr = path.split(":", 1)
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise AdasimError(f"{what} '{path}': expected module.Name or module:Name")
    from adasim.signals import raised_by_user_code

    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise AdasimError(f"{what} '{path}': cannot import {module_name} ({err})") from None
    except (Exception, SystemExit, KeyboardInterrupt) as err:  # the module's own code failed (or called sys.exit)
        if not isinstance(err, Exception) and not raised_by_user_code(err):
            raise  # a real Ctrl-C
        raise AdasimError(f"{what} '{path}': importing {module_name} raised {type(err).__name__}: {err}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise AdasimError(f"{what} '{path}': {module_name} has no attribute '{attr}'")
        obj = getattr(obj, part)
    return obj


@dataclass
class Loaded:
    """A loaded SPEC: what it is, how its lanes are laid out (and why), and how to build the
    executor that runs it on a case."""

    spec: str
    kind: str  # torch | optax | adasim
    target: Any
    kwargs: dict[str, Any] = field(default_factory=dict)
    library: dict[str, str | None] = field(default_factory=dict)
    layout: str = ""  # compiled | one tensor | one instance per lane | vmap
    why: str = ""
    not_exercised: str | None = None  # why no case can exercise the optimizer's defining step

    @property
    def name(self) -> str:
        return getattr(self.target, "__name__", None) or getattr(self.target, "name", "") or self.spec

    @property
    def user_lr(self) -> float | None:
        """The lr the user gave (then every case uses it), or None (each case's own lr)."""
        for name in LR_NAMES:
            if name in self.kwargs:
                return float(self.kwargs[name])
        return None

    @property
    def apart(self) -> bool:
        """Whether every lane is a tensor of its own (Python work per lane and step)."""
        return self.layout in TORCH_LAYOUTS[1:]

    @property
    def twins(self) -> int:
        """Twin lanes per seed by default."""
        if self.layout == TORCH_LAYOUTS[-1]:
            return TWINS_PER_INSTANCE
        return TWINS_APART if self.apart else TWINS

    @property
    def drift_twins(self) -> int:
        """Twin lanes per seed at least, on the drift cases (runner.py): fewer where each lane costs
        a call per step (their drift verdict is then more often inconclusive)."""
        if self.layout == TORCH_LAYOUTS[-1]:
            return DRIFT_TWINS_PER_INSTANCE
        return DRIFT_TWINS_APART if self.apart else DRIFT_TWINS

    @property
    def elementwise(self) -> bool:
        """Whether lanes share one tensor (proven independent, see the module text)."""
        return self.layout in ("one tensor", "compiled")

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "kind": self.kind, "kwargs": {k: repr(v) for k, v in self.kwargs.items()},
                "library": self.library, "lanes": self.layout, "lanes_why": self.why,
                "not_exercised": self.not_exercised}  # fmt: skip

    def own_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.kwargs.items() if k not in LR_NAMES}

    def optimizer(self, lr: float, schedule: Any) -> Any:
        """adasim's optimizer (adasim SPECs), or the optimizer that carries α_t = lr·σ_t for a
        foreign one (adasim's SGD: the foreign executor never calls its step)."""
        from adasim.optimizers import OPTIMIZERS

        if self.kind == "adasim":
            try:
                opt = self.target(lr=lr, schedule=schedule, **self.own_kwargs())
            except AdasimError as err:
                text = str(err)
                raise AdasimError(text if text.startswith(self.target.name) else f"{self.target.name}: {text}") from None
            return opt
        return OPTIMIZERS["sgd"](lr=lr, schedule=schedule)

    def executor(self, layout: Any, fields: tuple[str, ...], record: tuple[str, ...], engine: str = "auto") -> Any:
        """The executor that runs this optimizer on `layout` (built with `optimizer(...)`)."""
        if self.kind == "adasim":
            from adasim.engine.stream import make_executor

            return make_executor(layout, engine, fields, regret=True, record=record)
        x0 = layout.x0
        lr = float(np.asarray(layout.lr))
        stepper = self.stepper(x0, lr, self.layout, self.shape(layout.problem))
        return StepperExecutor(layout, stepper, fields, True, record)

    def shape(self, problem: Any) -> tuple[int, ...] | None:
        """Each lane's parameter shape for a matrix optimizer on a matrix case, (m, n) (None: a
        vector of the problem's coordinates)."""
        from adasim import ops
        from adasim.checks.cases import MATRIX_PROBLEMS

        if self.not_exercised is None or problem.block_sizes() is None or not isinstance(problem, MATRIX_PROBLEMS):
            return None
        return ops.matrix_shape(problem.block_sizes(), problem.dim)

    def stepper(self, x0: np.ndarray, lr: float, layout: str = "one tensor", shape: tuple[int, ...] | None = None) -> Any:
        """A foreign stepper for x0 (L, D), its lanes laid out as `layout` (torch; optax: vmap);
        `shape`: each lane's parameter as a matrix (m, n) instead of a vector."""
        kwargs = self.own_kwargs()
        try:
            if self.kind == "torch":
                return TorchStepper(self.target, x0, lr, kwargs, layout, shape)
            return OptaxStepper(self.target, x0, lr, kwargs, shape)
        except AdasimError:
            raise
        except (Exception, SystemExit, KeyboardInterrupt) as err:
            from adasim.signals import raised_by_user_code

            if not isinstance(err, Exception) and not raised_by_user_code(err):
                raise
            raise AdasimError(f"{self.spec}: constructing it with {kwargs or 'no keyword arguments'} raised "
                              f"{type(err).__name__}: {err}") from None  # fmt: skip


def spec_of(target: Any) -> str:
    """The SPEC string of what names an optimizer: a SPEC itself, a torch.optim.Optimizer
    subclass, an optax optimizer function or an adasim Definition (built-in or from a file)."""
    from adasim.optimizers.base import Definition

    if isinstance(target, str):
        return target
    if isinstance(target, Definition):
        return target.__dict__.get("origin") or target.name
    module, name = getattr(target, "__module__", "") or "", getattr(target, "__qualname__", "")
    top = module.split(".")[0]
    if isinstance(target, type) and any(c.__module__.startswith("torch.optim") for c in target.__mro__[1:]):
        return f"torch:{module}.{name}"
    if callable(target) and top == "optax" and name:
        return f"optax:{module}.{name}"
    raise AdasimError("the optimizer to check must be a SPEC such as 'torch:torch.optim.AdamW', 'optax:optax.adam', "
                      "'file.py:Name' or a built-in name, or a torch.optim class or an optax function; "
                      f"got {type(target).__name__}")  # fmt: skip


def matrix_reason(name: str) -> str | None:
    """Why an optimizer called `name` cannot be exercised on vector cases (None: it can)."""
    low = name.lower()
    hit = next((m for m in MATRIX_NAMES if m in low), None)
    if hit is None:
        return None
    return (f"{name} is a matrix optimizer ('{hit}'): its defining step acts on 2-D parameters, and every case of "
            "this battery has vector parameters, on which it runs a fallback rule or refuses; no verdict about it "
            "can be given here")  # fmt: skip


def load(spec: Any, kwargs: dict[str, Any] | None = None) -> Loaded:
    """Resolve SPEC (see the module text, or what spec_of accepts) into a Loaded optimizer, its
    lanes laid out; a bad SPEC or bad keyword arguments are an AdasimError."""
    spec = spec_of(spec)
    if kwargs is not None and not isinstance(kwargs, dict):
        raise AdasimError(f"the optimizer's keyword arguments must be a dict, got {type(kwargs).__name__}")
    kwargs = dict(kwargs or {})
    for name in LR_NAMES:
        if name in kwargs:
            value = kwargs[name]
            ok = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value) and value > 0
            if not ok:
                raise AdasimError(f"{name} must be a number > 0, got {value!r}")
    if spec.startswith("torch:"):
        torch = _need("torch", "torch")
        target = _resolve(spec[len("torch:") :], "torch optimizer")
        if not (isinstance(target, type) and issubclass(target, torch.optim.Optimizer)):
            raise AdasimError(f"'{spec}' is not a torch.optim.Optimizer subclass")
        top = target.__module__.split(".")[0]
        lib = {"torch": torch.__version__}
        if top != "torch":
            lib[top] = _version(top) or _version(top.replace("_", "-"))
        return _laid_out(Loaded(spec, "torch", target, kwargs, lib))
    if spec.startswith("optax:"):
        jax = _need("jax", "jax")
        jax.config.update("jax_enable_x64", True)
        optax = _need("optax", "jax")
        target = _resolve(spec[len("optax:") :], "optax optimizer")
        if not callable(target):
            raise AdasimError(f"'{spec}' is not a function returning an optax GradientTransformation")
        loaded = Loaded(spec, "optax", target, kwargs, {"jax": jax.__version__, "optax": optax.__version__})
        return _laid_out(loaded)
    from adasim.optimizers import definition

    d = definition(spec)  # built-in name or file.py:Name (AdasimError when unknown)
    import adasim

    loaded = Loaded(spec, "adasim", d, kwargs, {"adasim": adasim.__version__}, layout="compiled",
                    why="adasim's definition: the engine steps every cell (or lane, for block-wise steps) alone")  # fmt: skip
    from adasim.schedules import Schedule

    loaded.optimizer(1.0, Schedule())  # an unknown or invalid setting is bad input now, not in every case
    if d.matrix:
        loaded.not_exercised = (f"{d.name} acts on matrices: on this battery's vector parameters (1 × D matrices) its "
                                "orthogonalisation is a normalised sign, so no verdict about it can be given here")  # fmt: skip
    return loaded


def _laid_out(loaded: Loaded) -> Loaded:
    """Build it once now (bad keyword arguments are bad input, before any case runs), say whether it
    can be exercised, and lay its lanes out (see the module text)."""
    loaded.not_exercised = matrix_reason(loaded.name)
    if loaded.kind == "optax":
        loaded.stepper(np.zeros((1, 1)), 0.1)
        loaded.layout, loaded.why = "vmap", "jax.vmap over lanes: one optimizer state per lane, by construction"
        return loaded
    cls = loaded.target
    if cls.__module__.startswith("torch.optim") and cls.__name__ in ELEMENTWISE_TORCH:
        loaded.stepper(np.zeros((1, 1)), 0.1, "one tensor")
        loaded.layout = "one tensor"
        loaded.why = f"torch.optim.{cls.__name__} is elementwise (adasim.checks.adapters.ELEMENTWISE_TORCH)"
        return loaded
    matrix = loaded.not_exercised is not None  # each lane's W one (m, n) parameter: never one stacked tensor
    parted = {}
    for layout in TORCH_LAYOUTS[1 if matrix else 0 : -1]:
        parted[layout] = _probe(loaded, layout, (2, 2) if matrix else None)
        if parted[layout] is None:
            break
    scales = ", ".join(f"{s:g}" for s in PROBE_SCALES)
    found = next((lay for lay, step in parted.items() if step is None), None)
    differ = "; ".join(f"{lay}: from step {step}" for lay, step in parted.items() if step is not None)
    if found is not None:
        loaded.layout = found
        loaded.why = (f"probe: {PROBE_STEPS} steps of lanes at gradient scales {scales} gave the same floats as one "
                      f"optimizer instance per lane" + (f" (faster layouts differ — {differ})" if differ else ""))  # fmt: skip
    else:
        loaded.layout = TORCH_LAYOUTS[-1]
        loaded.why = f"probe: every shared layout differs from one instance per lane ({differ}): a shared statistic"
    if matrix:
        loaded.why += "; a matrix optimizer: each lane's W is one (m, n) parameter"
    return loaded


def _probe(loaded: Loaded, layout: str, shape: tuple[int, ...] | None = None) -> int | None:
    """The first step at which lanes laid out as `layout` differ from the same lanes run by separate
    instances (None: they never do within PROBE_STEPS); `shape`: each lane's parameter as a matrix."""
    rng = np.random.default_rng(7)
    scales = np.array(PROBE_SCALES)[:, None]
    x0 = np.zeros((len(PROBE_SCALES), 2 if shape is None else int(np.prod(shape))))
    shared = loaded.stepper(x0, 0.01, layout, shape)
    apart = loaded.stepper(x0, 0.01, TORCH_LAYOUTS[-1], shape)
    for t in range(1, PROBE_STEPS + 1):
        g = (rng.standard_normal(x0.shape) + 0.3) * scales
        try:
            ua, ub = shared.step(g, t, 0.01), apart.step(g, t, 0.01)
        except AdasimError:
            return t  # it cannot even step both ways alike: keep the lanes apart
        if not np.array_equal(np.asarray(ua), np.asarray(ub), equal_nan=True):
            return t
    return None


class TorchStepper:
    """A torch optimizer's steps on L lanes, laid out as one of TORCH_LAYOUTS: one (L, D) tensor of
    one instance, or one (D,) tensor per lane — in one parameter group, a group each, or an
    instance each."""

    block = 128  # steps: a block's arrays stay small and are reused (1 000 steps on 2 056 lanes wrote fresh
    #              pages every block, which tripled the cost of a step); the same for every lane count, so a
    #              case's sums over a block, and its results, do not depend on the cases run beside it

    def __init__(self, cls: Any, x0: np.ndarray, lr: float, kwargs: dict[str, Any], layout: str = "one tensor",
                 shape: tuple[int, ...] | None = None) -> None:  # fmt: skip
        import torch

        self.torch = torch
        x0 = np.asarray(x0, dtype=float)
        self.stacked = layout == TORCH_LAYOUTS[0]
        if shape is not None and self.stacked:
            raise AdasimError("matrix parameters are one per lane, not one stacked tensor")
        self.shape = shape  # each lane's parameter as a matrix (None: the lane's vector of coordinates)
        rows = [x0] if self.stacked else [r.reshape(shape) if shape is not None else r for r in x0]
        self.params = [torch.tensor(np.array(r), dtype=torch.float64, requires_grad=True) for r in rows]
        with self._float64():
            if layout in TORCH_LAYOUTS[:2]:
                self.opts = [cls(self.params, lr=lr, **kwargs)]
            elif layout == TORCH_LAYOUTS[2]:
                self.opts = [cls([{"params": [p]} for p in self.params], lr=lr, **kwargs)]
            else:
                self.opts = [cls([p], lr=lr, **kwargs) for p in self.params]
        for opt in self.opts:
            if not isinstance(opt, torch.optim.Optimizer):
                raise AdasimError(f"{cls.__name__}(...) did not build a torch.optim.Optimizer")
            if callable(getattr(opt, "train", None)):  # schedule-free optimizers step only in train mode
                opt.train()
        self.name = cls.__name__
        self._after: np.ndarray | None = None

    @contextlib.contextmanager
    def _float64(self) -> Iterator[None]:
        """torch's default dtype float64 while the optimizer runs, restored after: torch.optim
        keeps scalar state such as NAdam's Π μ_t in the default dtype (float32 otherwise)."""
        before = self.torch.get_default_dtype()
        self.torch.set_default_dtype(self.torch.float64)
        try:
            yield
        finally:
            self.torch.set_default_dtype(before)

    def _x(self, t: int) -> np.ndarray:
        torch = self.torch
        for p in self.params:
            if p.dtype != torch.float64:
                raise CaseError(f"step {t}: the parameters changed type float64 → {p.dtype}")
        x = self.params[0].detach().numpy().copy() if self.stacked else np.stack([p.detach().numpy() for p in self.params])
        return x.reshape(len(self.params), -1) if self.shape is not None else x

    def set_x(self, x: np.ndarray) -> None:
        torch = self.torch
        x = np.asarray(x, dtype=np.float64)
        with torch.no_grad():
            for p, row in zip(self.params, [x] if self.stacked else list(x), strict=True):
                p.copy_(torch.from_numpy(np.array(row).reshape(p.shape)))

    def _step(self, g: Any, t: int, alpha: float) -> None:
        """One opt.step() of every instance on gradients g (a tensor (L, D))."""
        for i, p in enumerate(self.params):
            p.grad = (g if self.stacked else g[i].reshape(p.shape)).clone()  # a step may change its gradient in place
        for opt in self.opts:
            for group in opt.param_groups:
                group["lr"] = alpha
            try:
                call_user(opt.step, f"{self.name}.step()")
            except UserCodeError as err:
                raise CaseError(f"step {t}: {err}") from None

    def step(self, g: np.ndarray, t: int, alpha: float) -> np.ndarray:
        """One unprojected step from the parameters' x: u = x_before − x_after."""
        before = self._x(t)
        with self.torch.no_grad(), self._float64():
            self._step(self.torch.from_numpy(np.array(g, dtype=np.float64)), t, alpha)
        after = self._x(t)
        if after.shape != before.shape:
            raise CaseError(f"step {t}: the parameters changed shape {before.shape} → {after.shape}")
        return before - after

    def _box(self, lo: Any, hi: Any, shape: tuple[int, ...]) -> tuple[Any, Any] | None:
        """The box's bounds as float64 tensors of `shape`, or None when it is all of R^D."""
        lo, hi = (np.broadcast_to(np.asarray(b, dtype=np.float64), shape) for b in (lo, hi))
        if np.all(lo == -np.inf) and np.all(hi == np.inf):
            return None
        return self.torch.from_numpy(np.array(lo)), self.torch.from_numpy(np.array(hi))

    def run_block(self, x: np.ndarray, G: np.ndarray, alpha: np.ndarray, lo: Any, hi: Any, t0: int,
                  gradient: Gradient | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """The block in torch (see adasim.engine.foreign.Stepper). Per step: opt.step(), the
        parameters after it (a_t) kept, then clamped in place to the box (Π, torch.clamp:
        min(max(a, lo), hi), NaN stays NaN), so the next step starts from x_t = Π(a_t). After the
        block, at once: x_t = Π(a_t) and u_t = x_{t−1} − a_t."""
        torch = self.torch
        if self._after is None or self._after.shape != G.shape:  # scratch, reused block to block
            self._after = np.empty_like(G)
        after = self._after
        A, Gt = torch.from_numpy(after), torch.from_numpy(G)
        box = self._box(lo, hi, G.shape[1:])
        rows = [(self.params[0], box)] if self.stacked or box is None else \
            [(p, (box[0][i].reshape(p.shape), box[1][i].reshape(p.shape))) for i, p in enumerate(self.params)]  # fmt: skip
        self.set_x(x)
        with torch.no_grad(), self._float64():
            for b in range(G.shape[0]):
                t = t0 + b
                if gradient is not None:
                    G[b] = gradient(t, self._x(t))
                self._step(Gt[b], t, float(alpha[b]))
                self._a(t, A[b])
                if box is not None:
                    for p, (l, h) in rows:
                        p.clamp_(l, h)
            X = A.clone() if box is None else torch.clamp(A, box[0], box[1])
        xs = X.numpy()
        us = np.empty_like(G)
        us[0] = x - after[0]
        np.subtract(xs[:-1], after[1:], out=us[1:])
        return us, xs

    def _a(self, t: int, out: Any) -> None:
        """The parameters after a step, written into `out` (L, D)."""
        torch = self.torch
        for p in self.params:
            if p.dtype != torch.float64:
                raise CaseError(f"step {t}: the parameters changed type float64 → {p.dtype}")
        now = self.params[0].detach() if self.stacked else torch.stack([p.detach() for p in self.params])
        if self.shape is not None and tuple(now.shape[1:]) == tuple(self.shape):
            now = now.reshape(out.shape)
        if now.shape != out.shape:
            raise CaseError(f"step {t}: the parameters changed shape {tuple(out.shape)} → {tuple(now.shape)}")
        out.copy_(now)


@functools.cache
def _optax_program(fn: Any, frozen: tuple[tuple[str, Any], ...]) -> tuple[Any, Any, Any]:
    """(init, one step, a block of steps as one lax.scan) of an optax transformation run per lane
    under jax.vmap, jitted once per transformation and keyword arguments (jax recompiles per shape)."""
    import jax
    import jax.numpy as jnp
    import optax

    kwargs = dict(frozen)
    try:  # only the learning rate is injected: other arguments may steer Python control flow
        static = tuple(n for n in inspect.signature(fn).parameters if n != "learning_rate")
    except (TypeError, ValueError):
        static = ()
    tx = optax.inject_hyperparams(fn, static_args=static)(learning_rate=0.1, **kwargs)

    def update(params: Any, state: Any, grads: Any, alpha: Any) -> Any:
        hyper = dict(state.hyperparams)
        hyper["learning_rate"] = alpha
        state = state._replace(hyperparams=hyper)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    lanes = jax.vmap(update, in_axes=(0, 0, 0, None))

    def block(params: Any, state: Any, G: Any, alpha: Any, lo: Any, hi: Any) -> Any:
        def body(carry: Any, inputs: Any) -> Any:
            p, s = carry
            g, a = inputs
            after, s = lanes(p, s, g, a)
            x = jnp.minimum(jnp.maximum(after, lo), hi)  # Π: NaN stays NaN, as ops.clip
            return (x, s), (p - after, x)

        (_, s), (u, x) = jax.lax.scan(body, (params, state), (G, alpha))
        return s, u, x

    return jax.vmap(tx.init), jax.jit(lanes), jax.jit(block)


class OptaxStepper:
    """An optax transformation run once per lane under jax.vmap (one state per lane), a block of
    steps at a time in one jitted lax.scan."""

    block = 1000  # steps: one compiled scan per lane count

    def __init__(self, fn: Any, x0: np.ndarray, lr: float, kwargs: dict[str, Any], shape: tuple[int, ...] | None = None) -> None:
        import jax.numpy as jnp

        self.jnp = jnp
        self.shape = shape  # each lane's parameter as a matrix (vmap hides the lane axis: a 2-D leaf per lane)
        try:
            frozen = tuple(sorted(kwargs.items()))
            hash(frozen)
        except TypeError:  # unhashable arguments: a program of its own
            frozen = None
        program = _optax_program(fn, frozen) if frozen is not None else _optax_program.__wrapped__(fn, tuple(kwargs.items()))
        init, self.update, self.program = program
        self.params = jnp.asarray(self._in(np.asarray(x0, dtype=float)), dtype=jnp.float64)
        self.state = init(self.params)

    def _in(self, a: np.ndarray) -> np.ndarray:
        """(..., L, D) → (..., L, m, n) for matrix parameters."""
        return a if self.shape is None else a.reshape((*a.shape[:-1], *self.shape))

    def _out(self, a: Any) -> np.ndarray:
        a = np.asarray(a)
        return a if self.shape is None else a.reshape((*a.shape[: a.ndim - len(self.shape)], -1))

    def step(self, g: np.ndarray, t: int, alpha: float) -> np.ndarray:
        """One unprojected step (u = x_before − x_after)."""
        before = self._out(self.params)
        try:
            grads = self.jnp.asarray(self._in(np.asarray(g, dtype=float)))
            self.params, self.state = call_user(self.update, "the optax update", self.params, self.state, grads,
                                                self.jnp.float64(alpha))  # fmt: skip
        except UserCodeError as err:
            raise CaseError(f"step {t}: {err}") from None
        return before - self._out(self.params)

    def run_block(self, x: np.ndarray, G: np.ndarray, alpha: np.ndarray, lo: Any, hi: Any, t0: int,
                  gradient: Gradient | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """The block as one jitted scan; when the gradient depends on x, a Python loop of the
        jitted vmapped update, projected as the scan does (see adasim.engine.foreign.Stepper)."""
        if gradient is not None or self.shape is not None:
            return self._stepwise(x, G, alpha, lo, hi, t0, gradient)
        jnp = self.jnp
        params = jnp.asarray(np.asarray(x, dtype=float))
        try:
            self.state, u, xs = call_user(self.program, "the optax update", params, self.state, jnp.asarray(G),
                                          jnp.asarray(alpha), jnp.asarray(lo, dtype=jnp.float64),
                                          jnp.asarray(hi, dtype=jnp.float64))  # fmt: skip
        except UserCodeError as err:
            raise CaseError(f"steps {t0}…{t0 + len(G) - 1}: {err}") from None
        u, xs = np.asarray(u), np.asarray(xs)
        if u.dtype != np.float64:
            raise CaseError(f"steps {t0}…: the parameters changed type float64 → {u.dtype}")
        self.params = xs[-1]
        return u, xs

    def _stepwise(self, x: np.ndarray, G: np.ndarray, alpha: np.ndarray, lo: Any, hi: Any, t0: int,
                  gradient: Gradient) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        from adasim import ops

        jnp = self.jnp
        us, xs = np.empty_like(G), np.empty_like(G)
        prev = np.array(x, dtype=np.float64)
        for b in range(G.shape[0]):
            t = t0 + b
            if gradient is not None:
                G[b] = gradient(t, prev)
            try:
                after, self.state = call_user(self.update, "the optax update", self._in(prev), self.state, self._in(G[b]),
                                              np.float64(alpha[b]))  # fmt: skip
            except UserCodeError as err:
                raise CaseError(f"step {t}: {err}") from None
            after = self._out(after)
            if after.dtype != np.float64:
                raise CaseError(f"step {t}: the parameters changed type float64 → {after.dtype}")
            us[b] = prev - after
            prev = xs[b] = ops.clip(after, lo, hi)  # as the scan: Π(after), NaN stays NaN
        self.params = jnp.asarray(self._in(prev))
        return us, xs


__all__ = ["CaseError", "Loaded", "StepError", "load"]
