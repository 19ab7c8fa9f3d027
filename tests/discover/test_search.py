"""The discovery loop: reproducible from its seed, resumable (a resumed search is the search that
was not interrupted), its report's known answers, and the command line's bad input."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim.cli.app import app
from adasim.discover.battery import SEARCH
from adasim.discover.search import Generation, Plan, run_search

SMALL = {"budget": 24, "rounds": 1, "survivors": 3, "mutants": 2}


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("search")
    told = []  # [stage, runs announced, runs ticked]: what a progress bar is told (the stages test below)

    def progress(n):
        told[-1][2] += n

    outcome = run_search(Plan(**SMALL), out, progress=progress, stage=lambda name, runs: told.append([name, runs, 0]))
    outcome.told = told
    return out, outcome


def test_the_search_names_its_stages_and_ticks_each_up_to_its_runs(searched):
    """`adasim discover`'s bar sat at 0 % for a minute and named no stage: run_search names each
    stage as it begins, with its exact (candidate, case) runs, at most stage_units' estimate, and
    ticks per case of each part until the stage's runs are done."""
    from adasim.discover.search import stage_units

    told = searched[1].told
    estimates = stage_units(Plan(**SMALL))
    assert [name for name, _, _ in told] == [name for name, _ in estimates] == ["screen", "round 1 attack", "round 1 mutants"]
    for (_, runs, ticked), (_, most) in zip(told, estimates, strict=True):
        assert 0 < runs <= most
        assert ticked == runs


def test_generations_are_written_and_reproducible(searched):
    out, outcome = searched
    files = sorted(p.name for p in (out / "generations").glob("*.npz"))
    assert files == ["generation-0.npz", "generation-1.npz", "generation-101.npz"]
    gen = Generation.load(out / "generations" / "generation-0.npz", Plan(**SMALL).digest(), 0)
    assert gen is not None
    assert len(gen.genes) == len(outcome.generations[0].genes)
    assert Generation.load(out / "generations" / "generation-0.npz", Plan(**{**SMALL, "seed": 1}).digest(), 0) is None
    # the counterexamples of round 1 joined the battery of generation 1
    assert set(outcome.counterexamples[0]) <= set(outcome.generations[1].battery)


def test_resume_reads_back_and_gives_the_same_search(searched, tmp_path):
    out, outcome = searched
    again = run_search(Plan(**SMALL), out, resume=True)
    assert again.reused == 3
    for a, b in zip(outcome.generations, again.generations, strict=True):
        assert a.battery == b.battery
        for k in a.genes.values:
            assert np.array_equal(a.genes.values[k], b.genes.values[k])
        for n in a.battery:
            assert np.array_equal(a.scores.by_case[n].status, b.scores.by_case[n].status)


def test_report_places_built_ins_and_answers(searched, tmp_path):
    pytest.importorskip("sklearn", reason="the real task needs scikit-learn: pip install 'adasim[discover]'")
    from adasim.discover.report import build_report, write

    _, outcome = searched
    report = build_report(outcome, top=3)
    adam = next(r for r in report.built_in_rows if r.name == "adam")
    assert "consecutive-spikes" in adam.failed
    assert "reddi-fig1-stochastic" in adam.failed
    amsgrad = next(r for r in report.built_in_rows if r.name == "amsgrad")
    assert amsgrad.battery[0] == amsgrad.battery[1] - len([n for n in amsgrad.failed])
    assert abs(adam.real_ratio - 1.0) < 1e-3  # the grammar's Adam at ε = 0 is Adam on the real task
    assert adam.certificate["agrees"]
    from adasim.discover.report import figure

    fig = figure(report)
    ax = fig.axes[0]
    assert ax.get_xlabel()
    assert ax.get_ylabel()
    assert ax.get_title()
    labels = [t.get_text() for t in ax.texts]
    assert "amsgrad" in " ".join(labels)
    assert len(labels) == len(set(labels))
    files = write(report, tmp_path)
    data = json.loads((tmp_path / "discover.json").read_text())
    assert data["top"]
    assert data["answers"]["adam_rejected"]["failed"]
    assert "Found1" in (tmp_path / "found.py").read_text()
    assert set(files) == {"json", "table", "rules", "figure"}


@pytest.mark.parametrize("args", [
    ["--budget", "0"],
    ["--budget", "100000000"],
    ["--rounds", "-1"],
    ["--fix", "colour=red"],
    ["--fix", "order=sideways"],
    ["--beta1", "1.5"],
    ["--resume"],
    ["--workers", "0"],
    ["--scheduler", "not-an-address"],
])  # fmt: skip
def test_bad_input_is_one_line(args):
    res = CliRunner().invoke(app, ["discover", *args, "--no-real-task"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_unwritable_and_foreign_folders(tmp_path, searched):
    cli_runner = CliRunner()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = cli_runner.invoke(app, ["discover", "--budget", "5", "--rounds", "0", "--no-real-task", "--out", str(blocker / "o")])
    assert res.exit_code == 2
    assert "cannot write" in res.output
    out, _ = searched
    (out / "discover-plan.json").write_text(json.dumps({"digest": "another"}))
    res = cli_runner.invoke(app, ["discover", "--budget", "24", "--rounds", "1", "--survivors", "3", "--no-real-task",
                                  "--out", str(out), "--resume"])  # fmt: skip
    assert res.exit_code == 2
    assert "another search" in res.output
    res = cli_runner.invoke(app, ["discover", "--budget", "24", "--no-real-task", "--out", str(out)])
    assert res.exit_code == 2
    assert "already holds" in res.output


def test_an_interrupted_generation_keeps_its_finished_parts(tmp_path, monkeypatch):
    from adasim.discover import search

    monkeypatch.setattr(search, "PART", 8)
    plan = Plan(budget=30, rounds=0, survivors=2)
    whole = run_search(plan, tmp_path / "whole")
    seen = []

    def interrupt(n):
        seen.append(n)
        if len(seen) == 2 * len(SEARCH):  # two parts of generation 0 finished (a tick per case of a part)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_search(plan, tmp_path / "cut", progress=interrupt)
    assert len(list((tmp_path / "cut" / "generations").glob("generation-0-part-*.npz"))) == 2
    again = run_search(plan, tmp_path / "cut", resume=True)
    assert again.reused_parts == 2
    assert again.reused == 0
    for n in whole.generations[0].battery:
        assert np.array_equal(whole.generations[0].scores.by_case[n].status, again.generations[0].scores.by_case[n].status)
    assert not list((tmp_path / "cut" / "generations").glob("generation-0-part-*.npz"))  # folded into the generation


@pytest.mark.slow
def test_dask_local_cluster_matches_local_processes():
    distributed = pytest.importorskip("distributed", reason="the Dask path needs adasim[dask]")
    from adasim.checks.cases import ALL_CASES
    from adasim.discover import search
    from adasim.discover.grammar import sample

    genes = sample(np.random.default_rng(5), 12)
    cases = [ALL_CASES["reddi-thm1-C10"], ALL_CASES["skewed-noise"]]
    local = search.evaluate(genes, cases, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:  # fmt: skip
        remote = search.evaluate(genes, cases, scheduler=cluster.scheduler_address)
    for c in cases:
        np.testing.assert_array_equal(remote.by_case[c.name].status, local.by_case[c.name].status)
        np.testing.assert_array_equal(remote.by_case[c.name].value, local.by_case[c.name].value)


def test_sigterm_keeps_the_finished_parts(tmp_path):
    """A real process, terminated once the first part of its first generation is on disk: one line,
    exit 143, the part kept (and no temporary file), ready for --resume."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    args = [sys.executable, "-m", "adasim", "discover", "--budget", "1100", "--rounds", "0", "--no-real-task", "--workers", "2",
            "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not list((out / "generations").glob("generation-0-part-*.npz")) and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"discover ended before a part was written: {proc.communicate()}")
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.count("\n") == 1
    assert "interrupted by SIGTERM" in err
    assert "discover keeps its finished generations" in err
    assert list((out / "generations").glob("generation-0-part-*.npz"))
    assert not list(out.rglob(".*.part")), "a temporary file was left"


def test_scheduler_without_dask_and_resume_into_nothing(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.startswith("distributed"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    res = CliRunner().invoke(app, ["discover", "--scheduler", "tcp://127.0.0.1:9", "--no-real-task"])
    assert res.exit_code == 2
    assert "adasim[dask]" in res.output
    monkeypatch.undo()
    missing = tmp_path / "missing"
    res = CliRunner().invoke(app, ["discover", "--resume", "--out", str(missing), "--no-real-task"])
    assert res.exit_code == 2
    assert not missing.exists()  # a refused resume makes no folder


def test_no_real_task_writes_no_empty_figure(searched, tmp_path):
    from adasim.discover.report import build_report, write

    _, outcome = searched
    files = write(build_report(outcome, top=2, real_task=False), tmp_path)
    assert "figure" not in files
    assert not (tmp_path / "discover.png").exists()
    assert "(+k alike)" in (tmp_path / "discover.md").read_text()


def _row(name: str, ratio: float, passed: int, built_in: bool = False):
    from adasim.discover.report import Row

    return Row(name=name, genes={}, words="", latex="", battery=(passed, 20), held_out=(passed // 4, 5), failed=[],
               held_out_failed=[], rounds=1, real_loss=ratio, adam_loss=1.0, nearest="adam", distance=0.0,
               built_in=built_in)  # fmt: skip


def test_the_figure_keeps_every_point_label_inside_its_axes():
    """discover.png: the label of the rightmost point ('adashift-max') ran across the right axis line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from adasim.discover.report import Report, figure

    found = [_row("Found1", 0.7, 20), _row("Found2", 0.95, 12), _row("Found3", 1.2, 3)]
    built = [_row("adam", 1.0, 14, True), _row("amsgrad", 1.6, 18, True), _row("adashift-max", 2.4, 19, True),
             _row("reddi-adam", 0.72, 20, True),  # beside Found1: the two groups' labels met there (docs/discover.png)
             _row("adopt", 0.8, 0, True)]  # fmt: skip
    fig = figure(Report(outcome=None, rows=found, built_in_rows=built, answers={}, adam_loss=1.0))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    (ax,) = fig.axes
    box = ax.get_window_extent(renderer)
    labels = {t.get_text(): t.get_window_extent(renderer) for t in ax.texts}
    assert {"Found1", "Found2", "Found3", "adam", "amsgrad", "adashift-max", "adopt"} <= set(labels)
    boxes = list(labels.items())
    for k, (text, label) in enumerate(boxes):  # no two labels print over each other
        assert not any(label.overlaps(other) for _, other in boxes[:k]), text
    for text, label in labels.items():  # inside the axes: none crosses a spine
        assert box.x0 <= label.x0, text
        assert label.x1 <= box.x1, text
        assert box.y0 <= label.y0, text
        assert label.y1 <= box.y1, text
