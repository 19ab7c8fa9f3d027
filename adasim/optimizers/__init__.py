"""The optimizers, one definition each (`Definition`: an elementwise step and its declarations),
and the registry the CLI and presets use by name."""

from __future__ import annotations

from typing import Any

from adasim.errors import AdasimError, unknown_name
from adasim.optimizers.adabelief import AdaBelief
from adasim.optimizers.adafactor import Adafactor
from adasim.optimizers.adagrad import Adagrad
from adasim.optimizers.adam import Adam, RMSProp
from adasim.optimizers.adam_mini import AdamMini
from adasim.optimizers.adamax import Adamax
from adasim.optimizers.adamnc import AdamNC
from adasim.optimizers.adamw import AdamW
from adasim.optimizers.adashift import AdaShift
from adasim.optimizers.ademamix import AdEMAMix
from adasim.optimizers.adopt import ADOPT
from adasim.optimizers.amsgrad import AMSGrad
from adasim.optimizers.base import EPS_MODES, Definition, Kernel, Optimizer, Out, ScaleLimit, out
from adasim.optimizers.cautious import CautiousAdam, Grams
from adasim.optimizers.muon import EFMuon, Muon, NorMuon, PolarGrad
from adasim.optimizers.nadam import NAdam
from adasim.optimizers.radam import RAdam
from adasim.optimizers.schedule_free import ScheduleFreeAdamW
from adasim.optimizers.sgd import SGD, Momentum
from adasim.optimizers.shampoo import Shampoo
from adasim.optimizers.sign import Lion, SignSGD, Signum
from adasim.optimizers.soap import SOAP
from adasim.optimizers.user import is_user_spec, load_definition
from adasim.optimizers.yogi import Yogi

CLASSICS = (SGD, Momentum, Adagrad, RMSProp, Adam, AMSGrad, AdamNC, AdaShift, ADOPT)
# the optimizers people train with now (issue 16), each defined once beside its public reference
MODERN = (SignSGD, Signum, Lion, AdamW, NAdam, RAdam, Adamax, AdaBelief, Yogi, Adafactor, AdamMini, CautiousAdam, Grams,
          AdEMAMix, ScheduleFreeAdamW, Muon, PolarGrad, Shampoo, SOAP, NorMuon, EFMuon)  # fmt: skip
OPTIMIZERS: dict[str, Definition] = {d.name: d for d in CLASSICS + MODERN}


def definition(name: str) -> Definition:
    """The definition called `name`, or the one a `file.py:Name` spec names."""
    if is_user_spec(name):
        return load_definition(name)
    if name not in OPTIMIZERS:
        raise unknown_name("optimizer", name, OPTIMIZERS)
    return OPTIMIZERS[name]


def make_optimizer(name: str, **settings: Any) -> Optimizer:
    """Build an optimizer by name (or `file.py:Name` for your own definition). None means
    "the default"; a setting the optimizer does not have is an error that names the closest.

    Examples
    --------
    >>> from adasim import AdasimError, make_optimizer
    >>> adam = make_optimizer("adam", lr=0.1, beta2=None)  # None: Adam's default β2
    >>> adam.name, adam.lr, adam.beta2
    ('adam', 0.1, 0.999)
    >>> try:
    ...     make_optimizer("adam", beta3=0.9)
    ... except AdasimError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    adam: unknown adam setting 'beta3'; did you mean 'beta1'? (known: beta1, ...)
    """
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
    "SOAP",
    "AMSGrad",
    "AdEMAMix",
    "AdaBelief",
    "AdaShift",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamMini",
    "AdamNC",
    "AdamW",
    "Adamax",
    "CautiousAdam",
    "Definition",
    "EFMuon",
    "Grams",
    "Kernel",
    "Lion",
    "Momentum",
    "NAdam",
    "NorMuon",
    "Optimizer",
    "Out",
    "RAdam",
    "RMSProp",
    "ScaleLimit",
    "ScheduleFreeAdamW",
    "SignSGD",
    "Signum",
    "Yogi",
    "definition",
    "make_optimizer",
    "out",
]
