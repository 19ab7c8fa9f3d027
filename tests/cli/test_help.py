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


def test_the_root_help_lists_each_command_as_its_own_help_says():
    """`adasim --help` lists the commands without importing them (adasim.cli.app.COMMANDS): the listing
    is the one the whole application gives."""
    from adasim.cli.app import COMMANDS as TABLE
    from adasim.cli.app import build

    assert list(TABLE) == [c.name for c in app.registered_commands]
    stubbed = CliRunner().invoke(build(stubs=True), ["--help"], env={"COLUMNS": "160"})
    assert stubbed.output == help_of()


def test_a_command_s_process_imports_only_that_command(tmp_path):
    """The entry point builds the application with the command asked for only; `adasim --help`
    imports no command module and not the engine."""
    import subprocess
    import sys

    code = ("import sys; sys.argv = ['adasim', {args}]\nfrom adasim.cli.app import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('adasim.cli.', 'adasim.engine'))), file=sys.stderr)")  # fmt: skip
    root = subprocess.run([sys.executable, "-c", code.format(args="'--help'")], capture_output=True, text=True, check=True)
    assert root.stderr.strip().splitlines()[-1] == "['adasim.cli.app', 'adasim.cli.console']"
    one = subprocess.run([sys.executable, "-c", code.format(args="'list', '--help'")], capture_output=True, text=True, check=True)
    loaded = one.stderr.strip().splitlines()[-1]
    assert "adasim.cli.listing" in loaded
    assert "adasim.cli.run" not in loaded
    assert "adasim.cli.check" not in loaded
