"""`adasim experiment`: list and run the reproductions of published figures."""

from pathlib import Path
from typing import Annotated

import typer

from adasim.cli.console import progress_count, stdout
from adasim.experiments import EXPERIMENTS, load, run_experiment


def experiment(
    name: Annotated[str | None, typer.Argument(help="The experiment; leave out to list them.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for NAME.png, NAME.svg and NAME.json.")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="A reduced version that runs in seconds.")] = False,
) -> None:
    """Run one reproduction of a published figure (or list them), writing its figures and every number it shows."""
    console = stdout()
    if name is None:
        for key in EXPERIMENTS:
            module = load(key)
            console.print(f"[bold]{key}[/]: {module.TITLE}\n  [dim]{module.SOURCE}[/]")
        return
    load(name)  # unknown names fail before any work
    folder = out if out is not None else Path("out") / name
    with progress_count(f"experiment {name}") as tick:
        numbers = run_experiment(name, folder, quick=quick, progress=tick)
    console.print(f"wrote {folder}/: {', '.join(numbers['files'])}")
