"""Tidy tables of results: one row per observation, one column per variable. `to_dataframe()`
gives a pandas DataFrame (pandas is the optional extra `adasim[pandas]`); `to_csv(path)` needs
nothing beyond NumPy and writes the file atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from adasim.errors import AdasimError


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise AdasimError("to_dataframe() needs pandas: pip install 'adasim[pandas]' (or use to_csv / columns)") from None
    return pandas


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return "" if not np.isfinite(value) else repr(float(value))
    text = str(value)
    return f'"{text}"' if ("," in text or '"' in text) else text


def write_csv(path: str | os.PathLike[str], columns: dict[str, np.ndarray]) -> Path:
    """The columns (equal lengths) as CSV with a header; NaN as an empty field; atomic."""
    from adasim.io import atomic_file

    names = list(columns)
    arrays = [np.asarray(columns[n]) for n in names]
    if len({len(a) for a in arrays}) > 1:
        raise AdasimError("the columns of a table must have equal lengths")
    with atomic_file(path, "w") as fh:
        fh.write(",".join(names) + "\n")
        for row in zip(*arrays, strict=True):
            fh.write(",".join(_cell(v) for v in row) + "\n")
    return Path(path)


class Tabular:
    """Gives `to_dataframe()` and `to_csv(path)` to a result that defines `columns()`, a dict of
    equal-length 1-D arrays (its tidy table)."""

    def columns(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def to_dataframe(self) -> Any:
        return _pandas().DataFrame(self.columns())

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        return write_csv(path, self.columns())
