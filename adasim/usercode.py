"""Running a user's code (steps, ticks, gradients, declarations loaded from `file.py:Name`):
every failure becomes one line that names the file, the function and the line, and a
SystemExit or KeyboardInterrupt it raises does not decide adasim's exit code."""

from __future__ import annotations

from typing import Any

from adasim.errors import AdasimError
from adasim.signals import raised_by_user_code


class UserCodeError(AdasimError):
    """A user's step, tick or gradient raised or returned something unusable."""


def call_user(fn: Any, what: str, *args: Any, **kwargs: Any) -> Any:
    """Call a step/tick/kernel, turning its failures into one-line errors that name it."""
    try:
        return fn(*args, **kwargs)
    except AdasimError:
        raise
    except (Exception, SystemExit, KeyboardInterrupt) as err:
        if not isinstance(err, Exception) and not raised_by_user_code(err):
            raise  # a real Ctrl-C or SIGTERM
        detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        raise UserCodeError(f"{what} {user_code_name(fn, what)}{user_line(err, fn)} failed: {detail}") from None


def who(d: Any) -> str:
    """A definition's name, with `file.py:step` when its step comes from a user's file."""
    where = user_code_name(d.step)
    return f"{d.name} ({where})" if ".py:" in where else d.name


def user_code_name(fn: Any, what: str = "function") -> str:
    """`file.py:function` for code loaded from a user's file, `module.function` otherwise."""
    name = getattr(fn, "__qualname__", getattr(fn, "__name__", what))
    code = getattr(fn, "__code__", None)
    module = getattr(fn, "__module__", "") or ""
    if module.startswith("adasim_user_") and code is not None:
        return f"{code.co_filename}:{name}"
    return f"{module}.{name}" if module else name


def user_line(err: BaseException, fn: Any) -> str:
    """' (line N)': where in fn's file the failure happened, if it did there."""
    code = getattr(fn, "__code__", None)
    tb, line = err.__traceback__, None
    while tb is not None:
        if code is not None and tb.tb_frame.f_code.co_filename == code.co_filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (line {line})" if line else ""
