"""Short text and Jupyter HTML representations of results (runs, factors, sweeps, reports):
a title and a few key numbers, never the arrays behind them."""

from __future__ import annotations

import html
from typing import Any

import numpy as np


def short(value: Any, digits: int = 4) -> str:
    """A number, a short array (first values, then `…`) or text, in a few characters."""
    if value is None:
        return "—"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.{digits}g}"
    if isinstance(value, np.ndarray | list | tuple):
        arr = np.asarray(value)
        if arr.dtype.kind in "fiub":
            flat = arr.ravel()
            body = ", ".join(short(v, digits) for v in flat[:6].tolist())
            more = f", … ({flat.size} values)" if flat.size > 6 else ""
            return f"[{body}{more}]"
        return str(list(arr.ravel()[:6].tolist()))
    return str(value)


class Shown:
    """A result that shows itself as `<Title: key=value, ...>` and, in Jupyter, as a small table.
    Subclasses give `_shown() -> (title, {label: value})`."""

    def _shown(self) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def __repr__(self) -> str:
        title, rows = self._shown()
        return f"<{title}: " + ", ".join(f"{k}={short(v)}" for k, v in rows.items()) + ">"

    def _repr_html_(self) -> str:
        title, rows = self._shown()
        left = "style='text-align:left'"
        cells = "".join(
            f"<tr><th {left}>{html.escape(str(k))}</th><td {left}>{html.escape(short(v))}</td></tr>" for k, v in rows.items()
        )
        return f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption>{cells}</table>"
