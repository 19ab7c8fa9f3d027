"""Long work shows progress on a terminal (and nothing on a pipe or with --json); the estimate
before a long run and --yes; the small CLI defects of issue #32 (one seed's verdict, the silent
NumPy fallback, a CSV into a missing folder, the leak after `adasim nuf quadratic`'s error)."""

import json
import shutil
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from adasim.cli import console, estimate
from adasim.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def commands(tmp_path):
    """Each command with tiny inputs, and its bar's description."""
    return {
        "run": (["run", "--steps", "300", "-o", "adam"], "simulating"),
        "nuf": (["nuf", "--steps", "3000", "-o", "adam"], "net update factors"),
        "check": (["check", "sgd", "--case", "reddi-thm1-C3", "--case", "reddi-thm1-C10", "--jobs", "1"], "checking the battery"),
        "against": (["check", "adam", "--kw", "eps=1e-6", "--against", "adam"], "comparing with adasim's adam"),
        "dilution": (["dilution", "--ks", "1,2", "--steps", "2000", "--seeds", "1"], "dilution over k"),
        "animate": (["animate", "--out", tmp_path / "a.gif", "--steps", "30", "--frames", "3"], "drawing the frames"),
        "critical": (["critical", "-o", "adam"], "solving for the critical beta2"),
        "experiment": (["experiment", "reddi-fig1", "--quick", "--out", tmp_path / "e"], "experiment reddi-fig1"),
        "explore": (["explore", "--export", tmp_path / "x", "--steps", "100", "--grid", "C=3", "--grid", "beta1=0",
                     "--grid", "beta2=0.5"], "computing the views"),
    }  # fmt: skip


JSON_COMMANDS = ("run", "nuf", "check", "against", "dilution", "critical")


@pytest.mark.parametrize("name", ["run", "nuf", "check", "against", "dilution", "animate", "critical", "experiment", "explore"])
def test_each_long_command_shows_its_bar_on_a_terminal(name, terminal, tmp_path):
    args, description = commands(tmp_path)[name]
    result = invoke(*args)
    assert result.exit_code in (0, 1), result.output  # check exits 1 when a case fails
    shown = terminal.getvalue()
    assert description in shown
    assert "%" in shown  # the percentage column (then the elapsed and remaining times)


@pytest.mark.parametrize("name", ["run", "check", "against", "dilution", "animate", "critical", "experiment", "explore"])
def test_nothing_is_printed_to_a_pipe(name, tmp_path, monkeypatch):
    monkeypatch.setattr(console, "PROGRESS_MIN_WORK", 0)
    monkeypatch.setattr(console, "PROGRESS_AFTER", 0.0)
    args, description = commands(tmp_path)[name]
    result = invoke(*args)
    assert result.exit_code in (0, 1), result.output
    assert description not in result.output
    assert result.stderr == ""


@pytest.mark.parametrize("name", JSON_COMMANDS)
def test_nothing_is_shown_with_json(name, terminal, tmp_path):
    args, description = commands(tmp_path)[name]
    result = invoke(*args, "--json")
    assert result.exit_code in (0, 1), result.output
    assert description not in terminal.getvalue()
    assert terminal.getvalue() == ""
    json.loads(result.stdout)  # stdout is the JSON and nothing else


def _counts_up_to_its_total(told):
    """Each tick adds work, none passes the total it was told with, and the last is full."""
    assert told
    done = [d for d, _ in told]
    assert all(b > a for a, b in zip([0, *done[:-1]], done, strict=True)), done
    assert all(d <= t for d, t in told), told
    assert told[-1][0] == told[-1][1], told[-1]


