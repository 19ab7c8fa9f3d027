"""Writing a command's JSON and figures into --out, atomically, and printing --json."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from adasim.io import dumps, write_figure, write_record


def write_outputs(out_dir: Path | None, json_name: str, data: dict[str, Any], figures: dict[str, Any]) -> list[str]:
    """Write each figure as PNG and SVG, then `json_name` (with the provenance: versions, git
    commit, command, run id, UTC time, and the SHA-256 of each file); returns the names written."""
    if out_dir is None:
        return []
    names = [json_name]
    for stem, fig in figures.items():
        write_figure(out_dir / f"{stem}.png", fig, dpi=120)
        write_figure(out_dir / f"{stem}.svg", fig)
        names += [f"{stem}.png", f"{stem}.svg"]
    write_record(out_dir, json_name, data)  # last: it lists the files above with their hashes
    return names


def print_json(data: dict[str, Any]) -> None:
    print(dumps(data))


def finish(
    out_dir: Path | None, json_name: str, data: dict[str, Any], figures: Callable[[], dict[str, Any]], json_out: bool
) -> list[str] | None:
    """Write the files (figures built only when there is an --out) and print --json.
    Returns the names written, or None when --json took stdout and nothing else may be printed."""
    written = write_outputs(out_dir, json_name, data, figures() if out_dir is not None else {})
    if json_out:
        print_json(data)
        return None
    return written
