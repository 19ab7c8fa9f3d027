"""The documentation runs as written: the docstrings' examples, every Python block of the README and
of the pages in docs/, every `adasim` command in them (parsed against the CLI), and every relative
link (checked offline). The site's build is tests/test_docs_site.py."""

import doctest
import re
from pathlib import Path

import numpy as np
import pytest

import adasim
import adasim.analysis

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def test_package_docstring_examples():
    for module in (adasim, adasim.analysis):
        result = doctest.testmod(module, verbose=False)
        assert result.attempted > 0
        assert result.failed == 0


def test_readme_starts_with_the_two_commands_and_is_short():
    lines = README.read_text().splitlines()
    fence = lines.index("```bash")
    assert fence <= 3  # the set-up comes first
    assert lines[fence + 1].startswith("pip install -e . && adasim run")
    assert lines[fence + 2].startswith('pip install -e ".[test]" && pytest')
    assert len(lines) <= 150, "the README is a front page: the manual belongs in docs/"
    assert len(re.findall(r"!\[[^\]]*\]\(docs/[^)]+\.png\)", README.read_text())) >= 1  # one picture


def _page_block(page: str, heading: str) -> str:
    return re.search(heading + r"\n\n```python\n(.*?)```", (ROOT / page).read_text(), re.S).group(1)


def test_getting_started_python_example_runs():
    block = _page_block("docs/getting-started.md", "## From Python").replace("steps=10**6", "steps=10**4")
    scope: dict = {}
    exec(compile(block, "getting-started.md", "exec"), scope)
    assert scope["run"].final_x[0, 0] > 0.99
    assert scope["sweep"].lanes == 4
    assert np.all(scope["sweep"].ok)


def test_net_update_factor_example_runs():
    block = _page_block("docs/guide/net-update-factors.md", "From Python:")
    scope: dict = {}
    exec(compile(block, "net-update-factors.md", "exec"), scope)
    np.testing.assert_allclose([g.mean for g in scope["measured"].groups], scope["closed"].kappa, rtol=1e-9)
    assert scope["closed"].drift > 0


def _blocks(page: Path, kind: str) -> list[tuple[int, str]]:
    """(line, text) of every ```kind block of a page."""
    text = page.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in re.finditer(rf"```{kind}\n(.*?)```", text, re.S)]


def _commands(page: Path) -> list[tuple[int, list[str]]]:
    """Every `adasim ...` command of a page's bash and console blocks, as its arguments."""
    import shlex

    out = []
    for kind in ("bash", "console"):
        for line, block in _blocks(page, kind):
            for k, row in enumerate(block.splitlines()):
                if kind == "console" and not row.startswith("$ "):
                    continue  # what a command printed
                for part in row.removeprefix("$ ").split("  #")[0].split("&&"):
                    if part.strip().startswith("adasim "):
                        out.append((line + 1 + k, shlex.split(part.strip(), comments=True)[1:]))
    return out


PYTHON_BLOCKS = [(_name(p), line, block) for p in PAGES for line, block in _blocks(p, "python")]
COMMANDS = [(_name(p), line, args) for p in PAGES for line, args in _commands(p)]


def test_the_pages_hold_what_the_tests_below_run():
    assert len(PYTHON_BLOCKS) >= 7
    assert len(COMMANDS) >= 60
    assert {page for page, _, _ in COMMANDS} >= {"README.md", "docs/getting-started.md", "docs/how-to/check-your-optimizer.md"}


@pytest.mark.parametrize(("page", "line", "block"), PYTHON_BLOCKS, ids=[f"{p}:{n}" for p, n, _ in PYTHON_BLOCKS])
def test_every_python_block_runs_as_written(page, line, block, tmp_path, monkeypatch):
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
                pytest.skip(f"{page}:{line} needs {name.split('.')[0]} (an optional package)")
    monkeypatch.chdir(tmp_path)
    block = block.replace("steps=10**6", "steps=10**4").replace("steps=100_000", "steps=10_000")
    scope = {"__name__": "docs"}
    exec(compile(block, f"{page}:{line}", "exec"), scope)
    for name, test in [(k, v) for k, v in scope.items() if k.startswith("test_") and callable(v)]:
        if "adasim_check" in test.__code__.co_varnames[: test.__code__.co_argcount]:  # the plugin's fixture is adasim.check
            test(adasim.check)
        else:
            pytest.fail(f"{page}:{line} defines {name} with fixtures this test does not provide")


