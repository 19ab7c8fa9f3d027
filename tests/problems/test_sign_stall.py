"""The sign-stall problem (adasim/problems/sign_stall.py): a convex nonsmooth 2 × 2 loss whose
subgradients make sign(G) and msign(G) traceless, so signSGD and Muon without momentum never
move tr W, while SGD converges."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adasim import SGD, Domain, Schedule, simulate
from adasim.cli.app import app
from adasim.errors import AdasimError
from adasim.ops import msign
from adasim.optimizers import make_optimizer
from adasim.problems import SignStall

D, J, K, I = (np.array(m, dtype=float) for m in ([[1, 0], [0, -1]], [[0, 1], [1, 0]], [[0, 1], [-1, 0]], [[1, 0], [0, 1]]))
SQRT = Schedule("inv-sqrt")


@pytest.mark.parametrize(
    ("W", "G", "f"),
    [
        # W row by row, the subgradient s D + r J + k K + δσ I (δ = ½, sign(0) = +1), f
        ([0, 0, 0, 0], [0.5, 2, 0, -1.5], 1.0),
        ([1, 0, 0, 1], [1.5, 2, 0, -0.5], 0.0),  # W* = I: every term at its kink
        ([2, 0, 0, 0], [1.5, 2, 0, -0.5], 2.0),  # d = 2, τ − 2 = 0
        ([0, 1, -3, 0], [0.5, 0, -2, -1.5], 0 + 2 + 4 + 1.0),  # j = −2, κ = 4: r = −1, k = +1
        ([-1, 0.5, 0.5, 3], [-0.5, 2, 0, 1.5], 4 + 1 + 0 + 0.0),  # d = −4, j = 1, τ = 2: σ = +1 at the kink
    ],
)
def test_gradient_and_loss_by_hand(W, G, f):
    problem = SignStall(slope=0.5)
    x = np.array([W], dtype=float)
    np.testing.assert_array_equal(problem.gradient(x, 1, np.array([0])), [G])
    assert problem.value(x)[0] == pytest.approx(f)
    assert problem.loss(x, 1, np.zeros_like(x))[0] == pytest.approx(f)  # the cells add up to f


points = st.lists(st.floats(-5, 5, allow_nan=False), min_size=4, max_size=4).map(lambda v: np.array([v]))


@settings(max_examples=100, deadline=None)
@given(points, points, st.floats(0.01, 0.99))
def test_the_oracle_is_a_subgradient_of_a_convex_f(x, z, slope):
    """f(z) ≥ f(x) + ⟨G(x), z − x⟩ for every z: G is a subgradient (kinks included), so f is convex."""
    problem = SignStall(slope=slope)
    g = problem.gradient(x, 1, np.array([0]))
    assert problem.value(z)[0] >= problem.value(x)[0] + np.sum(g * (z - x)) - 1e-9


@pytest.mark.parametrize("slope", [0.1, 0.5, 0.9])
def test_every_subgradient_has_a_traceless_sign_and_a_reflection_as_polar_factor(slope):
    """The stall's two facts, for all 16 sign patterns: sign(G)'s diagonal is (s, −s), and
    det G = δ² − 1 < 0, msign(G) = (s D + r J)/√2 (a reflection: trace 0)."""
    for s, r, k, sigma in itertools.product((1.0, -1.0), repeat=4):
        G = s * D + r * J + k * K + slope * sigma * I
        assert np.trace(np.sign(G)) == 0
        assert np.linalg.det(G) == pytest.approx(slope**2 - 1)
        polar = msign(G.reshape(1, 4), (2, 2)).reshape(2, 2)
        np.testing.assert_allclose(polar, (s * D + r * J) / math.sqrt(2), atol=1e-14)


def test_signsgd_never_moves_the_trace_and_stalls_at_2_delta():
    problem = SignStall(slope=0.5)
    run = simulate(problem, make_optimizer("signsgd", lr=0.1, schedule=SQRT), 3000, seeds=[0], stride=1)
    W = run.trace.x[:, 0]
    np.testing.assert_array_equal(W[:, 0] + W[:, 3], 0.0)  # w₁₁ = −w₂₂ exactly: tr W = 0 throughout
    f = problem.value(W)
    assert f.min() >= 1.0  # δ|0 − 2| = 2δ
    assert f[-1] == pytest.approx(1.0, abs=0.02)  # the other terms did descend


def test_muon_without_momentum_never_moves_the_trace_nor_k():
    problem = SignStall(slope=0.5)
    x0 = np.array([0.3, -0.2, 0.5, 0.1])  # tr W₀ = 0.4, ⟨K, W₀⟩ = −0.7
    muon = make_optimizer("muon", polar="exact", beta1=0.0, nesterov=False, lr=0.1, schedule=SQRT)
    run = simulate(problem, muon, 1500, x0=x0, stride=1)
    W = run.trace.x[:, 0]
    np.testing.assert_allclose(W[:, 0] + W[:, 3], 0.4, atol=1e-12)
    np.testing.assert_allclose(W[:, 1] - W[:, 2], -0.7, atol=1e-12)
    assert problem.value(W).min() >= 0.7 + 0.5 * 1.6 - 1e-9
    assert problem.value(W[-1:])[0] == pytest.approx(1.5, abs=0.02)


@pytest.mark.parametrize("x0", [0.0, np.array([0.3, -0.2, 0.5, 0.1]), np.array([-2.0, 1.0, 1.0, 3.0])])
def test_sgd_with_a_decaying_step_converges(x0):
    problem = SignStall(slope=0.5)
    run = simulate(problem, SGD(lr=0.1, schedule=SQRT), 3000, x0=x0)
    assert problem.value(run.final_x)[0] < 2 * 0.1 / math.sqrt(3000) * (3 + 0.25) + 1e-12  # f ≤ 2α_t(3 + δ²)
    assert run.summary()["verdict"] == "optimum"
    assert run.average_regret[0] > 0


def test_momentum_breaks_the_stall_as_measured():
    """Not derived (docs/REFERENCE.md §7): with β = 0.9 the alternating signs average below δ."""
    problem = SignStall(slope=0.5)
    for opt in (make_optimizer("signum", beta1=0.9, lr=0.1, schedule=SQRT),
                make_optimizer("muon", polar="exact", lr=0.1, schedule=SQRT)):  # fmt: skip
        assert problem.value(simulate(problem, opt, 3000).final_x)[0] < 0.05


def test_per_lane_slopes():
    slopes = np.array([0.2, 0.8])
    run = simulate(SignStall(slope=slopes), make_optimizer("signsgd", lr=0.1, schedule=SQRT), 500, seeds=[0, 0])
    for i, slope in enumerate(slopes):
        alone = simulate(SignStall(slope=float(slope)), make_optimizer("signsgd", lr=0.1, schedule=SQRT), 500)
        np.testing.assert_array_equal(run.final_x[i], alone.final_x[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slope": 0.0}, r"slope δ must lie in \(0, 1\)"),
        ({"slope": 1.0}, "slope δ must lie"),
        ({"slope": math.nan}, "slope δ must"),
        ({"domain": Domain(-0.5, 0.5)}, "W\\* = I must lie in the domain"),
    ],
)
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(AdasimError, match=message) as err:
        SignStall(**kwargs)
    assert "\n" not in str(err.value)


def test_the_command_line_runs_it():
    result = CliRunner().invoke(app, ["run", "sign-stall", "-o", "sgd", "-o", "signsgd", "--lr", "0.1", "--schedule",
                                      "inv-sqrt", "--steps", "2000", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["optimizer"]: r for r in json.loads(result.output)["results"]}
    assert rows["sgd"]["verdict"] == "optimum"
    assert rows["signsgd"]["verdict"] != "optimum"
    bad = CliRunner().invoke(app, ["run", "sign-stall", "--slope", "1.5", "-o", "sgd", "--steps", "10"])
    assert bad.exit_code == 2
    assert bad.output.strip().count("\n") == 0