def test_check_against_counts_the_steps_it_compares():
    """`adasim check SPEC --against NAME` had no bar: conform counts the steps it compares, each
    case's, and when the two part, the total grows by the alternatives it then tries."""
    from adasim.checks import load
    from adasim.checks.against import DEFAULT_CASES, conform

    told = []
    agreed = conform(load("sgd", {}), "sgd", steps=500, progress=lambda d, t: told.append((d, t)))
    assert agreed["agree"]
    _counts_up_to_its_total(told)
    assert {t for _, t in told} == {500 * len(DEFAULT_CASES)}
    told.clear()
    parted = conform(load("adam", {"eps": 1e-6}), "adam", {"eps": 1e-8}, steps=500, progress=lambda d, t: told.append((d, t)))
    assert not parted["agree"]
    assert "eps=1e-06" in parted["hint"]  # the alternatives ran
    _counts_up_to_its_total(told)
    totals = sorted({t for _, t in told})
    assert totals[0] == 500 * len(DEFAULT_CASES)
    assert len(totals) == 2
    assert totals[1] > totals[0]
    assert (totals[1] - totals[0]) % 500 == 0  # 500 steps per alternative


def test_a_bar_counted_in_cases_waits_before_it_shows(terminal, monkeypatch):
    """Work shorter than PROGRESS_AFTER shows nothing: no bar flickers for a quick check."""
    monkeypatch.setattr(console, "PROGRESS_AFTER", 60.0)
    with console.progress_count("waiting") as tick:
        assert tick is not None
        tick(1, 2)
        tick(2, 2)
    assert terminal.getvalue() == ""


def test_progress_count_follows_done_and_total(terminal):
    with console.progress_count("counting") as tick:
        tick(1, 4)
        bar = console._OPEN[-1]
        task = bar.progress.tasks[0]
        assert (task.completed, task.total) == (1, 4)
        tick(3, 5)
        assert (task.completed, task.total) == (3, 5)
    assert console._OPEN == []
    assert "counting" in terminal.getvalue()


def test_the_compile_status_is_a_line_or_a_note_on_the_open_bar(terminal):
    with console.compile_status(after=0):
        pass
    assert console.COMPILING in terminal.getvalue()
    with console.progress_count("simulating") as tick:
        tick(0, 10)
        with console.compile_status(after=0):
            assert console._OPEN[-1].progress.tasks[0].description == f"simulating — {console.COMPILING}"
        assert console._OPEN[-1].progress.tasks[0].description == "simulating"


def test_a_kernel_s_first_call_runs_under_the_compile_hook():
    """The engine tells the front end when a kernel compiles (compile_once, jit's first call), and
    only the first call of a jit-compiled analysis loop."""
    from contextlib import contextmanager

    from adasim.engine import jit

    calls = []

    @contextmanager
    def hook():
        calls.append("compiling")
        yield

    def twice(a):
        return 2 * a

    loop = jit.jit(twice)
    with jit.compile_hook(hook):
        jit.compile_once(lambda: calls.append("called"))
        assert loop(3) == 6
        assert loop(4) == 8
    assert calls == (["compiling", "called", "compiling"] if jit.available() else ["compiling", "called"])
    before = len(calls)
    jit.compile_once(lambda: calls.append("unhooked"))
    assert calls[before:] == ["unhooked"]  # no hook once its context is closed


def test_compile_status_prints_nothing_off_a_terminal(capsys):
    with console.compile_status(after=0):
        pass
    assert capsys.readouterr().err == ""


# -- the estimate before a long run ----------------------------------------------------------------


def test_a_trillion_steps_are_refused_up_front_with_the_estimate():
    result = invoke("run", "--steps", "1000000000000")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("adasim: error: this run would take about ")
    assert " h" in lines[0] or "days" in lines[0]
    assert "--yes" in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["run", "-o", "adam", "--steps", "2000"],
        ["nuf", "-o", "adam", "--steps", "2000"],
        ["correlate", "-o", "adam", "--steps", "2000", "--shifts", "0"],
        ["sweep", "-o", "adam", "--steps", "200", "--grid", "beta2=0.5,0.9", "--workers", "1"],
    ],
)
def test_over_an_hour_needs_yes(args, monkeypatch):
    monkeypatch.setattr(estimate, "MIN_WORK", 0)
    monkeypatch.setattr(estimate, "seconds_per_step", lambda *a, **k: 100.0)  # 100 s per step: hours
    refused = invoke(*args)
    assert refused.exit_code == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "would take" in lines[0]
    assert "--yes" in lines[0]
    assert "h" in lines[0].split("would take")[1]
    started = invoke(*args, "--yes", "--json")
    assert started.exit_code == 0, started.output
    json.loads(started.stdout)


