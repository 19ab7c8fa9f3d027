"""`adasim explore`: the explorer served on 127.0.0.1 by Tornado (extra `adasim[explore]`).

GET /              the page (explorer.js, its style and the controls inline)
GET /api/view?...  `view(position)` as JSON; 400 {"error": "..."} for a bad setting
GET /api/phase?... `phase(position)` as JSON (critical β2 and the (β1, β2) map)

Each request is parsed into its own immutable Position and computed on a worker thread: requests
from several tabs share nothing but the caches of pure functions, so their results never mix.

Backpressure (`WorkQueue`): a request is checked on the event loop before it is queued (`check`:
every setting, as /api/view and /api/phase both check them), so bad input is answered at once;
at most WAITING requests wait for the WORKERS threads, the next is answered 503; work whose client
has gone is dropped from the queue, or stopped at its next block of steps when it runs; a view
waits in the queue while its memory estimate and the running views' together exceed
ADASIM_MEMORY_LIMIT. Every refusal is one line of JSON: 400 bad setting, 403 a Host header that is
not this machine's (when bound to a loopback address: a DNS-rebinding page cannot drive the API),
413 a request body, 414 a URI over MAX_URI characters, 431 headers over MAX_HEADER_BYTES, 503 busy.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import ipaddress
import json
import logging
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from adasim import memory
from adasim.errors import AdasimError, NumericalError
from adasim.explorer.page import config, page
from adasim.explorer.view import STEPS, Position, parse_position, phase, runnable, view, view_bytes
from adasim.optimizers import OPTIMIZERS

log = logging.getLogger("adasim.explore")

WORKERS = 2  # threads computing views (the machine's cores; the compiled kernel releases the GIL)
WAITING = 16  # requests that may wait for a worker; the next is answered 503
MAX_URI = 8192  # characters of a request's path and query (a view's query is a few hundred)
MAX_HEADER_BYTES = 65536  # bytes of a request's headers answered (431 beyond)
MAX_HEADERS = 1 << 20  # bytes of headers Tornado reads to answer 414/431 (beyond, it closes the connection unanswered)
MAX_BODY = 65536  # bytes of a request body (the API takes none)


def _tornado() -> Any:
    try:
        import tornado.web
    except ImportError:
        raise AdasimError("adasim explore needs Tornado: pip install 'adasim[explore]'") from None
    return tornado


class Stopped(BaseException):
    """Raised in a worker by a job's progress hook when its client has gone or the server stops: a
    BaseException (like asyncio's CancelledError), so that no `except Exception` turns it into an error."""


def _view(position: Position, progress: Callable[[int], None]) -> dict[str, Any]:
    return view(position, progress)


def _phase(position: Position, progress: Callable[[int], None]) -> dict[str, Any]:
    progress(0)  # a phase is short (closed forms only): stopped before it starts, not during
    return phase(position)


Work = Callable[[Position, Callable[[int], None]], dict[str, Any]]  # fn(position, progress)
FUNCTIONS: dict[str, Work] = {"view": _view, "phase": _phase}


def reply(work: Callable[[], dict[str, Any]], stop: threading.Event | None = None) -> tuple[int, str]:
    """(HTTP status, JSON body) of `work()`: 200 and the numbers, 400 with a one-line error for a
    bad setting or failing user code, 422 for numbers that overflow, 500 (logged) for a fault of
    adasim's own. Raises Stopped instead when `stop` is set: whatever the work hit after it was
    told to stop (the interpreter shutting down under it) is nobody's error."""
    try:
        return 200, json.dumps(work(), separators=(",", ":"), allow_nan=False)
    except NumericalError as err:
        return 422, json.dumps({"error": str(err)})
    except AdasimError as err:  # UserCodeError included: one line naming the user's code
        return 400, json.dumps({"error": str(err)})
    except Exception as err:  # a bug of adasim's: a message in the page, one line in the server's log
        if stop is not None and stop.is_set():
            raise Stopped from err
        if os.environ.get("ADASIM_DEBUG"):
            log.exception("adasim explore: internal error")
        else:
            log.error(f"adasim explore: internal error: {type(err).__name__}: {err} (set ADASIM_DEBUG=1 to see the traceback)")
        return 500, json.dumps({"error": f"internal error ({type(err).__name__}: {err}); please report it"})


def check(query: Mapping[str, str], allowed: Sequence[str], steps: int, run: bool = True) -> tuple[Position, int]:
    """The Position of a request and the memory its view needs (0 when it runs none: `run` False,
    a phase), or a one-line AdasimError: every setting checked as the view checks it (the same for
    /api/view and /api/phase), and a view that alone would exceed ADASIM_MEMORY_LIMIT refused.
    Cheap (milliseconds): run on the event loop, before the request is queued."""
    position = parse_position(query, allowed, steps)
    runnable(position)
    if not run:
        return position, 0
    nbytes = view_bytes(position)
    memory.require(nbytes, "this view", "use fewer seeds or a smaller --steps")
    return position, nbytes


def answer(fn: Callable[[Position], dict[str, Any]], query: dict[str, str], allowed: Sequence[str],
           steps: int) -> tuple[int, str]:  # fmt: skip
    """(HTTP status, JSON body) of one request computed where it is asked (the notebook widget):
    `check`ed settings, then `fn(position)`, as `reply` reports them (each run of a view is held
    to ADASIM_MEMORY_LIMIT by `simulate` itself: nothing else runs beside it)."""

    def work() -> dict[str, Any]:
        position, _ = check(query, allowed, steps, run=False)
        return fn(position)

    return reply(work)


@dataclasses.dataclass(eq=False)
class Job:
    """One request's work: `fn(position, progress)`, the memory it needs, the future the handler
    awaits ((status, body), or None: dropped or stopped, nothing to answer) and its stop flag."""

    fn: Work
    position: Position
    nbytes: int
    done: asyncio.Future[tuple[int, str] | None]
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)


