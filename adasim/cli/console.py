"""Terminal output: the consoles, one-line errors, the progress bar and the results table."""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

EXIT_BAD_INPUT = 2
EXIT_NUMERICAL = 3

PROGRESS_MIN_WORK = 2_000_000  # lane-steps below which a bar would only flicker


def stdout() -> Console:
    return Console(file=sys.stdout, width=int(os.environ.get("COLUMNS", "120")), highlight=False, soft_wrap=False)


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def error_line(message: str) -> None:
    """One line on stderr, no markup interpretation."""
    text = " ".join(str(message).split())
    print(f"adasim: error: {text}", file=sys.stderr)


def warning_line(message: str) -> None:
    print(f"adasim: warning: {' '.join(str(message).split())}", file=sys.stderr)


@contextmanager
def progress_bar(total: int, description: str, enabled: bool = True, lanes: int = 1) -> Iterator[Callable[[int], None] | None]:
    """A Rich bar on stderr (only on a terminal and for long work: `total` callbacks' units × `lanes`
    lanes each); yields the engine's callback, told of steps."""
    console = stderr()
    if not enabled or total * lanes < PROGRESS_MIN_WORK or not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def settings_text(config: dict[str, Any], name: str = "") -> str:
    """The settings column: from the table of settings (adasim.settings.describe)."""
    from adasim.optimizers import OPTIMIZERS
    from adasim.settings import describe

    defaults = OPTIMIZERS[name].options() if name in OPTIMIZERS else {}
    return describe(config, {k: (v.config() if hasattr(v, "config") else v) for k, v in defaults.items()})


def results_table(summary: dict[str, Any]) -> Table:
    """One row per optimizer: settings, final x (median and quartiles), R_T/T, verdict, status."""
    problem = summary["problem"]
    several = any("final_x_quantiles" in r for r in summary["results"])
    table = Table(show_lines=False, header_style="bold")
    table.add_column("optimizer")
    table.add_column("settings", overflow="fold")
    table.add_column("final x" + (" (median)" if several else ""), justify="right")
    if several:
        table.add_column("25–75 %", justify="right")
    table.add_column("R_T/T", justify="right")
    table.add_column("verdict")
    table.add_column("status")
    for r in summary["results"]:
        final = r["final_x"]
        if isinstance(final, list):  # several coordinates: distance to x* and how many reached it
            if r.get("distance") is None and r.get("y") is not None:  # no x* per coordinate: the number the problem reports
                final = f"y = {fmt(r['y'])}"
            else:
                final = f"‖x−x*‖ {fmt(r.get('distance'))}, {r.get('coordinates_at_optimum')}/{len(final)} at x*"
        row = [r["optimizer"], settings_text(r["config"], r["optimizer"]), fmt(final)]
        if several:
            q = r.get("final_x_quantiles")
            row.append("—" if not q else f"[{fmt(q[0])}, {fmt(q[1])}]")
        verdict = r["verdict"] or "—"
        colour = {"optimum": "green", "toward x*": "green", "worst point": "red", "away from x*": "red"}.get(verdict, "yellow")
        row += [fmt(r["average_regret"]), f"[{colour}]{verdict}[/]", r.get("health", r["status"])]
        table.add_row(*row)
    opt = problem.get("optimum")
    table.title = (
        f"{problem['name']}"
        + (f" ({problem['preset']})" if problem.get("preset") else "")
        + (f", x* = {fmt(opt)}" if opt is not None else "")
    )
    return table
