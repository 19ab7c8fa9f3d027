"""Small problem builders shared by the tests."""

import os

import numpy as np

from adasim import Custom, Domain
from adasim.problems import Periodic


def sequence_problem(grads, domain=None):
    """A custom problem that replays a fixed scalar gradient sequence (unconstrained by default)."""
    seq = np.asarray(grads, dtype=float)
    return Custom(
        gradient_fn=lambda x, t, seeds: np.full(x.shape, seq[t - 1]),
        loss_fn=lambda x, t: seq[t - 1] * x[:, 0],
        optimum_point=-1.0,
        domain=domain or Domain(-np.inf, np.inf),
    )


def replay_problem(grads, domain=None):
    """An x-independent problem that replays a fixed gradient sequence (one period of a periodic
    problem), so every executor — the compiled one included — can run it."""
    return Periodic(c=grads, domain=domain or Domain(-np.inf, np.inf))


def one_line_error(result, code=2):
    """A CliRunner result that failed with one `adasim: error:` line (no traceback); the line."""
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("adasim: error:")]
    assert len(lines) == 1, result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
    return lines[0]


def made_once(tmp_path_factory, name, make):
    """A folder that `make(folder)` fills once per test run, however many pytest-xdist workers ask
    for it: the first takes a lock in the run's shared temporary folder and makes it, the others
    wait for the lock and reuse what it wrote (the 'done' file is written last)."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this run
    folder = root / f"made-once-{name}"
    with open(root / f"made-once-{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / ".done").exists():
                folder.mkdir(exist_ok=True)
                make(folder)
                (folder / ".done").write_text("")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder
