"""The documentation site builds as `pip install -e ".[docs]" && mkdocs build --strict` builds it: warnings
are errors (which checks every internal link and anchor offline), the tutorials are the notebooks of
examples/ executed at build time, the API reference comes from the docstrings of every name in
adasim.__all__, and the footer carries the package's one version. Built from a copy of the checkout, so
that the build's caches never touch it."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import adasim

ROOT = Path(__file__).resolve().parents[1]
NEEDS = ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter", "ipykernel")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = [m for m in NEEDS if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        pytest.skip(f"building the docs needs {', '.join(missing)}: pip install -e '.[docs]'")
    source = tmp_path_factory.mktemp("checkout")
    for name in ("mkdocs.yml", "CHANGELOG.md", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("docs", "examples", "adasim"):
        shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", ".cache"))
    out = source / "built"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out, result.stderr


def _text(path: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text()))


def test_the_site_builds_with_warnings_as_errors(site):
    out, log = site
    assert (out / "index.html").exists()
    assert not re.search(r"(?m)^WARNING\s+-", log)  # MkDocs' own (the kernel's "[IPKernelApp] WARNING" is not the site's)
    for page in ("getting-started", "how-to/check-your-optimizer", "guide/net-update-factors", "REFERENCE", "architecture",
                 "contributing", "changelog", "gallery"):  # fmt: skip
        assert (out / page / "index.html").exists(), page


def test_the_tutorials_are_executed(site):
    out, _ = site
    first = _text(out / "tutorials" / "01-first-tour" / "index.html")
    assert "worst point" in first  # the output of a cell: Adam's verdict, computed at build time
    assert "<img" in (out / "tutorials" / "01-first-tour" / "index.html").read_text()  # figure_run's figure
    assert "converged" in _text(out / "tutorials" / "03-a-sweep" / "index.html")


def test_the_api_reference_documents_every_public_name(site):
    out, _ = site
    text = " ".join(_text(p) for p in (out / "api").rglob("index.html"))
    missing = [name for name in adasim.__all__ if not re.search(rf"\b{re.escape(name)}\b", text)]
    assert not missing, missing
    # AMSGrad's update rule, from its docstring, with the notation's underscores (not italics): docs/hooks.py
    assert "AMSGrad: Adam's m and v, v̂_t = max(v̂_{t−1}, v_t)" in text


def test_the_footer_carries_the_version(site):
    out, _ = site
    assert f"adasim {adasim.__version__}" in _text(out / "index.html")


def test_the_changelog_page_is_the_changelog(site):
    out, _ = site
    newest = re.search(r"(?m)^### (.+)$", (ROOT / "CHANGELOG.md").read_text()).group(1).strip("`")
    assert newest.split("`")[0][:20] in _text(out / "changelog" / "index.html")
