"""Hostile input: every bad value, over-large request and failing user code is one line and exit
2; overflow and NaN are exit 3 on every engine (the reliability issue)."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from adasim.cli.app import app

HUGE = "99999999999999999999"  # ≥ 2^63


def one_line_error(result, code=2):
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("adasim: error:")]
    assert len(lines) == 1, result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("option", ["--steps", "--seeds", "--seed", "-d", "-k", "--shift", "--warmup", "--window"])
def test_integers_too_large_for_the_machine_name_the_option(option):
    line = one_line_error(CliRunner().invoke(app, ["run", option, HUGE]))
    assert "too large" in line or "must lie in" in line or "must be" in line


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["run", "--seeds", "200000", "--steps", "100", "-o", "sgd"], "lanes"),
        (["run", "layered", "--blocks", "20000:1", "--steps", "300", "-o", "adam"], "coordinates"),
        (["run", "online", "-d", "1000000000", "--steps", "100", "-o", "adam"], "one period"),
        (["run", "-o", "adashift", "--shift", "100000000", "--steps", "100"], "shift"),
    ],
)
def test_over_large_requests_are_refused_before_allocating(args, what, monkeypatch):
    monkeypatch.setenv("ADASIM_MEMORY_LIMIT", "64MiB")
    line = one_line_error(CliRunner().invoke(app, args))
    assert "ADASIM_MEMORY_LIMIT" in line
    assert what in line


def test_the_memory_limit_setting_is_checked(monkeypatch):
    monkeypatch.setenv("ADASIM_MEMORY_LIMIT", "lots")
    line = one_line_error(CliRunner().invoke(app, ["run", "--steps", "10"]))
    assert "ADASIM_MEMORY_LIMIT" in line


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_overflow_is_exit_3_on_every_engine(engine):
    result = CliRunner().invoke(app, ["run", "online", "--C", "1e200", "-o", "adam", "--steps", "2000", "--engine", engine])
    assert result.exit_code == 3, result.output
    assert "overflow" in result.output


def test_a_sweep_whose_chunk_holds_one_cell(tmp_path):
    """2049 cells: the last chunk has one cell (it used to reach float() of a 1-element array)."""
    result = CliRunner().invoke(app, ["sweep", "--steps", "100", "-g", "beta2=0.1:0.9:2049", "--no-drift", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sweep.csv").read_text().count("\n") == 1 + 2049 * 4  # a header and a row per optimizer and cell


@pytest.mark.parametrize("body", ["import sys\nsys.exit(7)\n", "raise KeyboardInterrupt\n", "raise SystemExit\n"])
def test_user_code_does_not_decide_the_exit_code(tmp_path, body):
    path = tmp_path / "rule.py"
    path.write_text(body)
    done = subprocess.run([sys.executable, "-m", "adasim", "run", "-o", f"{path}:X", "--steps", "10"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert str(path) in done.stderr
