"""adasim: a counterexample convergence simulator for adaptive optimizers.

>>> from adasim import Online, Adam, AMSGrad, Schedule, simulate
>>> problem = Online(C=10.0, d=3, k=1)                      # Reddi et al. 2018, Theorem 1
>>> adam = Adam(beta1=0.0, beta2=1 / 101, lr=0.5, schedule=Schedule("inv-sqrt"))
>>> round(float(simulate(problem, adam, steps=30_000).final_x[0, 0]), 2)   # the worst point
1.0

The registries the command line reads by name: optimizers, problems, presets (a problem with the
settings of a paper's figure or theorem) and engines (the same floats on each).

>>> from adasim import ENGINES, OPTIMIZERS, PRESETS, PROBLEMS
>>> OPTIMIZERS["adam"] is Adam, PROBLEMS["online"] is Online
(True, True)
>>> PRESETS["reddi-thm1"].problem, PRESETS["reddi-thm1"].params["C"]
('online', 10.0)
>>> sorted(ENGINES)
['auto', 'compiled', 'numpy', 'python']

`ops` is the elementwise vocabulary steps are written in (the same floats on a float and on
lanes), and `out` what a step returns:

>>> from adasim import ops, out
>>> float(ops.sqrt(4.0)), ops.maximum([1.0, 5.0], 2.0).tolist()
(2.0, [2.0, 5.0])
>>> out(0.1).step, out(0.1).pre
(0.1, 1.0)
"""

# Importing adasim is cheap: each public name is imported from its module when first used (PEP 562),
# and so are the subpackages (adasim.checks, adasim.spec, ...): `adasim --help` does not wait for
# NumPy and the engine, and `import adasim` still gives every documented attribute.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as a type checker sees them
    from adasim import ops
    from adasim.engine import ENGINES, AdasimWarning, iterate, simulate
    from adasim.errors import AdasimError
    from adasim.optimizers import (
        ADOPT,
        OPTIMIZERS,
        SGD,
        SOAP,
        AdaBelief,
        Adafactor,
        Adagrad,
        Adam,
        Adamax,
        AdamMini,
        AdamNC,
        AdamW,
        AdaShift,
        AdEMAMix,
        AMSGrad,
        CautiousAdam,
        Definition,
        EFMuon,
        Grams,
        Kernel,
        Lion,
        Momentum,
        Muon,
        NAdam,
        NorMuon,
        Optimizer,
        Out,
        PolarGrad,
        RAdam,
        RMSProp,
        ScaleLimit,
        ScheduleFreeAdamW,
        Shampoo,
        SignSGD,
        Signum,
        Yogi,
        make_optimizer,
        out,
    )
    from adasim.problems import (
        PRESETS,
        PROBLEMS,
        Custom,
        Domain,
        FiniteSum,
        Layered,
        Matrix,
        Online,
        Problem,
        Quadratic,
        Rotated,
        Stochastic,
        make_problem,
    )
    from adasim.run import Run, Trace
    from adasim.schedules import Schedule
    from adasim.settings import RunSettings
    from adasim.spec import build_spec
    from adasim.torch_export import as_torch

_MODULES: dict[str, tuple[str, ...]] = {  # each public name by the module that defines it
    "adasim.engine": ("ENGINES", "AdasimWarning", "iterate", "simulate"),
    "adasim.errors": ("AdasimError",),
    "adasim.optimizers": (
        "ADOPT", "OPTIMIZERS", "SGD", "AdaBelief", "Adafactor", "Adagrad", "Adam", "Adamax", "AdamMini", "AdamNC",
        "AdamW", "AdaShift", "AdEMAMix", "AMSGrad", "CautiousAdam", "Definition", "EFMuon", "Grams", "Kernel", "Lion",
        "Momentum", "Muon", "NAdam", "NorMuon", "Optimizer", "Out", "PolarGrad", "RAdam", "RMSProp", "ScaleLimit",
        "ScheduleFreeAdamW", "SignSGD", "Shampoo", "Signum", "SOAP", "Yogi",
        "make_optimizer", "out",
    ),
    "adasim.problems": (
        "PRESETS", "PROBLEMS", "Custom", "Domain", "FiniteSum", "Layered", "Matrix", "Online", "Problem", "Quadratic", "Rotated",
        "Stochastic", "make_problem",
    ),
    "adasim.run": ("Run", "Trace"),
    "adasim.schedules": ("Schedule",),
    "adasim.settings": ("RunSettings",),
    "adasim.spec": ("build_spec",),
    "adasim.torch_export": ("as_torch",),
}  # fmt: skip
_EXPORTS: dict[str, str] = {name: module for module, names in _MODULES.items() for name in names}
_SUBPACKAGES = frozenset({"analysis", "arguments", "checks", "demos", "display", "elementary", "engine", "errors",
                          "experiments", "explorer", "io", "memory", "ops", "optimizers", "plots", "problems", "random",
                          "run", "schedules", "settings", "signals", "spec", "sweep", "tables", "torch_export",
                          "training_probe", "usercode"})  # fmt: skip


