"""The explorer's fixtures: a server on a free port of 127.0.0.1 (its event loop in a thread) and
a Playwright browser driving Debian's chromium (never a downloaded browser)."""

import asyncio
import contextlib
import os
import threading

import pytest


@contextlib.contextmanager
def running(optimizers=(), steps=10_000):
    """`make_app` served on 127.0.0.1:<free port>; yields the base URL."""
    pytest.importorskip("tornado", reason="the explorer's server needs Tornado: pip install 'adasim[explore]'")
    import tornado.httpserver

    from adasim.explorer.server import bind, make_app

    sockets = bind("127.0.0.1", 0)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        http = tornado.httpserver.HTTPServer(make_app(list(optimizers), steps=steps))
        http.add_sockets(sockets)
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    host, port = sockets[0].getsockname()[:2]
    try:
        yield f"http://{host}:{port}/"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        for s in sockets:
            s.close()


@pytest.fixture(scope="session")
def serving():
    """`running(optimizers, steps)`: a context manager that serves the explorer and yields its URL."""
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
