"""The examples in the docstrings and the README run and say what they claim."""

import doctest
import re
from pathlib import Path

import numpy as np
import pytest

import adasim
import adasim.analysis

README = Path(__file__).resolve().parents[1] / "README.md"


def test_package_docstring_examples():
    for module in (adasim, adasim.analysis):
        result = doctest.testmod(module, verbose=False)
        assert result.attempted > 0
        assert result.failed == 0


def test_readme_python_example_runs():
    block = re.search(r"### From Python\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    block = block.replace("steps=10**6", "steps=10**4")  # same code, shorter
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["run"].final_x[0, 0] > 0.99
    assert scope["sweep"].lanes == 4
    assert np.all(scope["sweep"].ok)


def test_readme_starts_with_the_two_commands():
    lines = README.read_text().splitlines()
    fence = lines.index("```bash")
    assert lines[fence + 1].startswith("pip install -e . && adasim run")
    assert lines[fence + 2].startswith('pip install -e ".[test]" && pytest')


def test_readme_nuf_example_runs():
    block = re.search(r"From Python:\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    np.testing.assert_allclose([g.mean for g in scope["measured"].groups], scope["closed"].kappa, rtol=1e-9)
    assert scope["closed"].drift > 0


def _blocks(kind: str) -> list[tuple[int, str]]:
    """(line, text) of every ```kind block of the README."""
    text = README.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in re.finditer(rf"```{kind}\n(.*?)```", text, re.S)]


def _commands() -> list[tuple[int, list[str]]]:
    """Every `adasim ...` command of the README's bash and console blocks, as its arguments."""
    import shlex

    out = []
    for kind in ("bash", "console"):
        for line, block in _blocks(kind):
            for k, row in enumerate(block.splitlines()):
                if kind == "console" and not row.startswith("$ "):
                    continue  # what a command printed
                for part in row.removeprefix("$ ").split("  #")[0].split("&&"):
                    if part.strip().startswith("adasim "):
                        out.append((line + 1 + k, shlex.split(part.strip(), comments=True)[1:]))
    return out


@pytest.mark.parametrize(("line", "block"), _blocks("python"), ids=lambda v: str(v) if isinstance(v, int) else "")
def test_every_python_block_of_the_readme_runs_as_written(line, block, tmp_path, monkeypatch):
    """Each block on its own, in a fresh scope and an empty folder (long runs shortened: the same code)."""
    import ast
    import importlib.util

    for node in ast.walk(ast.parse(block)):  # a block that needs an optional package skips without it, naming it
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        for name in names:
            if importlib.util.find_spec(name.split(".")[0]) is None:
                pytest.skip(f"README.md:{line} needs {name.split('.')[0]} (an optional package)")
    monkeypatch.chdir(tmp_path)
    block = block.replace("steps=10**6", "steps=10**4").replace("steps=100_000", "steps=10_000")
    exec(compile(block, f"README.md:{line}", "exec"), {"__name__": "readme"})


@pytest.mark.parametrize(("line", "args"), _commands(), ids=lambda v: str(v) if isinstance(v, int) else "")
def test_every_adasim_command_of_the_readme_parses(line, args):
    """Each `adasim …` line of the README names a command and options it has, with values of their
    types (parsed, not run: some take minutes or need a network)."""
    _parse(args, line)


def _parse(args: list[str], line: int) -> None:
    from typer.main import get_command

    from adasim.cli.app import app as whole

    group = get_command(whole)
    ctx = group.make_context("adasim", [], resilient_parsing=True)
    command = group.get_command(ctx, args[0])
    assert command is not None, f"README.md:{line}: no command {args[0]!r}"
    command.make_context(args[0], args[1:], parent=ctx)


def test_a_command_the_readme_got_wrong_would_not_parse():
    with pytest.raises(Exception, match="No such option: --nosuch"):  # click's UsageError (typer's own copy)
        _parse(["run", "--nosuch", "1"], 0)
    with pytest.raises(Exception, match="valid integer"):
        _parse(["run", "--steps", "many"], 0)
    with pytest.raises(AssertionError, match="no command"):
        _parse(["runn"], 0)
