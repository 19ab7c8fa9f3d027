"""Sharing v over k coordinates dilutes the correlation as √((1−β2²)/k)."""

import json
import math

import pytest
from typer.testing import CliRunner

from adasim import Adam, AdaShift
from adasim.analysis.dilution import dilution
from adasim.cli.app import app
from adasim.problems.layered import Layered


@pytest.mark.slow
def test_measured_dilution_follows_the_closed_form():
    rows = dilution(
        Layered(base="stochastic", C=10.0, p=0.2),
        Adam(beta1=0.0, beta2=0.9, lr=0.01, phi="mean"),
        ks=(1, 4, 16),
        steps=8_000,
        seeds=range(2),
    )
    for row in rows:
        assert row.analytic_pearson_g2_v == pytest.approx(math.sqrt((1 - 0.81) / row.k))
        lo, hi = row.pearson_g2_v_ci
        assert lo <= row.analytic_pearson_g2_v <= hi
    assert rows[0].pearson_g2_v > rows[1].pearson_g2_v > rows[2].pearson_g2_v


@pytest.mark.slow
def test_sharing_helps_adam_on_the_adashift_problem():
    """C = 101, p = 0.01: per coordinate, Adam drifts the wrong way; sharing v over many
    coordinates removes most of the correlation and the drift turns toward x*."""
    rows = dilution(
        Layered(base="stochastic", C=101.0, p=0.01),
        Adam(beta1=0.0, beta2=0.99, lr=0.01, phi="mean"),
        ks=(1, 64),
        steps=10_000,  # drifts +0.053…+0.067 and −0.0012…−0.0018 from 8 000 to 30 000 steps
        seeds=range(2),
    )
    assert rows[0].drift > 0 > rows[1].drift
    assert rows[1].mean_final_x < rows[0].mean_final_x


def test_a_shifted_scale_has_nothing_to_dilute():
    rows = dilution(
        Layered(base="stochastic", C=10.0, p=0.2), AdaShift(n=1, beta1=0.0, beta2=0.9, phi="mean"), ks=(1, 8), steps=5_000
    )
    assert all(r.analytic_pearson_g2_v == 0.0 for r in rows)
    assert all(r.pearson_g2_v_ci[0] <= 0.0 <= r.pearson_g2_v_ci[1] for r in rows)


def test_dilution_command(tmp_path):
    result = CliRunner().invoke(
        app, ["dilution", "--ks", "1,4", "--beta1", "0", "--beta2", "0.9", "--steps", "5000", "--json", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["k"] for r in data["results"]] == [1, 4]
    assert (tmp_path / "dilution.png").exists()
    bad = CliRunner().invoke(app, ["dilution", "--ks", "a"])
    assert bad.exit_code == 2


def test_correlation_per_block_of_a_layered_problem():
    from adasim.analysis import measure_correlation

    problem = Layered(blocks=((1, 1.0), (4, 1e-3)))
    c = measure_correlation(problem, Adam(beta1=0.0, beta2=0.9, phi="mean", blocks=(1, 4)), 20_000, seeds=range(2))
    one, four = c.per_block
    assert (one["size"], four["size"]) == (1, 4)
    for block, k in ((one, 1), (four, 4)):
        lo, hi = block["pearson_g2_v_ci"]
        assert lo <= math.sqrt((1 - 0.81) / k) <= hi
