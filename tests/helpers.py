"""Small problem builders shared by the tests."""

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
