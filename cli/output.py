"""Writing a command's JSON and figures into --out, atomically, and printing --json."""

from pathlib import Path
from typing import Any

from adasim.io import dumps, write_figure, write_json


def write_outputs(out_dir: Path | None, json_name: str, data: dict[str, Any], figures: dict[str, Any]) -> list[str]:
    """Write `json_name` and each figure as PNG and SVG; returns the file names written."""
    if out_dir is None:
        return []
    write_json(out_dir / json_name, data)
    names = [json_name]
    for stem, fig in figures.items():
        write_figure(out_dir / f"{stem}.png", fig, dpi=120)
        write_figure(out_dir / f"{stem}.svg", fig)
        names += [f"{stem}.png", f"{stem}.svg"]
    return names


def print_json(data: dict[str, Any]) -> None:
    print(dumps(data))
