"""Any optimizer as a stepper that `adasim check` drives: x (L lanes × D coordinates) in float64,
gradients in, the unprojected displacement u_t = x_before − x_after out.

SPEC forms (loading one imports and executes its code):
- `torch:torch.optim.AdamW`, `torch:module.path:Class`: a torch.optim.Optimizer subclass,
  built as Class(params, lr=…, **kw). The lanes are one (L, D) tensor when the optimizer is
  elementwise (probed, see `Loaded.elementwise`); otherwise each lane is its own parameter tensor
  of shape (D,), so that per-tensor statistics (norms, RMS clipping, trust ratios, factored
  moments) never mix lanes.
- `optax:optax.adamw`: a function returning an optax GradientTransformation, built as
  optax.inject_hyperparams(fn)(learning_rate=…, **kw), with jax_enable_x64; the lanes one leaf
  (elementwise) or one leaf per lane.
- `file.py:Name` or a built-in name (`adam`, `adashift`, ...): adasim's own definition.

The step size of step t is α_t = lr·σ_t: the stepper receives α_t and sets it as the learning
rate before the step (torch: every param group's lr; optax: the injected learning_rate).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from adasim.errors import AdasimError

LR_NAMES = ("lr", "learning_rate")


class Stepper(Protocol):
    def step(self, g: np.ndarray, t: int, alpha: float) -> np.ndarray:
        """One step on gradients g (L, D) with step size α_t; returns u = x_before − x_after."""

    def set_x(self, x: np.ndarray) -> None:
        """Put x (L, D) back after the projection."""


class CaseError(AdasimError):
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
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise AdasimError(f"{what} '{path}': cannot import {module_name} ({err})") from None
    except Exception as err:  # the module's own code failed
        raise AdasimError(f"{what} '{path}': importing {module_name} raised {type(err).__name__}: {err}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise AdasimError(f"{what} '{path}': {module_name} has no attribute '{attr}'")
        obj = getattr(obj, part)
    return obj


@dataclass
class Loaded:
    """A loaded SPEC: how to build a stepper for L lanes × D coordinates, and what it is."""

    spec: str
    kind: str  # torch | optax | adasim
    target: Any
    kwargs: dict[str, Any] = field(default_factory=dict)
    library: dict[str, str | None] = field(default_factory=dict)

    @property
    def user_lr(self) -> float | None:
        """The lr the user gave (then every case uses it), or None (each case's own lr)."""
        for name in LR_NAMES:
            if name in self.kwargs:
                return float(self.kwargs[name])
        return None

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "kind": self.kind, "kwargs": {k: repr(v) for k, v in self.kwargs.items()},
                "library": self.library, "lanes": "one tensor" if self.elementwise else "one tensor per lane"}  # fmt: skip

    _elementwise: bool | None = None

    @property
    def elementwise(self) -> bool:
        """Whether lanes stacked in one tensor step independently (probed once: ten steps of three
        lanes with gradients of very different sizes, stacked and as separate tensors, must give
        the same x). When not, every lane is its own parameter tensor (slower, always right)."""
        if self._elementwise is None:
            if self.kind == "adasim":
                self._elementwise = True
            else:
                rng = np.random.default_rng(7)
                x0 = np.zeros((3, 2))
                stacked, apart = self.make(x0, 0.1, stacked=True), self.make(x0, 0.1, stacked=False)
                same = True
                for t in range(1, 11):
                    g = rng.standard_normal((3, 2)) * np.array([[1.0], [1e3], [1e-3]])
                    ua, ub = stacked.step(g, t, 0.1), apart.step(g, t, 0.1)
                    same = same and bool(np.allclose(ua, ub, rtol=1e-12, atol=0.0))
                self._elementwise = same
        return self._elementwise

    def make(self, x0: np.ndarray, lr: float, stacked: bool | None = None) -> Stepper:
        """A stepper for x0 (L, D): all lanes one tensor when `stacked` (default: when the optimizer
        is elementwise), else one tensor per lane."""
        kwargs = {k: v for k, v in self.kwargs.items() if k not in LR_NAMES}
        try:
            if self.kind == "adasim":
                return AdasimStepper(self.target, x0, lr, kwargs)
            if stacked is None:
                stacked = self.elementwise
            if self.kind == "torch":
                return TorchStepper(self.target, x0, lr, kwargs, stacked)
            return OptaxStepper(self.target, x0, lr, kwargs, stacked)
        except AdasimError:
            raise
        except Exception as err:
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


