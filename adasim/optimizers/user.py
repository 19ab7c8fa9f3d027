"""Loading a user's optimizer or scale rule from `path/to/file.py:Name`."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer
from adasim.optimizers.rule import RuleOptimizer, ScaleRule


def is_user_spec(name: str) -> bool:
    return ".py:" in name


def load_object(spec: str) -> Any:
    """The object `Name` defined in `file.py`, with one-line errors that name the file."""
    path_text, _, attr = spec.rpartition(":")
    path = Path(path_text)
    if not attr:
        raise AdasimError(f"'{spec}': give the name after the colon, as in file.py:MyRule")
    if not path.is_file():
        raise AdasimError(f"{path}: no such file")
    module_name = f"adasim_user_{abs(hash(str(path.resolve())))}"
    try:
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as err:
        sys.modules.pop(module_name, None)
        where = f" (line {err.lineno})" if isinstance(err, SyntaxError) and err.lineno else ""
        tb = err.__traceback__
        while tb is not None:
            if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
                where = f" (line {tb.tb_lineno})"
            tb = tb.tb_next
        text = err.msg if isinstance(err, SyntaxError) else str(err)
        raise AdasimError(f"{path}: failed to import{where}: {type(err).__name__}: {text}") from None
    if not hasattr(module, attr):
        defined = sorted(n for n, v in vars(module).items() if inspect.isclass(v) and v.__module__ == module_name)
        hint = f" (it defines: {', '.join(defined)})" if defined else " (it defines no classes)"
        raise AdasimError(f"{path} names nothing called '{attr}'{hint}")
    return getattr(module, attr)


def _fields(cls: type) -> set[str]:
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls) if f.init}
    return {p for p in inspect.signature(cls).parameters if p != "self"}


def make_user_optimizer(spec: str, **settings: Any) -> Optimizer:
    """An Optimizer subclass is built with the settings it has fields for; a ScaleRule subclass
    is wrapped in RuleOptimizer (β1, ε, lr, schedule) and gets the settings it has fields for."""
    obj = load_object(spec)
    label = spec.rpartition(":")[2]
    settings = {k: v for k, v in settings.items() if v is not None}
    try:
        if inspect.isclass(obj) and issubclass(obj, Optimizer):
            kwargs = {k: v for k, v in settings.items() if k in _fields(obj)}
            opt: Optimizer = obj(**kwargs)
        elif inspect.isclass(obj) and issubclass(obj, ScaleRule):
            rule = obj(**{k: v for k, v in settings.items() if k in _fields(obj)})
            outer = {k: v for k, v in settings.items() if k in ("lr", "schedule", "beta1", "eps", "eps_mode")}
            opt = RuleOptimizer(rule=rule, label=label, **outer)
        else:
            opt = None
    except AdasimError:
        raise
    except Exception as err:
        raise AdasimError(f"{spec}: could not be built: {type(err).__name__}: {err}") from None
    if opt is not None:
        object.__setattr__(opt, "origin", spec)  # how to name it again on a command line
        return opt
    raise AdasimError(f"{spec} is not an adasim Optimizer or ScaleRule subclass (got {type(obj).__name__})")
