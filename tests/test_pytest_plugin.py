"""adasim's pytest plugin, loaded through its entry point in a real pytest process: the adasim_check
fixture and --adasim-check SPEC (with --adasim-case), passing and failing for the right reasons."""

import subprocess
import sys
from pathlib import Path


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_fixture_in_an_optimizers_own_suite(tmp_path):
    (tmp_path / "test_mine.py").write_text(
        "def test_sgd_passes(adasim_check):\n"
        "    assert adasim_check('sgd', ['reddi-thm1-C10']).passed\n\n"
        "def test_adam_fails_the_consecutive_spikes(adasim_check):\n"
        "    report = adasim_check('adam', ['consecutive-spikes'])\n"
        "    assert not report.passed and report.results[0].status == 'FAIL'\n"
    )
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout


def test_the_command_line_option_makes_one_item_per_spec(tmp_path):
    result = _pytest(tmp_path, "--adasim-check", "sgd", "--adasim-check", "adam", "--adasim-case", "reddi-thm1-C10",
                     "--adasim-case", "consecutive-spikes", "-rA")  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:]  # Adam fails consecutive-spikes
    assert "PASSED ::adasim-check[sgd]" in result.stdout
    assert "FAILED ::adasim-check[adam]" in result.stdout
    assert "FAIL  consecutive-spikes" in result.stdout  # the report's table is the failure's text
    assert "Traceback" not in result.stdout


def test_a_spec_that_does_not_load_fails_its_item_with_one_line(tmp_path):
    result = _pytest(tmp_path, "--adasim-check", "torch:nosuchpackage.Opt", "--adasim-case", "reddi-thm1-C10")
    assert result.returncode == 1
    assert "adasim check torch:nosuchpackage.Opt:" in result.stdout
    assert "Traceback" not in result.stdout


def test_help_names_the_options(tmp_path):
    result = _pytest(tmp_path, "--help")
    assert "--adasim-check=SPEC" in result.stdout
    assert "--adasim-quick" in result.stdout


def test_an_unknown_case_is_a_usage_error_of_the_run_not_of_each_item(tmp_path):
    result = _pytest(tmp_path, "--adasim-check", "sgd", "--adasim-check", "adam", "--adasim-case", "nosuch")
    assert result.returncode == 4  # pytest's usage error
    assert "--adasim-case: unknown check case 'nosuch'" in result.stderr
    both = _pytest(tmp_path, "--adasim-check", "sgd", "--adasim-case", "quadratic", "--adasim-quick")
    assert both.returncode == 4
    assert "give one of them" in both.stderr
