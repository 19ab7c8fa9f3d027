"""`adasim probe REPORT.json`: a probe's saved report (adasim.probe, from a torch training run)
as a table per layer, and its figure."""

from pathlib import Path
from typing import Annotated

import typer

from adasim.cli.console import stdout
from adasim.io import prepare_out_dir, write_figure


def probe_command(
    report: Annotated[
        Path, typer.Argument(help="A report written by adasim.probe(...).report().write(PATH).", show_default=False)
    ],
    out: Annotated[Path | None, typer.Option("--out", help="Write probe.png and probe.svg here.")] = None,
) -> None:
    """Show what adasim.probe measured in a training run: per layer, v's correlation with g² beside its i.i.d. and shifted
    values."""
    from adasim.training_probe import ProbeReport

    loaded = ProbeReport.read(report)
    out_dir = prepare_out_dir(out) if out is not None else None
    stdout().print(loaded.table(), highlight=False)
    if out_dir is not None:
        fig = loaded.plot()
        written = [write_figure(out_dir / f"probe.{ext}", fig).name for ext in ("png", "svg")]
        stdout().print(f"wrote {out_dir}/: {', '.join(written)}")