class WorkQueue:
    """First come, first served on `workers` daemon threads. A job starts when a worker is idle and
    its memory estimate fits under `limit` together with the running jobs' (one job alone always
    starts: `check` refused those above the limit); otherwise it waits at the head of the queue,
    and the jobs behind it wait too (a large view is never starved by small ones). At most
    `waiting` jobs wait: `submit` refuses more (the handler answers 503). A job whose client has
    gone is dropped (`drop`): removed from the queue, or told to stop at its next block of steps.
    The methods run on the event loop; the workers only run jobs and hand results back to it."""

    def __init__(self, workers: int = WORKERS, waiting: int = WAITING, limit: int | None = None) -> None:
        self.limit, self.max_waiting, self.idle = limit, waiting, workers
        self.waiting: collections.deque[Job] = collections.deque()
        self.running: set[Job] = set()
        self.in_flight = 0  # bytes of the running jobs
        self.peak = 0  # most bytes in flight at once (the tests read it)
        self.started = 0
        self.closed = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.inbox: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._work, name=f"adasim-explore-{i}", daemon=True) for i in range(workers)]
        for thread in self.threads:
            thread.start()

    def submit(self, fn: Work, position: Position, nbytes: int) -> Job | None:
        """Queue `fn(position, progress)`; None when the queue is full or closed."""
        if self.closed or len(self.waiting) >= self.max_waiting:
            return None
        self.loop = asyncio.get_running_loop()
        job = Job(fn, position, nbytes, self.loop.create_future())
        self.waiting.append(job)
        self._start()
        return job

    def drop(self, job: Job) -> None:
        """The job's client has gone: nobody will read its result."""
        job.stop.set()
        if job in self.waiting:
            self.waiting.remove(job)
            self._settle(job, None)
            self._start()

    def close(self) -> None:
        """Stop everything: running jobs at their next block, waiting ones now; the workers end."""
        self.closed = True
        for job in [*self.running, *self.waiting]:
            job.stop.set()
            self._settle(job, None)
        self.waiting.clear()
        for _ in self.threads:
            self.inbox.put(None)

    def join(self, timeout: float) -> None:
        """Wait up to `timeout` seconds in all for the workers to end (after `close`): a daemon thread
        still inside NumPy or a compiled kernel when the interpreter finalises can abort the
        process (exit −6 instead of 143)."""
        import time

        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _fits(self, job: Job) -> bool:
        return not self.running or self.limit is None or self.in_flight + job.nbytes <= self.limit

    def _start(self) -> None:
        while self.idle and self.waiting and self._fits(self.waiting[0]):
            job = self.waiting.popleft()
            self.idle -= 1
            self.running.add(job)
            self.in_flight += job.nbytes
            self.peak = max(self.peak, self.in_flight)
            self.started += 1
            self.inbox.put(job)

    def _finished(self, job: Job, result: tuple[int, str] | None) -> None:
        self.idle += 1
        self.running.discard(job)
        self.in_flight -= job.nbytes
        self._settle(job, result)
        if not self.closed:
            self._start()

    @staticmethod
    def _settle(job: Job, result: tuple[int, str] | None) -> None:
        if not job.done.done():
            job.done.set_result(result)

    def _work(self) -> None:
        """A worker thread: run jobs until close() sends None."""
        while (job := self.inbox.get()) is not None:
            result = self._run(job)
            assert self.loop is not None
            with contextlib.suppress(RuntimeError):  # the event loop has closed: nobody waits any more
                self.loop.call_soon_threadsafe(self._finished, job, result)

    @staticmethod
    def _run(job: Job) -> tuple[int, str] | None:
        def progress(steps: int) -> None:
            if job.stop.is_set():
                raise Stopped

        try:
            return reply(lambda: job.fn(job.position, progress), job.stop)
        except Stopped:
            return None


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is this machine only."""
    name = host.strip().lower().strip("[]").rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_of(header: str) -> str:
    """The host of a Host header ("127.0.0.1:8050", "[::1]:8050", "localhost")."""
    header = header.strip()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    name, sep, port = header.rpartition(":")
    return name if sep and port.isdigit() else header


def refusal(request: Any, local: bool) -> tuple[int, str] | None:
    """(status, message) for a request that no page of this server sends, checked before anything
    else is read: a Host that is not this machine (when `local`), a long URI, a body, huge headers."""
    if local and not is_loopback(_host_of(request.host)):
        return 403, f"this server answers requests for 127.0.0.1 or localhost only, not {request.host[:80]!r}"
    if len(request.uri) > MAX_URI:
        return 414, f"the request's address has {len(request.uri):,} characters; at most {MAX_URI:,}"
    length = request.headers.get("Content-Length", "0")
    if "Transfer-Encoding" in request.headers or not length.isdigit() or int(length) > MAX_BODY:
        return 413, f"this server takes no request body over {MAX_BODY:,} bytes"
    if sum(len(k) + len(v) for k, v in request.headers.get_all()) > MAX_HEADER_BYTES:
        return 431, f"the request's headers are over {MAX_HEADER_BYTES:,} bytes"
    return None


def make_app(optimizers: Sequence[str] = (), steps: int = STEPS, start: Position | None = None, workers: int = WORKERS,
             local: bool = True, waiting: int = WAITING) -> Any:  # fmt: skip
    """The Tornado application: the built-in optimizers plus `optimizers` (user `file.py:Name`
    specs, loaded already) as toggles, every view `steps` long. `local` (bound to a loopback
    address): requests whose Host header names another machine are refused (403)."""
    tornado = _tornado()
    allowed = tuple(o for o in optimizers if o not in OPTIMIZERS)
    toggles = tuple(dict.fromkeys([*OPTIMIZERS, *optimizers]))
    start = start or Position(steps=steps)
    cfg = config(toggles, start, mode_note=f"live: every change re-simulates {steps:,} steps on this machine")
    document = page(cfg)
    work = WorkQueue(workers, waiting, memory.limit())

    @tornado.web.stream_request_body
    class Base(tornado.web.RequestHandler):
        def fail(self, status: int, message: str) -> None:
            """Answer `status` with a one-line JSON error."""
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.finish(json.dumps({"error": message}))

        def prepare(self) -> None:
            refused = refusal(self.request, local)
            if refused is not None:
                self.fail(*refused)

        def data_received(self, chunk: bytes) -> None:  # a small body is read and ignored
            pass

        def write_error(self, status_code: int, **kwargs: Any) -> None:  # one line, never a traceback
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": f"{status_code} {self._reason}"}))

    class Missing(Base):
        def prepare(self) -> None:
            super().prepare()
            if not self._finished:
                raise tornado.web.HTTPError(404)

    class Page(Base):
        def get(self) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.write(document)

    class Api(Base):
        job: Job | None = None

        def query(self) -> dict[str, str]:
            """The query as text values, each given once."""
            out: dict[str, str] = {}
            for key, values in self.request.arguments.items():
                if len(values) > 1:
                    raise AdasimError(f"give '{key[:40]}' once, got it {len(values)} times")
                out[key] = values[0].decode("utf-8", "replace")
            return out

        async def get(self, what: str) -> None:
            try:
                position, nbytes = check(self.query(), allowed, steps, run=what == "view")
            except AdasimError as err:
                return self.fail(400, str(err))
            self.job = work.submit(FUNCTIONS[what], position, nbytes)
            if self.job is None:
                self.set_header("Retry-After", "1")
                return self.fail(503, f"the server is busy ({work.max_waiting} requests wait); try again in a moment")
            result = await self.job.done
            if result is None:  # dropped (the client has gone) or stopped (the server is stopping)
                return self.fail(503, "the server is stopping")
            self.set_status(result[0])
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.finish(result[1])

        def on_connection_close(self) -> None:
            if self.job is not None:
                work.drop(self.job)

    app = tornado.web.Application([(r"/", Page), (r"/api/(view|phase)", Api)], default_handler_class=Missing,
                                  compress_response=True, log_function=lambda handler: None)  # fmt: skip
    app.settings["adasim_queue"] = work
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


def local_only(sockets: Sequence[socket.socket]) -> bool:
    """Whether every socket listens on a loopback address (unreachable from other machines)."""
    return all(is_loopback(str(sock.getsockname()[0])) for sock in sockets)


def _serve(sockets: list[socket.socket], optimizers: Sequence[str], steps: int, start: Position | None = None) -> tuple[Any, Any]:
    """The app and its HTTP server on `sockets`, in the running event loop."""
    import tornado.httpserver

    app = make_app(optimizers, steps, start, local=local_only(sockets))
    server = tornado.httpserver.HTTPServer(app, max_header_size=MAX_HEADERS)
    server.add_sockets(sockets)
    return app, server


@contextlib.contextmanager
def in_thread(optimizers: Sequence[str] = (), steps: int = STEPS, apps: list[Any] | None = None) -> Iterator[str]:
    """The explorer served on 127.0.0.1:<a free port> by an event loop in a thread (the tests and
    the benchmark); yields its base URL (and appends the app to `apps`) and stops it on exit."""
    sockets = bind("127.0.0.1", 0)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    made: list[Any] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        made.extend(_serve(sockets, optimizers, steps))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="adasim-explore-loop")
    thread.start()
    ready.wait(30)
    if apps is not None:
        apps.append(made[0])
    try:
        yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"
    finally:
        if made:
            loop.call_soon_threadsafe(made[1].stop)
            loop.call_soon_threadsafe(made[0].settings["adasim_queue"].close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        for sock in sockets:
            sock.close()


def serving_line(host: str, sockets: Sequence[socket.socket]) -> tuple[str, str]:
    """The URL served on `sockets` and the line that says so: a warning only when a socket
    listens on an address other machines can reach (0.0.0.0, a LAN address; not localhost or ::1)."""
    port = sockets[0].getsockname()[1]
    url = f"http://{host if ':' not in host else '[' + host + ']'}:{port}/"
    reach = "" if local_only(sockets) else "; reachable from other machines"
    return url, f"adasim explore: serving {url} (Ctrl-C stops it){reach}"


def serve(host: str, port: int, open_browser: bool, optimizers: Sequence[str], steps: int, start: Position,
          say: Callable[[str], None] = print) -> None:  # fmt: skip
    """Bind host:port, compile and warm the engine on the start view, then serve until
    interrupted (Ctrl-C, SIGTERM: running views stop at their next block of steps)."""
    sockets = bind(host, port)
    say(
        f"adasim explore: preparing the engine ({len(start.optimizers)} optimizers, {steps:,} steps; "
        "the first start compiles for a minute) ..."
    )
    view(start)
    phase(start)

    async def main() -> None:
        app, server = _serve(sockets, optimizers, steps, start)
        url, line = serving_line(host, sockets)
        say(line)
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        try:
            await asyncio.Event().wait()
        finally:
            server.stop()
            app.settings["adasim_queue"].close()
            await asyncio.to_thread(app.settings["adasim_queue"].join, 3.0)

    try:
        asyncio.run(main())
    finally:
        for sock in sockets:
            sock.close()
