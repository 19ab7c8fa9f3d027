"""Shared fixtures; this folder is on sys.path, so tests import `scalar_reference` directly."""

import os

# Under pytest-xdist every worker is one process per core: BLAS's and torch's own thread pools on
# top would put 2 × 2 threads on 2 cores and slow every linear-algebra test several-fold. (Set
# before NumPy or torch is imported; `pytest` without -n keeps the libraries' defaults.)
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

import functools
import shutil

import matplotlib
import pytest
import typer.testing
from hypothesis import settings

matplotlib.use("Agg")
os.environ.setdefault("COLUMNS", "200")

# no per-example time limit: an example that first calls a compiled function compiles it (seconds,
# on a cold cache), and two pytest workers on two cores make any timing noise, not a finding
settings.register_profile("adasim", deadline=None)
settings.load_profile("adasim")

# Typer's CliRunner builds the whole click command tree on every invoke (~70 ms for adasim's 13
# commands); the tree does not change between tests, so build it once per process.
typer.testing._get_command = functools.lru_cache(maxsize=None)(typer.testing._get_command)


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium (`.ci/run` installs it; a test never installs anything). CI sets
    ADASIM_REQUIRE_BROWSER=1, so that a missing browser fails the run instead of skipping."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("ADASIM_REQUIRE_BROWSER"):
            pytest.fail("ADASIM_REQUIRE_BROWSER is set but no chromium is on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH: install Debian's chromium (as .ci/run does) to run the browser tests")
    return exe
