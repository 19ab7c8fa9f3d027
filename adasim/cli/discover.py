"""`adasim discover`: search the typed grammar of scale rules against the battery."""

import json
from pathlib import Path
from typing import Annotated

import typer

from adasim.cli.console import progress_stages, stdout
from adasim.cli.output import print_json
from adasim.errors import AdasimError

PLAN_FILE = "discover-plan.json"


def _check_folder(out: Path, digest: str, resume: bool) -> None:
    """--resume needs this search's folder; a new search never writes into another's."""
    plan_file = out / PLAN_FILE
    held = plan_file.exists() or any((out / "generations").glob("generation-*.npz"))
    if resume:
        if not plan_file.exists():
            raise AdasimError(f"--resume: {out} holds no discover search to continue ({PLAN_FILE} is missing)")
        try:
            old = json.loads(plan_file.read_text()).get("digest")
        except (OSError, ValueError):
            old = None
        if old != digest:
            raise AdasimError(f"--resume: {out} holds another search (other settings or seed); give the same settings, "
                              "or another --out")  # fmt: skip
    elif held:
        raise AdasimError(f"{out} already holds a discover search: continue it with --resume, or give another --out")


def discover(
    budget: Annotated[int, typer.Option("--budget", help="Rules drawn for the first generation (the screen).")] = 10_000,
    rounds: Annotated[int, typer.Option("--rounds", help="Counterexample-guided rounds after the screen.")] = 3,
    beta1: Annotated[
        list[float] | None, typer.Option("--beta1", help="The β1 values rules are drawn with (repeatable; default 0 and 0.9).")
    ] = None,
    fix: Annotated[
        list[str] | None,
        typer.Option("--fix", help="Fix a gene for every rule: gene=value, e.g. order=adopt, beta1=0.9, shift=2 (repeatable)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The search's seed: the same seed, the same search.")] = 0,
    survivors: Annotated[int, typer.Option("--survivors", help="Rules attacked in each round.")] = 48,
    top: Annotated[int, typer.Option("--top", help="Rules in the table and in found.py.")] = 10,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write discover.json, discover.md, found.py, discover.png here.")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted search in --out.")] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="Processes (default: all cores; 1 runs inline).")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="A Dask scheduler address, tcp://host:port.")] = None,
    no_real_task: Annotated[bool, typer.Option("--no-real-task", help="Skip the digits task (needs scikit-learn).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print discover.json to stdout and nothing else.")] = False,
) -> None:
    """Search a typed grammar of v_t rules against the battery, attack survivors with counterexamples, judge on held-out families.

    Every rule is scale-invariant by construction (v is homogeneous of degree 2 in the gradients). The screen runs the
    --budget rules through the search battery as lanes of one compiled step; each round attacks the survivors with
    find-counterexample's screen and closed-form search and adds what defeats them to the battery. --scheduler needs
    adasim[dask], the real task adasim[discover]. docs/REFERENCE.md §9 has the grammar.
    """
    import os

    from adasim.discover.grammar import parse_fixed
    from adasim.discover.report import build_report, report_units, summary, table_markdown, write
    from adasim.discover.search import Plan, run_search, stage_units
    from adasim.io import prepare_out_dir, write_json
    from adasim.sweep import check_parallel

    check_parallel(resume, out, workers, scheduler, "search")
    if top < 1 or top > 100:
        raise AdasimError(f"--top must lie in [1, 100], got {top}")
    if survivors < 1 or survivors > 10_000:
        raise AdasimError(f"--survivors must lie in [1, 10000], got {survivors}")
    fixed = parse_fixed(fix or [])
    plan = Plan(budget=budget, rounds=rounds, beta1=tuple(beta1) if beta1 else (0.0, 0.9), seed=seed,
                fixed=tuple(sorted(fixed.items())), survivors=survivors)  # fmt: skip
    if not no_real_task:
        from adasim.discover.realtask import digits

        digits()  # one line now, not after the search, when scikit-learn is missing
    out_dir = None
    if resume and out is not None and not (out / PLAN_FILE).exists():
        raise AdasimError(f"--resume: {out} holds no discover search to continue ({PLAN_FILE} is missing)")
    if out is not None:
        out_dir = prepare_out_dir(out, record="discover.json")
        _check_folder(out_dir, plan.digest(), resume)
        write_json(out_dir / PLAN_FILE, {"digest": plan.digest(), "plan": {**plan.__dict__, "fixed": dict(plan.fixed)}})
    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    stages = [*stage_units(plan), *report_units(top, real_task=not no_real_task)]
    with progress_stages("discover", stages, enabled=not json_out, lanes=10_000) as bar:
        told = {"progress": bar.advance, "stage": bar.stage} if bar is not None else {}
        outcome = run_search(plan, out_dir, resume=resume, workers=workers, scheduler=scheduler, **told)
        report = build_report(outcome, top=top, workers=workers, scheduler=scheduler, real_task=not no_real_task, **told)
    files = write(report, out_dir) if out_dir is not None else {}
    if out_dir is not None:
        from adasim.io import write_record

        write_record(out_dir, "discover.json", report.as_dict())  # with the provenance, last
    if json_out:
        print_json(report.as_dict())
        return
    console = stdout()
    cases = len(outcome.generations[-1].battery)
    console.print(f"[bold]adasim discover[/]: {len(outcome.genes):,} distinct rules (the screen's draws, the built-ins and the "
                  f"rounds' mutants); battery {cases} "
                  f"cases after {plan.rounds} round(s) (counterexamples added: "
                  f"{', '.join(n for r in outcome.counterexamples for n in r) or 'none'})")  # fmt: skip
    if outcome.reused:
        console.print(f"[dim]resumed: {outcome.reused} finished generation(s) read back from {out_dir}[/]")
    console.print(table_markdown(report), markup=False, soft_wrap=True)
    for line in summary(report):
        console.print(line, markup=False, soft_wrap=True)
    if no_real_task and out_dir is not None:
        console.print("[dim]no discover.png: its x axis is the real task (--no-real-task)[/]")
    if files:
        console.print(f"[dim]wrote {', '.join(Path(f).name for f in files.values())} in {out_dir}[/]")
