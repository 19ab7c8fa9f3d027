"""find-counterexample for matrix optimizers (adasim/analysis/matrix_search.py): the screen's
sign, the confirmation's bookkeeping, the CLI's contract. The full search (10⁵ steps under three
schedules, about 4 minutes) is run by hand; its numbers are in docs/REFERENCE.md §7."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim import make_optimizer
from adasim.analysis.matrix_search import find_matrix_counterexample, gap, problem_of, step_size
from adasim.cli.app import app
from adasim.errors import AdasimError


def test_the_family_and_the_gap_are_what_the_module_says():
    problem = problem_of(100.0, 0.1, 2)
    assert float(problem.mean_gradient()[0]) == pytest.approx(0.1)  # ḡ = δ
    W = np.zeros((1, 4))
    assert gap(problem, W)[0] == pytest.approx(0.1)  # the start: ḡ
    W[0, [0, 3]] = 1.0
    assert gap(problem, W)[0] == pytest.approx(0.2)  # the worst point: 2ḡ
    W[0, [0, 3]] = -1.0
    assert gap(problem, W)[0] == pytest.approx(0.0)
    t = np.arange(1, 1001)
    assert float(np.sum(step_size("inv", 1000, 0.1) / t) * 0.1) == pytest.approx(4.0)


def test_rare_spikes_send_muon_the_wrong_way_and_error_feedback_the_right_way():
    """C = 100, δ = 0.1 (a spike every ~90 steps, μ = 0.95 averages ~20): Muon's momentum votes with
    the median gradient, −1, and climbs; EF-Muon follows momentum SGD down. Frequent spikes (C = 3)
    do not fool it. A short screen and confirmation (the full one: 10⁵ steps)."""
    muon, ef = make_optimizer("muon"), make_optimizer("ef-muon")
    cx = find_matrix_counterexample(muon, (ef,), steps=6000, seeds=2, screen_steps=2000,
                                    grid=[(100.0, 0.1), (3.0, 1.0)], min_spikes=50)  # fmt: skip
    ratios = {(r["C"], r["delta"]): r["ratio"] for r in cx.screened}
    assert ratios[(100.0, 0.1)] > 1.0
    assert ratios[(3.0, 1.0)] < 0.0
    assert cx.found
    assert cx.problem.C == 100.0
    assert list(cx.runs) == ["constant", "inv-sqrt", "inv"]
    assert cx.stuck  # Muon ends near the worst point under each schedule
    for row in cx.runs.values():
        assert row["gap"]["muon"] > 1.5 * 0.1
        assert row["gap"]["ef-muon"] < row["gap"]["muon"] / 2
    data = cx.as_dict()
    assert data["tried"][0]["C"] == 100.0
    assert "adasim run matrix" in data["command"]


def test_an_optimizer_that_acts_entry_by_entry_goes_to_the_closed_forms():
    with pytest.raises(AdasimError, match="entry by entry"):
        find_matrix_counterexample(make_optimizer("adam"))


def test_the_cli_screens_a_matrix_optimizer_and_says_when_it_cannot_confirm():
    """At 2 000 steps no wrong-way problem's spikes are frequent enough to confirm (p·T ≥ 1000)."""
    args = ["find-counterexample", "-o", "muon", "--steps", "2000", "--screen-steps", "400"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["found"] is True
    assert data["tried"] == []
    assert data["confirmed"] is False
    plain = CliRunner().invoke(app, args)
    assert "raise --steps" in plain.output


def test_bad_screening_steps_are_one_line_errors():
    result = CliRunner().invoke(app, ["find-counterexample", "-o", "muon", "--screen-steps", "0"])
    assert result.exit_code == 2
    assert "steps of a screening run must lie in" in result.output
    assert result.output.count("\n") == 1