def test_under_an_hour_runs_without_yes(monkeypatch):
    monkeypatch.setattr(estimate, "MIN_WORK", 0)
    monkeypatch.setattr(estimate, "seconds_per_step", lambda *a, **k: 1e-6)
    assert invoke("run", "-o", "adam", "--steps", "2000", "--json").exit_code == 0


def test_the_calibration_measures_the_same_kernel():
    from adasim.spec import build_spec

    spec = build_spec("reddi-thm1", optimizers=["adam"])
    assert estimate.estimate_seconds(spec) is None  # 100 000 steps: too little to measure
    per_step = estimate.seconds_per_step(spec.problem, spec.optimizers[0], spec.run_settings, 10**12)
    assert 1e-10 < per_step < 1e-3
    assert estimate.duration(3 * 3600 + 720) == "3 h 12 min"
    assert estimate.duration(5 * 86400) == "5 days 0 h"


# -- one seed's verdict, the NumPy fallback -------------------------------------------------------------


def test_one_seed_on_a_noisy_problem_says_so():
    one = invoke("run", "stochastic", "--steps", "2000")
    assert one.exit_code == 0, one.output
    assert "verdict from one seed; --seeds N for a median and quartiles" in one.stdout
    several = invoke("run", "stochastic", "--steps", "2000", "--seeds", "3")
    assert "verdict from one seed" not in several.stdout
    online = invoke("run", "--steps", "2000")  # Reddi's online problem: every seed gives the same run
    assert "verdict from one seed" not in online.stdout


def test_a_block_shared_phi_falls_back_to_numpy_with_one_warning():
    result = invoke("run", "layered", "--phi", "mean", "-o", "adam", "-o", "amsgrad", "--steps", "200")
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("adasim: warning: adam, amsgrad share values over blocks of coordinates (φ = mean)")
    assert "NumPy executor" in lines[0]
    identity = invoke("run", "layered", "-o", "adam", "--steps", "200")
    assert identity.exit_code == 0
    assert identity.stderr == ""
    chosen = invoke("run", "layered", "--phi", "mean", "-o", "adam", "--steps", "200", "--engine", "numpy")
    assert chosen.exit_code == 0
    assert chosen.stderr == ""


# -- a missing folder, the leak after an error -------------------------------------------------------------


