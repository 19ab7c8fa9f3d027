"""The arguments of public entry points: a problem and an optimizer where they belong, or a
one-line AdasimError (never an AttributeError deep inside)."""

from __future__ import annotations

import functools
from typing import Any

from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem


def require_problem(problem: Any) -> Any:
    """`problem` itself when it is an adasim Problem record, else a one-line AdasimError."""
    if not isinstance(problem, Problem):
        hint = " (build one, e.g. Online(C=3) or make_problem('online'))" if isinstance(problem, str | type) else ""
        raise AdasimError(f"problem must be an adasim problem (Online, Stochastic, ...), got {type(problem).__name__}{hint}")
    return problem


def require_optimizer(optimizer: Any) -> Any:
    """`optimizer` itself when it is an adasim Optimizer record, else a one-line AdasimError."""
    if not isinstance(optimizer, Optimizer):
        hint = " (call the definition with its settings, e.g. Adam(lr=0.1))" if callable(optimizer) else ""
        if isinstance(optimizer, str):
            hint = " (build one, e.g. make_optimizer('adam'))"
        raise AdasimError(f"optimizer must be an adasim optimizer, got {type(optimizer).__name__}{hint}")
    return optimizer


def takes_records(fn: Any) -> Any:
    """Decorate a public `fn(problem, optimizer, ...)` so that anything else in those two places
    is a one-line AdasimError, not an AttributeError deep inside."""

    @functools.wraps(fn)
    def checked(problem: Any, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(require_problem(problem), require_optimizer(optimizer), *args, **kwargs)

    return checked
