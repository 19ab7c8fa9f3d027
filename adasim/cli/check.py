"""`adasim check`: any optimizer through Adam's counterexamples. Exit 0 when every case passes,
1 when one fails or errors, 2 for bad input — so that it can gate a CI job."""

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from adasim.cli.console import progress_count, stdout
from adasim.cli.options import parse_assignments
from adasim.cli.output import print_json
from adasim.errors import AdasimError

EXIT_FAILED = 1


def check_command(
    spec: Annotated[
        str | None,
        typer.Argument(
            help="torch:torch.optim.AdamW | optax:optax.adam | file.py:Name | a built-in name. Loading it runs its code.",
            show_default=False,
        ),
    ] = None,
    kw: Annotated[
        list[str] | None,
        typer.Option("--kw", help="Keyword argument of the optimizer, KEY=VALUE (a Python literal); repeatable."),
    ] = None,
    case: Annotated[list[str] | None, typer.Option("--case", help="Run only this case (repeatable; see --list).")] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Only the cases marked quick in --list, each run in full: the same verdicts as the full battery on those cases.",
        ),
    ] = False,
    against: Annotated[
        str | None,
        typer.Option(
            "--against", help="Compare with adasim's definition of NAME instead: largest deviation of x_t, first step they part."
        ),
    ] = None,
    against_kw: Annotated[
        list[str] | None,
        typer.Option("--against-kw", help="A setting of adasim's side for --against, KEY=VALUE; repeatable."),
    ] = None,
    twins: Annotated[
        int | None,
        typer.Option(
            "--twins",
            min=0,
            max=256,
            help="Twin lanes per seed for the model-free factors (default 12; 2 or 1 when "
            "lanes are separate torch tensors or instances). The drift cases run at least 256 (16, 4).",
        ),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, max=64, help="Processes for the cases (default 2; 1 with --quick).")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=1.0,
            help="Seconds each case may take (it then errors and the others go on); cases run in worker processes.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write report.json, report.md and a figure per failed case here."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout and nothing else.")] = False,
    list_cases: Annotated[bool, typer.Option("--list", help="List the battery's cases and exit.")] = False,
) -> None:
    """Put any optimizer through Adam's counterexamples: pass/fail, where x ends, the drift, and the
    mechanism measured without its internals (model-free net update factors, the correlation of its
    effective scale with g²)."""
    from adasim.checks import check, load
    from adasim.checks.cases import ALL_CASES
    from adasim.checks.report import write_outputs

    if list_cases:
        _list(ALL_CASES, json_out)
        return
    if spec is None:
        raise AdasimError("give the optimizer to check, e.g. adasim check torch:torch.optim.Adam (or --list for the cases)")
    from adasim.io import prepare_out_dir, write_record

    if against_kw and against is None:
        raise AdasimError("--against-kw sets the reference's keyword arguments: give the reference with --against")

    # with --json, stdout carries the JSON and nothing else: what the optimizer prints goes to stderr
    def quiet() -> Any:
        return _stdout_to_stderr() if json_out else contextlib.nullcontext()

    with quiet():
        loaded = load(spec, parse_assignments(kw, "--kw"))
    out_dir = prepare_out_dir(out, record="against.json" if against is not None else "report.json") if out is not None else None
    if against is not None:
        from adasim.checks.against import conform

        with quiet(), progress_count(f"comparing with adasim's {against}", enabled=not json_out) as tick:
            result = conform(loaded, against, parse_assignments(against_kw, "--against-kw"), cases=case or None, progress=tick)
        result["optimizer"] = loaded.describe()
        if out_dir is not None:
            write_record(out_dir, "against.json", result)
        if json_out:
            print_json(result)
        else:
            _print_against(result)
        if not result["agree"]:
            raise typer.Exit(EXIT_FAILED)
        return
    with quiet(), progress_count("checking the battery", enabled=not json_out) as tick:
        report = check(loaded, case, quick=quick, twins=twins, jobs=jobs or (1 if quick else 2), timeout=timeout, progress=tick)
    written = write_outputs(report, out_dir) if out_dir is not None else []
    if json_out:
        print_json(report.as_dict())
    else:
        _print_report(report, written, out_dir)
    if not report.passed:
        raise typer.Exit(EXIT_FAILED)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """sys.stdout and file descriptor 1 (what C code and subprocesses print to) both go to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _list(cases: dict, json_out: bool) -> None:
    from adasim.checks.runner import PROGRESS_SHARE

    if json_out:
        print_json({name: {"about": c.about, "source": c.source, "problem": c.problem.config(), "settings": c.settings()}
                    for name, c in cases.items()})  # fmt: skip
        return
    from rich.table import Table

    table = Table(
        title="adasim check: the battery (--quick runs the cases marked q, in full; an optimizer that acts on "
        "matrices runs the matrix-… cases instead of the others)"
    )
    for col in ("case", "problem", "settings", "a pass needs", "source"):
        table.add_column(col, overflow="fold")
    for name, c in cases.items():
        st = c.settings()
        mean = st["mean_gradient"]
        mean_text = f"{mean:.4g}" if isinstance(mean, float) else ", ".join(f"{m:.4g}" for m in mean)
        problem = f"{c.about}\nE g = {mean_text}; x* = {st['x_star']}; domain {st['domain']}"
        settings = (f"steps {st['steps']:,}, seeds 0–{c.n_seeds - 1}, x_1 = {c.x0:g}\nlr {c.lr:g} (when --kw gives none), "
                    f"α_t = {st['alpha_t']}")  # fmt: skip
        needs = st["expect_means"] + (f" (tol {c.tol:g})" if c.expect == "converge" else "")
        needs += f"; and {PROGRESS_SHARE:g} of SGD's progress toward x*"
        table.add_row(name + (" (q)" if c.quick else ""), problem, settings, needs, c.source)
    stdout().print(table)


def _print_report(report: Any, written: list[str], out_dir: Path | None) -> None:
    from rich.table import Table

    console = stdout()
    opt = report.optimizer
    table = Table(title=f"adasim check {opt['spec']}" + (" (the quick cases)" if report.quick else ""),
                  caption=f"lanes: {opt.get('lanes')} — {opt.get('lanes_why')}")  # fmt: skip
    for col in ("case", "result", "x̄ (2nd half)", "|x̄ − x*|", "progress (SGD)", "drift/α", "what happened"):
        table.add_column(col, overflow="fold")
    for r in report.results:
        fx = ", ".join(f"{v:.4g}" for v in r.final_x.get("mean_second_half", [])) or "—"
        colour = {"pass": "green", "FAIL": "red"}.get(r.status, "yellow")
        table.add_row(r.case.name, f"[{colour}]{r.status}[/]", fx, _g(r.distance), f"{_g(r.progress)} ({_g(r.sgd_progress)})",
                      _g(r.drift), r.error or r.verdict)  # fmt: skip
    console.print(table)
    console.print(report.summary())
    if written:
        console.print(f"wrote {out_dir}/: {', '.join(written)}")


def _print_against(result: dict) -> None:
    console = stdout()
    console.print(f"{result['optimizer']['spec']} against adasim's {result['against']} ({result['adasim_settings']}):")
    for r in result["cases"]:
        if r["error"]:
            console.print(f"  {r['case']}: error: {r['error']}")
        elif r["agree"]:
            console.print(f"  {r['case']}: agree, largest deviation of x_t {r['max_deviation']:.3g} over {r['steps']} steps")
        else:
            console.print(f"  {r['case']}: part at step {r['first_parting_step']}, largest deviation {r['max_deviation']:.3g}")
    if result.get("tol_why"):
        console.print(f"  tolerance {result['tol']:g} on x_t: {result['tol_why']}")
    if result.get("untranslated"):
        console.print("  library defaults without an adasim counterpart: "
                      + ", ".join(f"{k}={v}" for k, v in result["untranslated"].items()))  # fmt: skip
    if result.get("hint"):
        console.print(f"  where they part: {result['hint']}")
    console.print("agree" if result["agree"] else "they differ")


def _g(v: float) -> str:
    return "—" if v != v else f"{v:.3g}"
