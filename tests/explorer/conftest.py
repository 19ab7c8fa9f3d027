"""The explorer's fixtures: a server on a free port of 127.0.0.1 (its event loop in a thread) and
a Playwright browser driving Debian's chromium (never a downloaded browser)."""

import os

import pytest


def running(optimizers=(), **kw):
    """`adasim.explorer.server.in_thread`: the explorer on 127.0.0.1:<free port>, yields its URL."""
    pytest.importorskip("tornado", reason="the explorer's server needs Tornado: pip install 'adasim[explore]'")
    from adasim.explorer.server import in_thread

    return in_thread(list(optimizers), **kw)


@pytest.fixture(scope="session")
def serving():
    """`running(optimizers, steps=...)`: a context manager that serves the explorer and yields its URL."""
    return running


@pytest.fixture(scope="module")
def browser(chromium):
    """Playwright's Chromium API on the system's chromium binary."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("ADASIM_REQUIRE_BROWSER"):
            pytest.fail("ADASIM_REQUIRE_BROWSER is set but Playwright is missing (pip install 'adasim[browser]')")
        pytest.skip("the browser tests drive chromium with Playwright: pip install 'adasim[browser]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()
