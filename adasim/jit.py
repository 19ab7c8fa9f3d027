"""Compiling the analysis's inner loops: numba when it imports (cached on disk), the plain Python
function otherwise. The function is written once, as loops over NumPy arrays; plain functions it
calls by name are compiled with it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, compiled by numba on its first call (or left as Python without numba)."""
    compiled: list[Callable[..., Any]] = []

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        if not compiled:
            from adasim.engine import compiled as engine

            if engine.available():
                numba = engine._numba()
                engine._helpers(fn, [])  # the plain functions it calls by name are compiled with it
                compiled.append(numba.njit(cache=True, error_model="numpy", nogil=True)(fn))
            else:
                compiled.append(fn)
        return compiled[0](*args)

    call.python = fn  # type: ignore[attr-defined]
    return call