def load(spec: Any, kwargs: dict[str, Any] | None = None) -> Loaded:
    """Resolve SPEC (see the module text, or what spec_of accepts) into a Loaded optimizer; a bad
    SPEC is an AdasimError."""
    spec = spec_of(spec)
    if kwargs is not None and not isinstance(kwargs, dict):
        raise AdasimError(f"the optimizer's keyword arguments must be a dict, got {type(kwargs).__name__}")
    kwargs = dict(kwargs or {})
    if spec.startswith("torch:"):
        torch = _need("torch", "torch")
        target = _resolve(spec[len("torch:") :], "torch optimizer")
        if not (isinstance(target, type) and issubclass(target, torch.optim.Optimizer)):
            raise AdasimError(f"'{spec}' is not a torch.optim.Optimizer subclass")
        top = target.__module__.split(".")[0]
        lib = {"torch": torch.__version__}
        if top != "torch":
            lib[top] = _version(top) or _version(top.replace("_", "-"))
        return _probed(Loaded(spec, "torch", target, kwargs, lib))
    if spec.startswith("optax:"):
        jax = _need("jax", "jax")
        jax.config.update("jax_enable_x64", True)
        optax = _need("optax", "jax")
        target = _resolve(spec[len("optax:") :], "optax optimizer")
        if not callable(target):
            raise AdasimError(f"'{spec}' is not a function returning an optax GradientTransformation")
        return _probed(Loaded(spec, "optax", target, kwargs, {"jax": jax.__version__, "optax": optax.__version__}))
    from adasim.optimizers import definition

    d = definition(spec)  # built-in name or file.py:Name (AdasimError when unknown)
    import adasim

    loaded = Loaded(spec, "adasim", d, kwargs, {"adasim": adasim.__version__})
    loaded.make(np.zeros((1, 1)), 1.0)  # an unknown or invalid setting is bad input now, not in every case
    return loaded


def _probed(loaded: Loaded) -> Loaded:
    """Build it once now (bad keyword arguments are bad input, before any case runs) and learn
    whether it is elementwise."""
    _ = loaded.elementwise
    return loaded


class TorchStepper:
    def __init__(self, cls: Any, x0: np.ndarray, lr: float, kwargs: dict[str, Any], stacked: bool = True) -> None:
        import torch

        self.torch = torch
        x0 = np.asarray(x0, dtype=float)
        self.stacked = stacked
        rows = [x0] if stacked else list(x0)
        self.params = [torch.tensor(np.array(r), dtype=torch.float64, requires_grad=True) for r in rows]
        with self._float64():
            self.opt = cls(self.params, lr=lr, **kwargs)
        if not isinstance(self.opt, torch.optim.Optimizer):
            raise AdasimError(f"{cls.__name__}(...) did not build a torch.optim.Optimizer")
        if callable(getattr(self.opt, "train", None)):  # schedule-free optimizers step only in train mode
            self.opt.train()

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

    def _x(self) -> Any:
        return self.params[0].detach().clone() if self.stacked else self.torch.stack([p.detach() for p in self.params])

    def step(self, g: np.ndarray, t: int, alpha: float) -> np.ndarray:
        torch = self.torch
        g = np.asarray(g, dtype=np.float64)
        for p, row in zip(self.params, [g] if self.stacked else list(g), strict=True):
            p.grad = torch.from_numpy(np.array(row))
        for group in self.opt.param_groups:
            group["lr"] = alpha
        with torch.no_grad():
            before = self._x()
            try:
                with self._float64():
                    self.opt.step()
            except Exception as err:
                raise CaseError(f"step {t}: {type(self.opt).__name__}.step() raised {type(err).__name__}: {err}") from None
            after = self._x()
        if after.shape != before.shape:
            raise CaseError(f"step {t}: the parameters changed shape {tuple(before.shape)} → {tuple(after.shape)}")
        return (before - after).numpy()

    def set_x(self, x: np.ndarray) -> None:
        torch = self.torch
        with torch.no_grad():
            for p, row in zip(self.params, [x] if self.stacked else list(x), strict=True):
                p.copy_(torch.from_numpy(np.array(row, dtype=np.float64)))


