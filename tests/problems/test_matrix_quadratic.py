"""The matrix quadratic ½‖W − W*‖²_F (adasim/problems/matrix_quadratic.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim import SGD, Domain, Schedule, simulate
from adasim.cli.app import app
from adasim.errors import AdasimError
from adasim.optimizers import make_optimizer
from adasim.problems import MatrixQuadratic, balls


def test_gradient_loss_and_target():
    problem = MatrixQuadratic(target="1,2,3,4,5,6", size=2)
    assert (problem.size, problem.cols) == (2, 3)
    x = np.array([[0.0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    target = np.arange(1.0, 7.0)
    np.testing.assert_array_equal(problem.gradient(x, 5, np.array([0, 1])), x - target)
    np.testing.assert_allclose(problem.loss(x, 1, np.zeros_like(x)), 0.5 * np.sum((x - target) ** 2, axis=1))
    np.testing.assert_array_equal(problem.optimum(), [target])
    assert MatrixQuadratic(target="1,2,3,4").shape == (2, 2)  # a square number of entries: m = n
    assert MatrixQuadratic(target="0,0,0,0,0,0", cols=3).shape == (2, 3)  # W* = 0 is a target like any other
    drawn = MatrixQuadratic(size=3, cols=2, vector_seed=4)
    np.testing.assert_array_equal(drawn.target_matrix(), MatrixQuadratic(size=3, cols=2, vector_seed=4).target_matrix())
    assert not np.allclose(drawn.target_matrix(), MatrixQuadratic(size=3, cols=2, vector_seed=5).target_matrix())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "1,2,3", "size": 2}, r"has 3 entries, but W is 2 × 1|has 3 entries"),
        ({"target": "1,2,3"}, "not a square: give --dim"),
        ({"target": "1,2,3,4", "size": 2, "cols": 3}, "has 4 entries, but W is 2 × 3"),
        ({"target": "1,nan,3,4"}, "must be finite"),
        ({"ball": "frobenius", "radius": 0.0}, "radius must lie"),
        ({"ball": "spectral", "domain": Domain(-1.0, 1.0)}, "use --domain none"),
        ({"size": 300}, "size"),
    ],
)
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(AdasimError, match=message) as err:
        MatrixQuadratic(**kwargs)
    assert "\n" not in str(err.value)


def test_sgd_with_a_constant_step_reaches_w_star_geometrically():
    problem = MatrixQuadratic(size=3, cols=2)
    target = problem.target_matrix()
    run = simulate(problem, SGD(lr=0.1), 200, x0=0.0, stride=1)
    for k in (1, 10, 50, 200):  # W_t − W* = (1 − α)^t (W_0 − W*)
        np.testing.assert_allclose(run.trace.x[run.trace.t == k][0, 0] - target, -(0.9**k) * target, rtol=1e-10, atol=1e-14)
    assert run.summary()["verdict"] == "optimum"
    assert run.average_regret[0] > 0


def test_exact_polar_muon_without_momentum_runs_the_sign_method_on_each_singular_value():
    """E_t = W_t − W* = U (Σ − α_t I) Vᵀ with the sign flipped where σ < α_t: every singular value
    runs σ ← |σ − α_t| on the same singular vectors."""
    problem = MatrixQuadratic(size=3, cols=4, vector_seed=1)
    target = problem.target_matrix().reshape(3, 4)
    muon = make_optimizer("muon", polar="exact", beta1=0.0, nesterov=False, lr=0.05)
    run = simulate(problem, muon, 120, x0=0.0, stride=1)
    sigma = np.linalg.svd(target, compute_uv=False)
    for t in range(1, 121):
        sigma = np.abs(sigma - 0.05)
        E = run.trace.x[run.trace.t == t][0, 0].reshape(3, 4) - target
        np.testing.assert_allclose(np.sort(np.linalg.svd(E, compute_uv=False)), np.sort(sigma), atol=1e-10)
    assert np.linalg.norm(E, ord=2) <= 0.05 + 1e-12  # a constant α: within α of W*, not at it


@pytest.mark.parametrize("name", ["sgd", "adam", "signsgd", "muon"])
def test_every_method_with_a_decaying_step_reaches_w_star(name):
    problem = MatrixQuadratic(size=2, cols=3, vector_seed=2)
    opt = make_optimizer(name, lr=0.3 if name == "sgd" else 0.05, schedule=Schedule("inv-sqrt"))
    run = simulate(problem, opt, 4000)
    assert np.linalg.norm(run.final_x - problem.optimum()) < 0.02
    assert problem.sweep_coordinate(run.final_x)[0] < 0.02


@pytest.mark.parametrize("ball", ["frobenius", "spectral"])
def test_with_a_ball_x_star_is_the_projection_of_w_star_and_sgd_reaches_it(ball):
    problem = MatrixQuadratic(size=2, cols=2, vector_seed=3, ball=ball, radius=0.5)
    target = problem.target_matrix()[None]
    np.testing.assert_allclose(problem.optimum(), balls.project(target, (2, 2), ball, 0.5))
    run = simulate(problem, SGD(lr=0.2), 300)
    np.testing.assert_allclose(run.final_x, problem.optimum(), atol=1e-9)
    box = MatrixQuadratic(target="2,-0.5,0.3,-3", domain=Domain(-1.0, 1.0))
    np.testing.assert_array_equal(box.optimum(), [[1.0, -0.5, 0.3, -1.0]])


def test_the_command_line_runs_it():
    result = CliRunner().invoke(app, ["run", "matrix-quadratic", "--target", "1,0,0,1", "--ball", "spectral", "--radius",
                                      "0.5", "-o", "sgd", "--lr", "0.1", "--steps", "500", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["problem"]["optimum"] == [0.5, 0.0, 0.0, 0.5]
    assert data["results"][0]["verdict"] == "optimum"
    assert math.isfinite(data["results"][0]["average_regret"])
