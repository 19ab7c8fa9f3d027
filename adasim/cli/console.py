"""Terminal output: the consoles, one-line errors, the progress bar and the results table."""

import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.spinner import Spinner
from rich.table import Table

EXIT_BAD_INPUT = 2
EXIT_NUMERICAL = 3

PROGRESS_MIN_WORK = 2_000_000  # lane-steps from which a bar shows at once (below, it waits PROGRESS_AFTER)
PROGRESS_AFTER = 2.0  # seconds of work after which a bar appears (work shorter than that never flickers one)
COMPILE_AFTER = 1.5  # seconds a kernel's first call must take for the compile status to show (a cached one loads faster)
COMPILING = "compiling the kernel (first run only)"


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


def fallback_warnings(spec: Any) -> None:
    """One warning line per optimizer of the spec that `--engine auto` runs on the NumPy executor
    although numba is here because of its settings: a step shared over blocks of coordinates (φ ≠
    identity; adasim.engine.kernels.unsupported says why). None for what runs on NumPy by design (a
    problem with a Python gradient, an optimizer that acts on matrices, a projection on a ball of
    matrices), nor when numba itself is missing (the engine says so)."""
    if spec.run_settings.engine != "auto" or spec.problem.projection() is not None:
        return
    from adasim.engine import jit, kernels
    from adasim.engine.layout import Layout

    if not jit.available():
        return
    run = spec.run_settings
    reasons: dict[str, list[str]] = {}  # why, without the optimizer's name -> the optimizers
    for opt in spec.optimizers:
        if opt.definition.matrix:
            continue
        layout = Layout.build(spec.problem, opt, run.seeds, spec.problem.default_x0 if run.x0 is None else run.x0)
        reason = kernels.unsupported(layout)
        if reason is not None and layout.coupled and layout.problem.gradient_kernel is not None:
            named = reason.startswith(opt.name + " ")
            reasons.setdefault(reason[len(opt.name) :] if named else f": {reason}", []).append(opt.name)
    for why, names in reasons.items():
        who = ", ".join(dict.fromkeys(names))
        if len(names) > 1:
            why = why.replace(" shares ", " share ", 1)
        warning_line(f"{who}{why}: numba does not compile this, so it runs on the NumPy executor (slower, the same numbers)")


class _Bar:
    """A Rich bar on stderr, shown at once or (`after` seconds) only once the work has run that long,
    so that short work never flickers one; the compile status writes into it while it is open."""

    def __init__(self, console: Console, description: str, total: float | None, after: float) -> None:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        # stdout is the results' (and, with --json, a parser's): the bar never wraps it, only stderr
        self.progress = Progress(*columns, console=console, transient=True, redirect_stdout=False)
        self.task = self.progress.add_task(description, total=total)
        self.description = description
        self.lock = threading.Lock()
        self.shown = self.closed = False
        self.timer: threading.Timer | None = None
        if after <= 0:
            self.show()
        else:
            self.timer = threading.Timer(after, self.show)
            self.timer.daemon = True
            self.timer.start()

    def show(self) -> None:
        with self.lock:
            if not self.closed and not self.shown:
                self.progress.start()
                self.shown = True

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.timer is not None:
                self.timer.cancel()
            if self.shown:
                self.progress.stop()

    def advance(self, n: float) -> None:
        self.progress.advance(self.task, n)

    def done_of(self, done: float, total: float) -> None:
        self.progress.update(self.task, completed=done, total=total)

    def note(self, text: str | None) -> None:
        """`text` after the description (None: the description alone)."""
        self.progress.update(self.task, description=self.description if text is None else f"{self.description} — {text}")


_OPEN: list[_Bar] = []  # the bars open now (the innermost last): the compile status writes into it


@contextmanager
def _bar(description: str, total: float | None, enabled: bool, after: float) -> Iterator[_Bar | None]:
    console = stderr()
    if not enabled or not console.is_terminal:
        yield None
        return
    bar = _Bar(console, description, total, after)
    _OPEN.append(bar)
    try:
        yield bar
    finally:
        _OPEN.remove(bar)
        bar.close()