def __getattr__(name: str) -> Any:
    """A public name or a subpackage, imported on first use."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"adasim.{name}")
    raise AttributeError(f"module 'adasim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBPACKAGES)


__version__ = "0.1.0"


def explore(steps: int = 10_000, **start):  # type: ignore[no-untyped-def]
    """The explorer as a Jupyter widget (needs `adasim[notebooks]`): the controls and figures of
    `adasim explore`, computed in this kernel, no server. `start` sets controls by name, e.g.
    `explore(C=3, beta2=0.3, optimizers="adam,adopt")`; `file.py:Name` optimizers become toggles.

    Examples
    --------
    In a Jupyter notebook with `adasim[notebooks]` installed (not run here: it draws a widget):

    >>> from adasim import explore
    >>> explore(C=3, beta2=0.3, optimizers="adam,adopt")  # doctest: +SKIP
    """
    from adasim.explorer.widget import make_widget

    return make_widget(steps=steps, **start)


def probe(optimizer, model=None, **options):  # type: ignore[no-untyped-def]
    """Attach adasim's probe to a torch optimizer (needs torch): the correlation of v with g², the
    net update factors, the shifted counterfactual, decoupling and spikes, per tensor and layer,
    measured in your training loop. See adasim.probe.probe.

    Examples
    --------
    Needs torch (`pip install adasim[torch]`, so not run here): attach it before the training loop,
    train as usual, then read the table per tensor and layer.

    >>> import torch  # doctest: +SKIP
    >>> from adasim import probe
    >>> model = torch.nn.Linear(4, 1)  # doctest: +SKIP
    >>> opt = torch.optim.Adam(model.parameters(), lr=1e-3)  # doctest: +SKIP
    >>> watch = probe(opt, model, window=100)  # doctest: +SKIP
    >>> for _ in range(200):  # doctest: +SKIP
    ...     opt.zero_grad()
    ...     model(torch.randn(32, 4)).pow(2).mean().backward()
    ...     opt.step()
    >>> print(watch.report().table())  # doctest: +SKIP
    >>> watch.detach()  # doctest: +SKIP
    """
    from adasim.training_probe import probe as attach

    return attach(optimizer, model, **options)


def check(optimizer, cases=None, **options):  # type: ignore[no-untyped-def]
    """`adasim check` from Python: put an optimizer (a SPEC string such as
    "torch:torch.optim.AdamW", "optax:optax.adam", "file.py:Name" or a built-in name) through the
    battery of Adam's counterexamples; returns a Report (`.passed`, a readable repr). Options:
    kwargs (the optimizer's keyword arguments), quick, twins, jobs. See adasim.checks.

    Examples
    --------
    On Reddi et al.'s stochastic problem (Fig. 1) Adam's factors drive x away from x*; AMSGrad's do not.

    >>> from adasim import check
    >>> [check(name, cases=["reddi-fig1-stochastic"]).passed for name in ("adam", "amsgrad")]
    [False, True]
    """
    from adasim.checks import check as run_check

    return run_check(optimizer, cases, **options)


__all__ = [  # literal, for static tools; tests/test_packaging.py holds it equal to _EXPORTS and the functions
    "ADOPT",
    "ENGINES",
    "OPTIMIZERS",
    "PRESETS",
    "PROBLEMS",
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
    "AdasimError",
    "AdasimWarning",
    "CautiousAdam",
    "Custom",
    "Definition",
    "Domain",
    "EFMuon",
    "FiniteSum",
    "Grams",
    "Kernel",
    "Layered",
    "Lion",
    "Matrix",
    "Momentum",
    "Muon",
    "NAdam",
    "NorMuon",
    "Online",
    "Optimizer",
    "Out",
    "PolarGrad",
    "Problem",
    "Quadratic",
    "RAdam",
    "RMSProp",
    "Rotated",
    "Run",
    "RunSettings",
    "ScaleLimit",
    "Schedule",
    "ScheduleFreeAdamW",
    "Shampoo",
    "SignSGD",
    "Signum",
    "Stochastic",
    "Trace",
    "Yogi",
    "as_torch",
    "build_spec",
    "check",
    "explore",
    "iterate",
    "make_optimizer",
    "make_problem",
    "ops",
    "out",
    "probe",
    "simulate",
]
