"""Stopping cleanly. The command-line tool turns SIGINT (Ctrl-C) and SIGTERM into
KeyboardInterrupt and records which one arrived, so that

- a sweep stops its workers, keeps its finished chunks and exits 128 + the signal's number;
- a KeyboardInterrupt that a user's own code raises (no signal arrived) is that code's failure,
  reported as such, and does not decide adasim's exit code.

Library use installs nothing: there every KeyboardInterrupt is taken to be the user's Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

_state: dict[str, Any] = {"installed": False, "received": None}


def _handler(signum: int, frame: Any) -> None:
    _state["received"] = signum
    raise KeyboardInterrupt(signal.Signals(signum).name)


def install() -> dict[int, Any]:
    """SIGINT and SIGTERM raise KeyboardInterrupt in the main thread (and record the signal);
    returns the handlers they replace, for `restore`."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    _state.update(installed=True, received=None)
    return previous


def restore(previous: dict[int, Any]) -> None:
    """Put back the handlers `install` replaced (a command run from Python leaves none behind)."""
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    if previous:
        _state.update(installed=False)


def received() -> int | None:
    """The signal that interrupted this process, if one did."""
    return _state["received"]


def forget() -> None:
    """The interruption was the expected way to stop (Ctrl-C ends `adasim explore`'s server): the
    command then exits as finished, not as interrupted."""
    _state["received"] = None


def raised_by_user_code(err: BaseException) -> bool:
    """Whether a SystemExit or KeyboardInterrupt came from the code that raised it rather than
    from a signal: SystemExit always; KeyboardInterrupt only when adasim's handlers are installed
    and no signal arrived (otherwise it is a real Ctrl-C and must stop the program)."""
    if isinstance(err, SystemExit):
        return True
    return isinstance(err, KeyboardInterrupt) and _state["installed"] and _state["received"] is None


def in_worker() -> None:
    """In a pool worker that ignores SIGINT (worker_init): a KeyboardInterrupt can only come from the
    code it runs, so `raised_by_user_code` says so (the parent sees the user code's failure, not a
    Ctrl-C it never had)."""
    _state.update(installed=True, received=None)


def worker_init(parent: int) -> None:
    """In a pool worker: die with the parent (Linux: the kernel sends SIGKILL when it goes; else a
    watchdog thread polls), leave Ctrl-C to the parent, and let SIGTERM end the worker at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _state.update(installed=False, received=None)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="adasim-parent-watch", daemon=True).start()
