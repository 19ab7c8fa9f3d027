"""Loading a user's optimizer definition from `path/to/file.py:Name`.

Loading executes the file (as `import` would): only name files you trust."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

from adasim.errors import AdasimError
from adasim.optimizers.base import Definition


def is_user_spec(name: str) -> bool:
    return ".py:" in name


def _where(err: BaseException, path: Path) -> str:
    """' (line N)' of the deepest frame in the user's file."""
    where = f" (line {err.lineno})" if isinstance(err, SyntaxError) and err.lineno else ""
    tb = err.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
            where = f" (line {tb.tb_lineno})"
        tb = tb.tb_next
    return where


def load_object(spec: str) -> Any:
    """The object `Name` defined in `file.py`, with one-line errors that name the file."""
    path_text, _, attr = spec.rpartition(":")
    path = Path(path_text)
    if not attr:
        raise AdasimError(f"'{spec}': give the name after the colon, as in file.py:MyOptimizer")
    if not path.is_file():
        raise AdasimError(f"{path}: no such file")
    stat = path.stat()  # a file edited since it was loaded is loaded again
    module_name = f"adasim_user_{abs(hash((str(path.resolve()), stat.st_mtime_ns, stat.st_size)))}"
    if module_name in sys.modules:
        module = sys.modules[module_name]
    else:
        try:
            module_spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
            sys.modules[module_name] = module
            module_spec.loader.exec_module(module)  # type: ignore[union-attr]
        except BaseException as err:  # SystemExit and KeyboardInterrupt of user code included
            sys.modules.pop(module_name, None)
            text = err.msg if isinstance(err, SyntaxError) else str(err)
            raise AdasimError(f"{path}: failed to import{_where(err, path)}: {type(err).__name__}: {text}") from None
    if not hasattr(module, attr):
        defined = sorted(n for n, v in vars(module).items() if isinstance(v, Definition))
        if not defined:  # name what the file does define
            defined = sorted(n for n, v in vars(module).items() if inspect.isclass(v) and v.__module__ == module_name)
        hint = f" (it defines: {', '.join(defined)})" if defined else " (it defines no optimizer definitions)"
        raise AdasimError(f"{path} names nothing called '{attr}'{hint}")
    return getattr(module, attr)


def load_definition(spec: str) -> Definition:
    """The `Definition` that `file.py:Name` names."""
    obj = load_object(spec)
    if not isinstance(obj, Definition):
        kind = "class" if inspect.isclass(obj) else type(obj).__name__
        raise AdasimError(f"{spec} is not an adasim optimizer Definition (it is a {kind}); see adasim.Definition")
    object.__setattr__(obj, "origin", str(Path(spec.rpartition(":")[0]).resolve()) + ":" + spec.rpartition(":")[2])
    return obj
