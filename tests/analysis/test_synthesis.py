"""Counterexample synthesis: found and confirmed for Adam, impossible for AMSGrad."""

import math

import pytest

from adasim import Online, make_optimizer
from adasim.analysis.periodic import periodic_nuf
from adasim.analysis.synthesis import MARGIN, find_counterexample, wrong_way_map, wrong_way_ratio
from adasim.errors import AdasimError


@pytest.mark.parametrize(("beta1", "beta2"), [(0.9, 0.999), (0.0, 0.99), (0.5, 0.9)])
def test_adam_counterexample_is_found_and_confirmed(beta1, beta2):
    adam = make_optimizer("adam", beta1=beta1, beta2=beta2)
    cx = find_counterexample(adam)
    assert cx.found
    assert cx.ratio > 0
    p = cx.problem
    # the returned problem really has x* = −1 with the margin, and the closed form says "up"
    mean = (p.k * p.C - (p.d - p.k) * p.s) / p.d
    assert mean >= MARGIN * (p.k * p.C + (p.d - p.k) * p.s) / p.d * (1 - 1e-9)
    assert periodic_nuf(p, adam).drift > 0
    assert cx.confirmed
    assert cx.simulation["end_x"]["adam"] == pytest.approx(1.0, abs=0.1)
    assert cx.command().startswith("adasim run online --C ")
    data = cx.as_dict()
    assert data["found"] is True
    assert data["confirmed"] is True
    assert data["critical"]["beta2"]["critical"] > beta2  # Adam fails below its critical β2


def test_amsgrad_cannot_be_pushed_the_wrong_way_on_the_online_family():
    cx = find_counterexample(make_optimizer("amsgrad", beta1=0.9, beta2=0.999), simulate_check=False)
    assert not cx.found
    assert "running maximum" in cx.reason
    assert cx.as_dict()["search"][0]["evaluated"] > 1000


def test_sgd_is_never_wrong_way():
    rho, drift, mean = wrong_way_ratio(Online(C=5.0, d=3, k=1), make_optimizer("sgd"))
    assert rho == pytest.approx(-1.0)
    assert drift == pytest.approx(-mean)
    assert not find_counterexample(make_optimizer("sgd"), simulate_check=False).found


def test_wrong_way_map_marks_infeasible_cells():
    region = wrong_way_map(make_optimizer("adam", beta1=0.0, beta2=0.99), k=1, max_period=200, points=12)
    assert region["ratio"].shape == (len(region["periods"]), 12)
    assert math.isnan(region["ratio"][-1, 0])  # C = 1 with d = 200: the optimum is +1, not a candidate


def test_bad_input():
    with pytest.raises(AdasimError, match="family"):
        find_counterexample(make_optimizer("adam"), family="periodic")
    with pytest.raises(AdasimError, match="max period"):
        find_counterexample(make_optimizer("adam"), max_period=1)
    with pytest.raises(AdasimError, match="no steady state"):
        find_counterexample(make_optimizer("adagrad"))


@pytest.mark.slow
def test_rules_without_closed_form_are_screened_by_simulation():
    from pathlib import Path

    rule = Path(__file__).resolve().parents[2] / "examples" / "scale_rules.py"
    leaky = make_optimizer(f"{rule}:Leaky", beta1=0.0, beta2=0.5)
    cx = find_counterexample(leaky, max_period=100, simulate_check=False)
    assert cx.found
    assert cx.method == "simulation screening"
    assert "measured by simulation" in cx.reason
    assert f"-o {rule}:Leaky" in cx.command()
    assert cx.as_dict()["search"][0]["family"].startswith("online (simulation screening")
    max_rule = make_optimizer("adashift", v_rule="max", n=1, beta1=0.0, beta2=0.9)
    assert find_counterexample(max_rule, max_period=50, simulate_check=False).method == "simulation screening"
