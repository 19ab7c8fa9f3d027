"""`adasim explore`: the explorer in the browser (a local server, or a static export)."""

import os
from pathlib import Path
from typing import Annotated

import typer

from adasim.cli.console import progress_count, stdout
from adasim.errors import AdasimError, check_range


def explore(
    optimizer: Annotated[
        list[str] | None,
        typer.Option(
            "--optimizer", "-o", help="Optimizers shown at the start (repeatable); file.py:Name adds your own to the toggles."
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port on the host (0: any free port).")] = 8050,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind: 127.0.0.1 (this machine only) unless you give another.")
    ] = "127.0.0.1",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser tab; print the address only.")] = False,
    steps: Annotated[int, typer.Option("--steps", help="Steps simulated on every change.")] = 10_000,
    export_dir: Annotated[
        Path | None, typer.Option("--export", help="Write a static page DIR/index.html (precomputed views, no server) and exit.")
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            help="With --export: the values of one control, as NAME=V1,V2,... (repeatable; default: "
            "C=3,5,10,20 beta1=0,0.5,0.9 and 17 values of beta2).",
        ),
    ] = None,
) -> None:
    """The explorer in the browser: sliders for β1, β2, C, d, k, p, the shift n, α and the schedule.

    Every change re-simulates and redraws x_t, v_t against g_t, the net update factors beside their closed forms,
    the drift and its sign, the critical β2 (marked on its slider) and a (β1, β2) map of the drift's sign.
    """
    from adasim.explorer.view import DEFAULT_OPTIMIZERS, MAX_STEPS, parse_position
    from adasim.optimizers import OPTIMIZERS, definition

    check_range("--steps", steps, 100, MAX_STEPS, integer=True)
    chosen = tuple(dict.fromkeys(optimizer or DEFAULT_OPTIMIZERS))
    for name in chosen:
        definition(name)  # unknown names and failing user files: one line now
    user = tuple(o for o in chosen if o not in OPTIMIZERS)
    start = parse_position({"optimizers": ",".join(chosen)}, user, steps)
    if grid and export_dir is None:
        raise AdasimError("--grid sets the views of an export: give --export DIR with it")
    if export_dir is not None:
        _export(export_dir, grid or [], chosen, steps)
        return
    check_range("--port", port, 0, 65535, integer=True)
    if not host.strip():
        raise AdasimError("--host must be an address such as 127.0.0.1")
    from adasim.explorer.server import serve

    try:
        serve(host, port, not no_browser, user, steps, start)
    except KeyboardInterrupt:
        stopped()


def stopped() -> None:
    """Ctrl-C is how a server is stopped (its line says so): "adasim explore: stopped" on stderr and
    exit 0. SIGTERM stays an interruption (exit 143), as does Ctrl-C during --export (exit 130)."""
    import signal
    import sys

    from adasim import signals

    if signals.received() not in (None, signal.SIGINT):
        raise KeyboardInterrupt
    signals.forget()
    print("adasim explore: stopped", file=sys.stderr)


def _export(out: Path, grid: list[str], optimizers: tuple[str, ...], steps: int) -> None:
    """Check the grid, compute every view, then make the folder and write the page and its record:
    a refusal, a failure or Ctrl-C while computing leaves no folder behind."""
    from adasim.explorer.export import compute, parse_grid, plan, write
    from adasim.io import prepare_out_dir, write_record
    from adasim.optimizers import OPTIMIZERS

    if any(o not in OPTIMIZERS for o in optimizers):
        raise AdasimError("an export runs built-in optimizers only (the page cannot carry your file.py)")
    todo = plan(parse_grid(grid), optimizers, steps)  # every view checked before anything is computed
    _check_writable(out)
    stdout().print(f"computing {len(todo.positions)} views of {steps:,} steps ...")
    with progress_count("computing the views") as tick:
        views = compute(todo, tick)
    out_dir = prepare_out_dir(out, record="explore.json")
    done = write(out_dir, todo, views)
    grid_values = {k: list(v) for k, v in done.grid.items()}
    record = {"views": done.views, "bytes": done.bytes, "steps": steps, "optimizers": list(optimizers), "grid": grid_values}
    write_record(out_dir, "explore.json", record)
    stdout().print(
        f"wrote {done.path} ({done.views} views, {done.bytes / 1e6:.1f} MB) and explore.json; "
        "open index.html in a browser: no server, no network"
    )


def _check_writable(out: Path) -> None:
    """Refuse now, before minutes of computing, a folder that could not be made or written."""
    if out.exists() and not out.is_dir():
        raise AdasimError(f"cannot write to output folder '{out}': it is not a folder")
    parent = next((p for p in (out, *out.absolute().parents) if p.exists()), None)
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise AdasimError(f"cannot write to output folder '{out}': {parent} is not writable")
