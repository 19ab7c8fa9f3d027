"""The optimizers, one definition each, and the registry the CLI and presets use by name."""

from __future__ import annotations

from typing import Any

from adasim.errors import AdasimError, unknown_name
from adasim.optimizers.adagrad import Adagrad
from adasim.optimizers.adam import Adam, RMSProp
from adasim.optimizers.adamnc import AdamNC
from adasim.optimizers.adashift import AdaShift
from adasim.optimizers.adopt import ADOPT
from adasim.optimizers.amsgrad import AMSGrad
from adasim.optimizers.base import EPS_MODES, Kernel, Optimizer, Update
from adasim.optimizers.rule import RuleOptimizer, ScaleRule
from adasim.optimizers.sgd import SGD, Momentum
from adasim.optimizers.user import is_user_spec, make_user_optimizer

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Adagrad, RMSProp, Adam, AMSGrad, AdamNC, AdaShift, ADOPT)
}


def make_optimizer(name: str, **settings: Any) -> Optimizer:
    """Build an optimizer by name (or `file.py:Name` for your own); settings it has no field for
    are ignored (None means "default")."""
    if is_user_spec(name):
        return make_user_optimizer(name, **settings)
    if name not in OPTIMIZERS:
        raise unknown_name("optimizer", name, OPTIMIZERS)
    cls = OPTIMIZERS[name]
    fields = cls.options()
    kwargs = {k: v for k, v in settings.items() if k in fields and v is not None}
    try:
        return cls(**kwargs)
    except AdasimError as err:
        raise AdasimError(f"{name}: {err}") from None


__all__ = [
    "ADOPT",
    "EPS_MODES",
    "OPTIMIZERS",
    "SGD",
    "AMSGrad",
    "AdaShift",
    "Adagrad",
    "Adam",
    "AdamNC",
    "Kernel",
    "Momentum",
    "Optimizer",
    "RMSProp",
    "RuleOptimizer",
    "ScaleRule",
    "Update",
    "make_optimizer",
]
