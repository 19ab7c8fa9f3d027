"""The optimizers, one definition each (`Definition`: an elementwise step and its declarations),
and the registry the CLI and presets use by name."""

from __future__ import annotations

from typing import Any

from adasim.errors import AdasimError, unknown_name
from adasim.optimizers.adagrad import Adagrad
from adasim.optimizers.adam import Adam, RMSProp
from adasim.optimizers.adamnc import AdamNC
from adasim.optimizers.adashift import AdaShift
from adasim.optimizers.adopt import ADOPT
from adasim.optimizers.amsgrad import AMSGrad
from adasim.optimizers.base import EPS_MODES, Definition, Kernel, Optimizer, Out, ScaleLimit, out
from adasim.optimizers.sgd import SGD, Momentum
from adasim.optimizers.user import is_user_spec, load_definition

OPTIMIZERS: dict[str, Definition] = {d.name: d for d in (SGD, Momentum, Adagrad, RMSProp, Adam, AMSGrad, AdamNC, AdaShift, ADOPT)}


def definition(name: str) -> Definition:
    """The definition called `name`, or the one a `file.py:Name` spec names."""
    if is_user_spec(name):
        return load_definition(name)
    if name not in OPTIMIZERS:
        raise unknown_name("optimizer", name, OPTIMIZERS)
    return OPTIMIZERS[name]


def make_optimizer(name: str, **settings: Any) -> Optimizer:
    """Build an optimizer by name (or `file.py:Name` for your own definition). None means
    "the default"; a setting the optimizer does not have is an error that names the closest."""
    d = definition(name)
    settings = {k: v for k, v in settings.items() if v is not None}
    try:
        opt = d(**settings)
    except AdasimError as err:
        text = str(err)
        raise AdasimError(text if text.startswith(d.name) else f"{d.name}: {text}") from None
    if is_user_spec(name):
        import dataclasses

        opt = dataclasses.replace(opt, origin=name)
    return opt


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
    "Definition",
    "Kernel",
    "Momentum",
    "Optimizer",
    "Out",
    "RMSProp",
    "ScaleLimit",
    "definition",
    "make_optimizer",
    "out",
]