@contextmanager
def progress_bar(total: int, description: str, enabled: bool = True, lanes: int = 1) -> Iterator[Callable[[int], None] | None]:
    """A Rich bar on stderr with the time remaining, on a terminal only: at once for work of at least
    PROGRESS_MIN_WORK lane-steps (`total` callbacks' units × `lanes` lanes each), else once the work
    has run PROGRESS_AFTER seconds (few lane-steps can still be slow: the NumPy executor, a long
    history); yields the engine's callback, told of steps."""
    after = 0.0 if total * lanes >= PROGRESS_MIN_WORK else PROGRESS_AFTER
    with _bar(description, total, enabled, after) as bar:
        yield None if bar is None else bar.advance


class Stages:
    """A bar over work done in named stages: `stage(name, units)` as a stage begins (the description
    names it; its exact units replace its estimate in the total), `advance(n)` as units finish."""

    def __init__(self, bar: _Bar, estimates: Sequence[tuple[str, int]]) -> None:
        self.bar = bar
        self.base = bar.description
        self.estimates = dict(estimates)
        self.total = sum(self.estimates.values())

    def advance(self, n: float) -> None:
        self.bar.advance(n)

    def stage(self, name: str, units: int) -> None:
        self.total += units - self.estimates.pop(name, 0)
        self.bar.progress.update(self.bar.task, total=max(self.total, 1))
        self.bar.description = f"{self.base}: {name}"
        self.bar.note(None)


@contextmanager
def progress_stages(
    description: str, stages: Sequence[tuple[str, int]], enabled: bool = True, lanes: int = 1
) -> Iterator[Stages | None]:
    """progress_bar for work in named stages (`stages`: each name with at most how many units it
    makes, in order): yields a Stages whose `advance` and `stage` the library functions take (None
    when no bar can show). Shown as progress_bar is: at once for large work, else after PROGRESS_AFTER."""
    total = sum(units for _, units in stages)
    after = 0.0 if total * lanes >= PROGRESS_MIN_WORK else PROGRESS_AFTER
    with _bar(description, total, enabled, after) as bar:
        yield None if bar is None else Stages(bar, stages)


@contextmanager
def progress_count(
    description: str, enabled: bool = True, after: float | None = None
) -> Iterator[Callable[[float, float], None] | None]:
    """A Rich bar on stderr for work counted in cases, frames, views or grid points: on a terminal
    only, and only once the work has run `after` seconds (default PROGRESS_AFTER); yields the
    callback `progress(done, total)` the library functions take (None when no bar can show)."""
    with _bar(description, None, enabled, PROGRESS_AFTER if after is None else after) as bar:
        yield None if bar is None else bar.done_of


@contextmanager
def compile_status(after: float | None = None) -> Iterator[None]:
    """While numba compiles a kernel (adasim.engine.jit's compile hook): "compiling the kernel
    (first run only)" after the open bar's description, or, with no bar open, as a spinner line on
    stderr — a terminal only, and only when compiling takes over `after` seconds (default
    COMPILE_AFTER: a kernel numba loads from its disk cache shows nothing)."""
    if _OPEN:
        bar = _OPEN[-1]
        bar.note(COMPILING)
        try:
            yield
        finally:
            bar.note(None)
        return
    console = stderr()
    if not console.is_terminal:
        yield
        return
    status = Live(Spinner("dots", COMPILING), console=console, transient=True, redirect_stdout=False)
    lock = threading.Lock()
    state = {"shown": False, "closed": False}

    def show() -> None:
        with lock:
            if not state["closed"]:
                status.start()
                state["shown"] = True

    wait = COMPILE_AFTER if after is None else after
    timer = threading.Timer(wait, show) if wait > 0 else None
    if timer is None:
        show()
    else:
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        with lock:
            state["closed"] = True
            if timer is not None:
                timer.cancel()
            if state["shown"]:
                status.stop()


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