class OptaxStepper:
    def __init__(self, fn: Any, x0: np.ndarray, lr: float, kwargs: dict[str, Any], stacked: bool = True) -> None:
        import jax
        import jax.numpy as jnp
        import optax

        self.jnp = jnp
        self.stacked = stacked
        import inspect

        try:  # only the learning rate is injected: other arguments may steer Python control flow
            static = tuple(n for n in inspect.signature(fn).parameters if n != "learning_rate")
        except (TypeError, ValueError):
            static = ()
        tx = optax.inject_hyperparams(fn, static_args=static)(learning_rate=lr, **kwargs)
        self.params = self._leaves(np.asarray(x0, dtype=float))
        self.state = tx.init(self.params)

        def update(params: Any, state: Any, grads: Any, alpha: Any) -> Any:
            hyper = dict(state.hyperparams)
            hyper["learning_rate"] = alpha
            state = state._replace(hyperparams=hyper)
            updates, state = tx.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        self.update = jax.jit(update)

    def _leaves(self, x: np.ndarray) -> list[Any]:
        return [self.jnp.asarray(r, dtype=self.jnp.float64) for r in ([x] if self.stacked else list(x))]

    def _x(self) -> np.ndarray:
        return np.array(self.params[0]) if self.stacked else np.stack([np.asarray(p) for p in self.params])

    def step(self, g: np.ndarray, t: int, alpha: float) -> np.ndarray:
        before = self._x()
        grads = self._leaves(np.asarray(g, dtype=float))
        try:
            self.params, self.state = self.update(self.params, self.state, grads, self.jnp.float64(alpha))
        except Exception as err:
            raise CaseError(f"step {t}: the optax update raised {type(err).__name__}: {err}") from None
        return before - self._x()

    def set_x(self, x: np.ndarray) -> None:
        self.params = self._leaves(np.asarray(x, dtype=float))


class AdasimStepper:
    """adasim's definition through the NumPy executor's step (the same floats as every executor)."""

    def __init__(self, d: Any, x0: np.ndarray, lr: float, kwargs: dict[str, Any]) -> None:
        from adasim.engine.executors import NumpyExecutor
        from adasim.engine.layout import Layout
        from adasim.problems import Quadratic

        x0 = np.asarray(x0, dtype=float)
        L, D = x0.shape
        optimizer = d(lr=1.0, **kwargs)  # α_t is passed to every step
        holder = Quadratic(size=D)  # only its shape is used: the check supplies the gradients
        self.executor = NumpyExecutor(Layout.build(holder, optimizer, np.arange(L), x0), (), False, ())
        self.executor.x = x0.copy()

    def step(self, g: np.ndarray, t: int, alpha: float) -> np.ndarray:
        u, _ = self.executor.advance(np.asarray(g, dtype=float), t, alpha)
        return np.array(u)

    def set_x(self, x: np.ndarray) -> None:
        self.executor.x = np.array(x)


__all__ = ["CaseError", "Loaded", "Stepper", "load"]
