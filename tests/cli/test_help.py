"""Help says what each command does and takes — no value after a flag, only options a command
uses, the defaults it really applies (the newcomer issue)."""

import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from adasim.cli.app import app

COMMANDS = sorted(get_command(app).commands)


def help_of(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_flags_show_no_value(command):
    text = help_of(*([command] if command else []))
    assert "<bool>" not in text
    assert re.search(r"--help\s+-h\s+Show this message", text)


def test_critical_offers_no_run_options_it_would_ignore():
    text = help_of("critical")
    for option in ("--steps", "--seeds", "--warmup", "--engine", "--x0"):
        assert option not in text
    assert "--beta2" in text
    assert "--C" in text


@pytest.mark.parametrize(("command", "line"), [("animate", "Steps T (default here: 300)"), ("dilution", "(default here: 20,000)"),
                                               ("dilution", "Number of seeds (one lane each) (default here: 2)")])  # fmt: skip
def test_a_command_s_own_default_is_the_one_its_help_states(command, line):
    assert line in help_of(command)


def test_the_defaults_stated_are_the_ones_applied(tmp_path):
    import json

    result = CliRunner().invoke(app, ["dilution", "--ks", "1", "--steps", "2000", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["problem"]["seeds"] == [0, 1]  # two seeds, as the help says
    assert data["config"]["phi"] == "mean"


def test_shell_completion_is_offered():
    text = help_of()
    assert "--install-completion" in text
    assert "--show-completion" in text
