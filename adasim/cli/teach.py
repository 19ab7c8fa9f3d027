"""Teaching commands: `adasim demo`, `adasim animate` and `adasim lesson`."""

from pathlib import Path
from typing import Annotated

import typer

from adasim.cli.console import progress_count, stdout
from adasim.cli.options import SpecOptions, with_spec_options
from adasim.cli.run import describe
from adasim.errors import AdasimError, check_range
from adasim.io import prepare_out_dir, write_figure

MAX_FRAMES = 10_000  # an animation's frames (and the steps of contributions shown at once)
NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template"}


def demo(
    steps: Annotated[int, typer.Option("--steps", help="Steps simulated on every move.")] = 10_000,
    save: Annotated[
        Path | None, typer.Option("--save", help="Render the explorer once to this PNG instead of opening a window.")
    ] = None,
) -> None:
    """An interactive window: sliders for β1, β2, C, d, the shift n and α, toggles for the optimizers.

    Every move re-simulates and redraws x_t, v_t against g_t and the per-phase net update factors with their closed forms.
    """
    from adasim.demos.explorer import Explorer

    check_range("--steps", steps, 100, 1_000_000, integer=True)  # every slider move re-simulates them
    if save is not None:
        from matplotlib.figure import Figure

        prepare_out_dir(save.parent if str(save.parent) else Path("."), lock=False)
        explorer = Explorer(Figure(figsize=(13, 8)), steps=steps)
        write_figure(save, explorer.fig, dpi=100)
        stdout().print(f"wrote {save} (one update took {1000 * explorer.seconds:.0f} ms)")
        return
    import matplotlib.pyplot as plt

    backend = plt.get_backend().lower()
    if backend in NON_INTERACTIVE:
        raise AdasimError(
            f"no window can open here (matplotlib backend '{backend}'): run `adasim demo` where there is a display, "
            "or render a snapshot with --save FILE.png"
        )
    fig = plt.figure(figsize=(13, 8))
    explorer = Explorer(fig, steps=steps)
    fig._adasim_explorer = explorer  # keep the widgets alive while the window is open
    plt.show()


@with_spec_options(defaults={"steps": 300})
def animate(
    spec: SpecOptions,
    out: Annotated[
        Path, typer.Option("--out", help="The animation: FILE.gif (no system tools) or FILE.mp4 (needs ffmpeg).")
    ] = Path("adasim.gif"),
    frames: Annotated[int, typer.Option("--frames", help="Number of frames.")] = 120,
    bar_window: Annotated[int, typer.Option("--bar-window", help="Steps of contributions shown at once.")] = 60,
    fps: Annotated[int, typer.Option("--fps", help="Frames per second.")] = 12,
) -> None:
    """Animate x_t of one run together with each step's net contribution −α_s κ_s g_s.

    The first optimizer given with -o is animated (default adam); --steps defaults to 300 here.
    """
    from adasim.demos.animation import build_animation, check_target, save_animation

    check_target(out)

    check_range("--steps", spec.steps, 1, MAX_FRAMES * 100, integer=True)  # every step is drawn
    if spec.optimizer is None:
        spec.optimizer = ["adam"]
    check_range("--frames", frames, 2, MAX_FRAMES, integer=True)
    check_range("--bar-window", bar_window, 1, MAX_FRAMES, integer=True)
    check_range("--fps", fps, 1, 100, integer=True)
    resolved = spec.build()
    if resolved.problem.dim != 1:
        raise AdasimError("animations show one-dimensional problems")
    anim = build_animation(
        resolved.problem,
        resolved.optimizers[0],
        resolved.run_settings.steps,
        frames=frames,
        window=bar_window,
        title=describe(resolved),
    )
    with progress_count("drawing the frames") as tick:
        path = save_animation(anim, out, fps=fps, progress=tick)
    stdout().print(f"wrote {path}")


def lesson(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for lesson.html (self-contained), its figures' explorer pages and lesson.json.")
    ] = Path("lesson"),
    steps: Annotated[int, typer.Option("--steps", help="Steps of the runs shown.")] = 100_000,
) -> None:
    """Write a self-contained HTML lesson on why Adam fails and how shifting fixes it.

    The counterexample, Adam's failure, net update factors, the correlation, temporal shifting, AMSGrad and ADOPT:
    every figure and number computed now, each with the command that reproduces it.
    """
    from adasim.demos.lesson import lesson_files, write_lesson

    check_range("--steps", steps, 1000, 10_000_000, integer=True)
    out_dir = prepare_out_dir(out, record="lesson.json")
    with progress_count("writing the lesson") as tick:
        path = write_lesson(out_dir, steps, progress=tick)
    page, *others, record = lesson_files()
    stdout().print(f"wrote {path.parent / page}, " + ", ".join(others) + f" and {record}")