@pytest.mark.parametrize(("page", "line", "args"), COMMANDS, ids=[f"{p}:{n}" for p, n, _ in COMMANDS])
def test_every_adasim_command_parses(page, line, args):
    """Each `adasim …` line names a command and options it has, with values of their types (parsed,
    not run: some take minutes or need a network; tests/cli runs the commands themselves)."""
    _parse(args, f"{page}:{line}")


def _parse(args: list[str], where: str) -> None:
    from typer.main import get_command

    from adasim.cli.app import app as whole

    group = get_command(whole)
    ctx = group.make_context("adasim", [], resilient_parsing=True)
    command = group.get_command(ctx, args[0])
    assert command is not None, f"{where}: no command {args[0]!r}"
    command.make_context(args[0], args[1:], parent=ctx)


def test_a_command_the_docs_got_wrong_would_not_parse():
    with pytest.raises(Exception, match="No such option: --nosuch"):  # click's UsageError (typer's own copy)
        _parse(["run", "--nosuch", "1"], "")
    with pytest.raises(Exception, match="valid integer"):
        _parse(["run", "--steps", "many"], "")
    with pytest.raises(AssertionError, match="no command"):
        _parse(["runn"], "")


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _broken_links(page: Path) -> list[str]:
    """The relative links and images of a page that name no file (or, with #anchor, no heading of it)."""
    missing = []
    for m in LINK.finditer(page.read_text()):
        target = m.group(1) or m.group(2)
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto: are not fetched
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            missing.append(target)
        elif anchor and file.suffix == ".md":
            headings = re.findall(r"(?m)^#+ (.*)$", file.read_text())
            if anchor not in {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}:
                missing.append(target)
    return missing


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_relative_link_resolves(page):
    """Offline: every relative link and image of the README and of every page names a file that exists."""
    assert not _broken_links(page), f"{_name(page)}: {_broken_links(page)}"


def test_the_link_check_would_catch_a_broken_link(tmp_path):
    (tmp_path / "there.md").write_text("# A heading\n")
    page = tmp_path / "page.md"
    page.write_text("[a](nosuch.md) ![b](img.png) [c](there.md) [d](there.md#a-heading) [e](there.md#nothing) [f](https://x.org)")
    assert _broken_links(page) == ["nosuch.md", "img.png", "there.md#nothing"]


def test_one_version_everywhere():
    """adasim.__version__ is the version of the package's metadata, CITATION.cff and the changelog's newest entry."""
    import importlib.metadata

    version = adasim.__version__
    assert importlib.metadata.version("adasim") == version
    assert re.search(r'(?m)^version: "?([^"\n]+)"?$', (ROOT / "CITATION.cff").read_text()).group(1) == version
    assert re.search(r"(?m)^## (\S+)", (ROOT / "CHANGELOG.md").read_text()).group(1) == version


# The README's tour is run for real, as written, in an empty folder: each command but those named here.
NOT_RUN = {
    "check": "needs torch and about a minute; tests/check runs adasim check",
    "discover": "takes minutes; tests/discover runs adasim discover on small budgets",
    "explore": "starts a server and a browser; tests/explorer drives it",
}
TOUR = [args for page, _, args in COMMANDS if page == "README.md"]


@pytest.mark.slow
@pytest.mark.parametrize("args", TOUR, ids=[" ".join(a) for a in TOUR])
def test_the_readme_tour_runs_as_written(args, tmp_path):
    import subprocess
    import sys

    if args[0] in NOT_RUN:
        pytest.skip(f"adasim {args[0]}: {NOT_RUN[args[0]]}")
    result = subprocess.run([sys.executable, "-m", "adasim", *args], cwd=tmp_path, capture_output=True, text=True, check=False,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "error" not in result.stderr
    assert result.stdout.strip()