def test_a_folder_removed_before_the_files_are_written_is_named(tmp_path, monkeypatch):
    import adasim.cli.run as run_command

    out = tmp_path / "out"
    arrays = run_command.runs_to_arrays

    def remove_then(runs, summary):
        shutil.rmtree(out)
        return arrays(runs, summary)

    monkeypatch.setattr(run_command, "runs_to_arrays", remove_then)
    result = invoke("run", "-o", "adam", "--steps", "200", "--out", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"'{out / 'trace.npz'}'" in lines[0]
    assert "does not exist" in lines[0]
    assert ".part" not in lines[0]


def test_nuf_quadratic_s_error_is_the_only_line_on_stderr(tmp_path):
    """The prefetched stream was closed at exit in another thread: 'Exception ignored … ValueError'."""
    done = subprocess.run([sys.executable, "-m", "adasim", "nuf", "quadratic"], capture_output=True, text=True, cwd=tmp_path,
                          check=False, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "adasim: error: grouping by gradient value needs a problem with a few discrete gradient values"
    ]


def test_critical_value_tells_every_drift_it_evaluates():
    from adasim import Adam, Online
    from adasim.analysis.drift import critical_value

    told = []
    result = critical_value(Online(C=10.0), Adam(beta1=0.0), "beta2", points=40, progress=lambda d, t: told.append((d, t)))
    assert result.critical is not None
    assert told[0] == (1, 40)
    assert told[-1][0] == told[-1][1] > 40  # the grid, then brentq's refinement; it ends full
    assert [d for d, _ in told] == [*range(1, len(told)), len(told) - 1]


def test_small_but_slow_work_shows_its_bar_once_it_has_run_progress_after(terminal, monkeypatch):
    """Few lane-steps can still take long (the NumPy executor on a layered problem ran 21 s with no
    bar, below PROGRESS_MIN_WORK): the bar shows once the work has run PROGRESS_AFTER seconds."""
    monkeypatch.setattr(console, "PROGRESS_MIN_WORK", 2_000_000)
    monkeypatch.setattr(console, "PROGRESS_AFTER", 0.05)
    with console.progress_bar(1000, "slow small work") as tick:
        assert tick is not None
        tick(10)
        deadline = time.monotonic() + 5.0
        while not console._OPEN[-1].shown and time.monotonic() < deadline:
            time.sleep(0.01)
        tick(990)
    assert "slow small work" in terminal.getvalue()


def test_small_quick_work_shows_no_bar(terminal, monkeypatch):
    monkeypatch.setattr(console, "PROGRESS_MIN_WORK", 2_000_000)
    monkeypatch.setattr(console, "PROGRESS_AFTER", 60.0)
    with console.progress_bar(1000, "quick small work") as tick:
        tick(1000)
    assert terminal.getvalue() == ""


def test_a_numpy_run_below_the_work_threshold_shows_its_bar(terminal, monkeypatch):
    """The reported command (`run layered --phi mean` on the NumPy executor), shortened: its lane-steps
    are far below PROGRESS_MIN_WORK, yet it shows the bar once it has run PROGRESS_AFTER (0 here)."""
    monkeypatch.setattr(console, "PROGRESS_MIN_WORK", 2_000_000)
    args = ["run", "layered", "--blocks", "4:1,4:1e-3", "--phi", "mean", "--beta1", "0", "--beta2", "0.9", "--lr", "0.01",
            "--schedule", "constant", "--steps", "300", "-o", "adam"]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "simulating" in terminal.getvalue()
    terminal.seek(0)
    terminal.truncate()
    assert invoke(*args, "--json").exit_code == 0
    assert terminal.getvalue() == ""  # --json: no bar


def test_a_bar_in_stages_names_each_stage_and_its_ticks_reach_the_total(terminal):
    """`adasim discover`'s bar named no stage and ended short of its total (its estimate counted
    duplicates and survivors that never were): each stage's exact units replace its estimate."""
    estimates = [("screen", 100), ("round 1 attack", 50), ("held-out", 20)]
    with console.progress_stages("discover", estimates) as bar:
        shown = []
        for name, units in [("screen", 80), ("round 1 attack", 30), ("held-out", 20)]:
            bar.stage(name, units)
            shown.append(console._OPEN[-1].progress.tasks[0].description)
            for _ in range(units // 10):
                bar.advance(10)
        task = console._OPEN[-1].progress.tasks[0]
        assert task.total == 130
        assert task.completed == task.total
    assert shown == ["discover: screen", "discover: round 1 attack", "discover: held-out"]
    assert "discover: held-out" in terminal.getvalue()


def test_discover_s_bar_covers_the_search_and_the_report():
    """The CLI's stages: the search's (stage_units) then the report's (report_units), one bar."""
    from adasim.discover.report import report_units
    from adasim.discover.search import Plan, stage_units

    names = [name for name, _ in [*stage_units(Plan(budget=10, rounds=2)), *report_units(5)]]
    assert names == ["screen", "round 1 attack", "round 1 mutants", "round 2 attack", "round 2 mutants", "real task", "held-out",
                     "report"]  # fmt: skip
