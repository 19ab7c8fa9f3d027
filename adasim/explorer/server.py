"""`adasim explore`: the explorer served on 127.0.0.1 by Tornado (extra `adasim[explore]`).

GET /              the page (explorer.js, its style and the controls inline)
GET /api/view?...  `view(position)` as JSON; 400 {"error": "..."} for a bad setting
GET /api/phase?... `phase(position)` as JSON (critical β2 and the (β1, β2) map)

Each request is parsed into its own immutable Position and computed in a thread pool: requests
from several tabs share nothing but the caches of pure functions, so their results never mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from adasim.errors import AdasimError, NumericalError
from adasim.explorer.page import config, page
from adasim.explorer.view import STEPS, Position, parse_position, phase, view
from adasim.optimizers import OPTIMIZERS

log = logging.getLogger("adasim.explore")


def _tornado() -> Any:
    try:
        import tornado.web
    except ImportError:
        raise AdasimError("adasim explore needs Tornado: pip install 'adasim[explore]'") from None
    return tornado


def answer(
    fn: Callable[[Position], dict[str, Any]], query: dict[str, str], allowed: Sequence[str], steps: int
) -> tuple[int, str]:
    """(HTTP status, JSON body) of one API request: 200 and the numbers, 400 with a one-line
    error for a bad setting or failing user code, 422 for numbers that overflow, 500 (logged)
    for a fault of adasim's own."""
    try:
        position = parse_position(query, allowed, steps)
        return 200, json.dumps(fn(position), separators=(",", ":"), allow_nan=False)
    except NumericalError as err:
        return 422, json.dumps({"error": str(err)})
    except AdasimError as err:  # UserCodeError included: one line naming the user's code
        return 400, json.dumps({"error": str(err)})
    except Exception as err:  # a bug of adasim's: a message in the page, one line in the server's log
        if os.environ.get("ADASIM_DEBUG"):
            log.exception("adasim explore: internal error")
        else:
            log.error(f"adasim explore: internal error: {type(err).__name__}: {err} (set ADASIM_DEBUG=1 to see the traceback)")
        return 500, json.dumps({"error": f"internal error ({type(err).__name__}: {err}); please report it"})


def make_app(optimizers: Sequence[str] = (), steps: int = STEPS, start: Position | None = None, workers: int = 2) -> Any:
    """The Tornado application: the built-in optimizers plus `optimizers` (user `file.py:Name`
    specs, loaded already) as toggles, every view `steps` long."""
    tornado = _tornado()
    allowed = tuple(o for o in optimizers if o not in OPTIMIZERS)
    toggles = tuple(dict.fromkeys([*OPTIMIZERS, *optimizers]))
    start = start or Position(steps=steps)
    cfg = config(toggles, start, mode_note=f"live: every change re-simulates {steps:,} steps on this machine")
    document = page(cfg)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="adasim-explore")
    functions = {"view": view, "phase": phase}

    class Base(tornado.web.RequestHandler):
        def write_error(self, status_code: int, **kwargs: Any) -> None:  # one line, never a traceback
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": f"{status_code} {self._reason}"}))

    class Missing(Base):
        def prepare(self) -> None:
            raise tornado.web.HTTPError(404)

    class Page(Base):
        def get(self) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.write(document)

    class Api(Base):
        async def get(self, what: str) -> None:
            query: dict[str, str] = {}
            for key, values in self.request.arguments.items():
                if len(values) > 1:
                    self.set_status(400)
                    self.set_header("Content-Type", "application/json")
                    self.finish(json.dumps({"error": f"give '{key}' once, got it {len(values)} times"}))
                    return
                query[key] = values[0].decode("utf-8", "replace")
            loop = asyncio.get_running_loop()
            status, body = await loop.run_in_executor(pool, answer, functions[what], query, allowed, steps)
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.finish(body)

    app = tornado.web.Application([(r"/", Page), (r"/api/(view|phase)", Api)], default_handler_class=Missing,
                                  compress_response=True, log_function=lambda handler: None)  # fmt: skip
    app.settings["adasim_pool"] = pool
    return app


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on host:port (port 0: a free one); a one-line error when that fails."""
    _tornado()
    import tornado.netutil

    try:
        return tornado.netutil.bind_sockets(port, address=host)
    except (OSError, UnicodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise AdasimError(f"cannot listen on {host}:{port}: {reason}; choose another --host or --port") from None


def _serve(sockets: list[socket.socket], optimizers: Sequence[str], steps: int, start: Position | None = None) -> tuple[Any, Any]:
    """The app and its HTTP server on `sockets`, in the running event loop."""
    import tornado.httpserver

    app = make_app(optimizers, steps, start)
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    return app, server


@contextlib.contextmanager
def in_thread(optimizers: Sequence[str] = (), steps: int = STEPS) -> Iterator[str]:
    """The explorer served on 127.0.0.1:<a free port> by an event loop in a thread (the tests and
    the benchmark); yields its base URL and stops it on exit."""
    sockets = bind("127.0.0.1", 0)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        _serve(sockets, optimizers, steps)
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="adasim-explore-loop")
    thread.start()
    ready.wait(30)
    try:
        yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        for sock in sockets:
            sock.close()


def serve(host: str, port: int, open_browser: bool, optimizers: Sequence[str], steps: int, start: Position,
          say: Callable[[str], None] = print) -> None:  # fmt: skip
    """Bind host:port, compile and warm the engine on the start view, then serve until
    interrupted (Ctrl-C)."""
    sockets = bind(host, port)
    bound = sockets[0].getsockname()[1]
    say(f"adasim explore: preparing the engine ({len(start.optimizers)} optimizers, {steps:,} steps; "
        "the first start compiles for a minute) ...")
    view(start)
    phase(start)

    async def main() -> None:
        app, server = _serve(sockets, optimizers, steps, start)
        url = f"http://{host if ':' not in host else '[' + host + ']'}:{bound}/"
        say(f"adasim explore: serving {url} (Ctrl-C stops it){'' if host == '127.0.0.1' else '; reachable from other machines'}")
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        try:
            await asyncio.Event().wait()
        finally:
            server.stop()
            app.settings["adasim_pool"].shutdown(wait=False, cancel_futures=True)

    try:
        asyncio.run(main())
    finally:
        for sock in sockets:
            sock.close()
