"""The one exception adasim raises for bad input, and small validators that raise it."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class AdasimError(ValueError):
    """Invalid input: the message is one line that says what is wrong and what is allowed.

    Examples
    --------
    A mistyped name is refused with the closest known one; `AdasimError` is a `ValueError`.

    >>> from adasim import AdasimError, make_problem
    >>> try:
    ...     make_problem("onlien")
    ... except AdasimError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    unknown problem 'onlien'; did you mean 'online'? (known: ...)
    >>> issubclass(AdasimError, ValueError)
    True
    """


class AdasimWarning(UserWarning):
    """Something the user should know that did not stop the run (a fallback, a dropped lane).

    Examples
    --------
    It is a `UserWarning`, so the `warnings` filters apply to it:

    >>> import warnings
    >>> from adasim import AdasimWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("the compiled engine cannot run this problem: NumPy instead", AdasimWarning)
    >>> [issubclass(w.category, UserWarning) for w in caught]
    [True]
    """


class NumericalError(AdasimError):
    """The numbers asked for overflow or are NaN: reported (exit 3 from the command line), never
    printed or drawn as if they were results."""


def require_finite_squares(values: Any, what: str) -> None:
    """Scales of the Adam family square the gradients: refuse values whose square is not a float."""
    import numpy as np  # here: `import adasim.errors` (the CLI's start-up) does not wait for NumPy

    with np.errstate(over="ignore"):
        if not np.all(np.isfinite(np.square(np.asarray(values, dtype=np.float64)))):
            raise NumericalError(f"{what}: the gradients' squares overflow (|g| above about 1.3e154), so v_t and "
                                   "this closed form are not finite numbers; use a smaller C or s")  # fmt: skip


def typo_distance(a: str, b: str) -> int:
    """Edits between a and b, a swap of two neighbouring letters counting as one (the optimal
    string alignment distance): 'adma' is one edit from 'adam', two from 'adamax'."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


LONGEST_NAME = 200  # characters: a longer "name" gets no did-you-mean search


def unknown_name(kind: str, name: str, known: Iterable[str]) -> AdasimError:
    """An error for an unknown registry name that suggests the closest known one (a one-edit
    typo first, else the most similar by difflib)."""
    known = sorted(known)
    name = str(name)
    if len(name) > LONGEST_NAME:  # no registry name is this long: no search (it costs ~len² per known name)
        return AdasimError(f"unknown {kind} '{name[:40]}…' ({len(name):,} characters) (known: {', '.join(known)})")
    typos = sorted((typo_distance(name.lower(), k.lower()), k) for k in known)
    close = [typos[0][1]] if typos and typos[0][0] <= 1 else difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return AdasimError(f"unknown {kind} '{name}'{hint} (known: {', '.join(known)})")


def as_lane_array(name: str, value: object, *, integer: bool = False) -> np.ndarray:
    """A hyper-parameter as a float (or int) array that is a scalar or 1-D over lanes."""
    import numpy as np  # here: `import adasim.errors` (the CLI's start-up) does not wait for NumPy

    try:
        arr = np.asarray(value, dtype=np.int64 if integer else np.float64)
    except (TypeError, ValueError):
        raise AdasimError(f"{name} must be a number or a 1-D array of numbers, got {value!r}") from None
    except OverflowError:
        raise AdasimError(f"{name} is too large for this machine (at most {np.iinfo(np.int64).max:,}), got {value!r}") from None
    if integer and not np.array_equal(np.asarray(value, dtype=np.float64), arr):
        raise AdasimError(f"{name} must be a whole number, got {value!r}")
    if arr.ndim > 1:
        raise AdasimError(f"{name} must be a scalar or 1-D over lanes, got shape {arr.shape}")
    if arr.size == 0:
        raise AdasimError(f"{name} is empty")
    if not integer and not np.all(np.isfinite(arr)):
        raise AdasimError(f"{name} must be finite, got {value!r}")
    return arr


def pick_lane(record: Any, lane_params: tuple[str, ...], i: int) -> Any:
    """A copy of a frozen record with every per-lane parameter replaced by its i-th value."""
    import numpy as np  # here: `import adasim.errors` (the CLI's start-up) does not wait for NumPy

    out = copy.copy(record)
    for p in lane_params:
        value = getattr(record, p)
        if np.ndim(value) == 1:
            object.__setattr__(out, p, np.asarray(value)[i].item())
    return out


def _show(arr: np.ndarray) -> str:
    bad = arr.ravel()
    return repr(bad[0].item()) if bad.size else "?"


def check_range(
    name: str,
    value: object,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
) -> np.ndarray:
    """Validate that every lane's value lies in the interval; returns the lane array."""
    import numpy as np  # here: `import adasim.errors` (the CLI's start-up) does not wait for NumPy

    arr = as_lane_array(name, value, integer=integer)
    ok = np.ones(arr.shape, dtype=bool)
    if lo is not None:
        ok &= (arr > lo) if lo_open else (arr >= lo)
    if hi is not None:
        ok &= (arr < hi) if hi_open else (arr <= hi)
    if not np.all(ok):
        left = "(" if lo_open or lo is None else "["
        right = ")" if hi_open or hi is None else "]"
        show = (lambda b: f"{int(b)}") if integer else (lambda b: f"{b:g}")  # an integer bound exactly
        lo_s = "-inf" if lo is None else show(lo)
        hi_s = "inf" if hi is None else show(hi)
        raise AdasimError(f"{name} must lie in {left}{lo_s}, {hi_s}{right}, got {_show(arr[~ok])}")
    return arr


def check_choice(name: str, value: str, choices: Iterable[str]) -> str:
    """Validate a named convention against its allowed values."""
    choices = tuple(choices)
    if value not in choices:
        raise unknown_name(name, str(value), choices)
    return value
