"""Installation: `python -m adasim` works and the wheel puts the CLI under adasim/, never a bare `cli`."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_python_dash_m_from_the_checkout_root():
    """From the checkout's root the local adasim/ comes first on sys.path, ahead of the install: the CLI
    must live inside it (adasim/cli/), or `python -m adasim` and `import adasim.cli` fail there."""
    result = subprocess.run([sys.executable, "-m", "adasim", "--help"], capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-1000:]
    assert "run" in result.stdout
    imported = subprocess.run(
        [sys.executable, "-c", "import adasim, adasim.cli.app; print(adasim.__file__)"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert imported.returncode == 0, imported.stderr[-1000:]
    assert Path(imported.stdout.strip()).parent == ROOT / "adasim"


def test_wheel_installs_cli_under_the_package(tmp_path):
    """The wheel holds every package of the source tree (built from a copy, so that a stale build/
    folder cannot hide a missing one) and the CLI under adasim/cli/."""
    import importlib.metadata
    import re
    import tomllib

    pytest.importorskip("setuptools")
    need = next(r for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
                if r.startswith("setuptools"))  # fmt: skip
    wanted = tuple(int(x) for x in re.findall(r"\d+", need.split(">=")[1])[:2]) if ">=" in need else (0,)
    have = tuple(int(x) for x in re.findall(r"\d+", importlib.metadata.version("setuptools"))[:2])
    if have < wanted:  # building without isolation uses the installed one; the test extra brings a new enough one
        pytest.skip(
            f"building the wheel needs {need} (installed: setuptools {'.'.join(map(str, have))}; pip install -e '.[test]')"
        )
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", ".venv", "venv",
                                                                  ".pytest_cache", ".hypothesis", "out", "results"))  # fmt: skip
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("adasim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "adasim/cli/app.py" in names
    packages = [p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "adasim").rglob("__init__.py")]
    for package in packages:
        assert f"{package}/__init__.py" in names, f"{package} is not in the wheel (pyproject.toml's packages)"
    assert "adasim/optimizers/verdicts.json" in names  # adasim list's stored verdicts (package-data)
    assert {"adasim/explorer/static/explorer.js", "adasim/explorer/static/explorer.css"} <= names  # the explorer's page
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "adasim").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert not [n for n in names if n.startswith(("cli/", "tests/", "benchmarks/"))]


def test_version_license_and_the_reference_the_code_cites():
    import adasim

    result = subprocess.run([sys.executable, "-m", "adasim", "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"adasim {adasim.__version__}"
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    reference = (ROOT / "docs" / "REFERENCE.md").read_text()
    cited = set()
    for path in [*(ROOT / "adasim").rglob("*.py"), ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        text = path.read_text()
        assert "REFERENCE §" not in text.replace("docs/REFERENCE.md §", ""), f"{path} cites a reference that is not in the repo"
        cited |= {int(n) for n in __import__("re").findall(r"docs/REFERENCE\.md §(\d)", text)}
    for n in cited:
        assert f"## {n}." in reference


def test_import_adasim_is_cheap_and_gives_every_documented_name():
    """`import adasim` loads no NumPy and no engine (PEP 562: names come on first use), yet every
    name in __all__ and every subpackage is an attribute (`adasim.checks.check` after `import adasim`)."""
    code = ("import sys, adasim\nheavy = sorted(m for m in ('numpy', 'adasim.engine', 'adasim.optimizers') if m in sys.modules)\n"
            "names = [n for n in adasim.__all__ if getattr(adasim, n, None) is None]\n"
            "print(heavy, names, callable(adasim.checks.check), callable(adasim.spec.build_spec), adasim.Adam.name)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] [] True True adam"
    import adasim

    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        adasim.nosuch  # noqa: B018


def test_all_lists_exactly_the_lazy_names_and_the_functions():
    """__all__ is written out for static tools; it must list every lazily exported name (and the
    four functions defined in adasim/__init__.py), and nothing else."""
    import adasim

    assert sorted(adasim.__all__) == sorted([*adasim._EXPORTS, "check", "explore", "ops", "probe"])


def test_nothing_below_the_command_line_imports_it():
    """The CLI is an edge: no module of adasim outside adasim/cli/ (but `python -m adasim`'s __main__) imports it."""
    import re

    importers = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "adasim").rglob("*.py")
        if "cli" not in p.relative_to(ROOT / "adasim").parts[:1]
        and p.name != "__main__.py"
        and re.search(r"^\s*(from adasim\.cli\b|import adasim\.cli\b|from adasim import cli\b)", p.read_text(), re.M)
    ]
    assert not importers, importers
