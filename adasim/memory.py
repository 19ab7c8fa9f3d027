"""The memory guard: estimate what a run will allocate before allocating it.

The limit is `ADASIM_MEMORY_LIMIT` (bytes, or with a unit: `8GiB`, `500MB`), by default half of
the machine's physical memory. A request above it is refused with a one-line AdasimError that
says what to reduce; `ADASIM_MEMORY_LIMIT=none` lifts it.
"""

from __future__ import annotations

import os
import re

from adasim.errors import AdasimError

UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
         "tib": 2**40}  # fmt: skip


def physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def limit() -> int | None:
    """The limit in bytes (None: no limit)."""
    text = os.environ.get("ADASIM_MEMORY_LIMIT", "").strip().lower()
    if text in ("none", "off", "0"):
        return None
    if text:
        m = re.fullmatch(r"([0-9.]+)\s*([a-z]*)", text)
        if not m or m.group(2) not in UNITS:
            raise AdasimError(f"ADASIM_MEMORY_LIMIT must be bytes or a size such as 8GiB, got {text!r}")
        return int(float(m.group(1)) * UNITS[m.group(2)])
    total = physical_memory()
    return None if total is None else total // 2


def show(nbytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{int(nbytes)} B"


def require(nbytes: float, what: str, hint: str) -> None:
    """Refuse (AdasimError) when `what` would need more than the limit."""
    cap = limit()
    if cap is not None and nbytes > cap:
        raise AdasimError(f"{what} would need about {show(nbytes)} of memory, more than the limit of {show(cap)} "
                          f"({hint}; or raise ADASIM_MEMORY_LIMIT, 'none' for no limit)")  # fmt: skip
