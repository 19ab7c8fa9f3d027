"""The engine: one block stream (`iterate`) over one of three executors of the same step —
compiled (numba), NumPy and plain Python — and `simulate`, which consumes it into a `Run`."""

from adasim.engine.layout import FIELDS, Layout
from adasim.engine.simulate import TRACE_FIELDS, simulate
from adasim.engine.stream import ENGINES, AdasimWarning, Block, iterate, make_executor

__all__ = ["ENGINES", "FIELDS", "TRACE_FIELDS", "AdasimWarning", "Block", "Layout", "iterate", "make_executor", "simulate"]
