"""The matrix problem (adasim/problems/matrix.py): m copies of a counterexample on W's diagonal,
seen directly or behind fixed orthogonal U, V."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim import SGD, Domain, Matrix, Online, Stochastic, simulate
from adasim.cli.app import app
from adasim.errors import AdasimError
from adasim.optimizers import make_optimizer
from adasim.problems.matrix import orthogonal


def test_the_diagonal_holds_independent_copies_of_the_scalar_problem():
    """Each diagonal entry is a stochastic counterexample with its own stream: the frequency of
    the spike is p on every copy, the copies are uncorrelated, and off the diagonal g = 0."""
    problem = Matrix(size=3, C=10.0, p=0.2)
    seeds = np.arange(400)
    draws = np.stack([problem.gradient(np.zeros((400, 9)), t, seeds).reshape(400, 3, 3) for t in range(1, 51)])
    off = draws.copy()
    off[..., np.arange(3), np.arange(3)] = 0.0
    assert not off.any()
    diag = np.diagonal(draws, axis1=-2, axis2=-1)  # (T, L, 3)
    assert set(np.unique(diag)) == {-1.0, 10.0}
    spikes = (diag == 10.0).mean(axis=(0, 1))
    np.testing.assert_allclose(spikes, 0.2, atol=0.015)  # 20 000 draws per copy
    corr = np.corrcoef(diag.reshape(-1, 3).T)
    assert np.max(np.abs(corr - np.eye(3))) < 0.03


def test_the_rotated_gradient_is_u_diag_v_transposed_of_the_same_draws():
    flat, turned = Matrix(size=4), Matrix(size=4, rotate=True)
    U, V = turned.rotations()
    np.testing.assert_allclose(U @ U.T, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(V.T @ V, np.eye(4), atol=1e-12)
    x, seeds = np.zeros((2, 16)), np.array([5, 6])
    for t in (1, 2, 77):
        d = flat.gradient(x, t, seeds).reshape(2, 4, 4)
        r = turned.gradient(x, t, seeds).reshape(2, 4, 4)
        np.testing.assert_allclose(r, U @ d @ V.T, atol=1e-12)


def test_an_online_base_shifts_each_copy_by_its_index():
    problem = Matrix(size=3, base="online", C=5.0, d=3, k=1)
    g = np.stack([np.diag(problem.gradient(np.zeros((1, 9)), t, np.array([0])).reshape(3, 3)) for t in range(1, 4)])
    unit = [Online(C=5.0, d=3, k=1).gradient(np.zeros((1, 1)), t, np.array([0]))[0, 0] for t in range(1, 6)]
    for i in range(3):
        np.testing.assert_array_equal(g[:, i], unit[i : i + 3])


def test_optimum_and_domain():
    flat = Matrix(size=2)
    np.testing.assert_array_equal(flat.optimum(), [[-1.0, 0.0, 0.0, -1.0]])  # E s > 0: x* = −1 on the diagonal
    assert flat.domain == Domain(-1.0, 1.0)
    assert flat.block_sizes() == (2, 2)
    turned = Matrix(size=2, rotate=True)
    assert turned.domain.unconstrained
    assert np.isnan(turned.optimum()).all()
    assert turned.sweep_optimum()[0] == -np.inf
    assert Matrix(size=2, base="online", C=1.0, d=3, k=1).mean_gradient()[0] < 0  # (1 − 2)/3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0}, r"size must lie in \[1, 256\]"),
        ({"size": 2.5}, "size"),
        ({"base": "finite"}, "base"),
        ({"p": 1.5}, "p must lie"),
        ({"C": np.array([1.0, 2.0])}, "one number for every lane"),
        ({"rotate": True, "domain": Domain(-1.0, 1.0)}, "unconstrained"),
    ],
)
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(AdasimError, match=message) as err:
        Matrix(**kwargs)
    assert "\n" not in str(err.value)


def test_sgd_is_the_scalar_run_on_each_diagonal_copy():
    """A coordinate-wise method on the unrotated problem is m scalar runs (here SGD, with the
    copy's stream): its diagonal ends where the scalar problem's mean gradient pushes it."""
    run = simulate(Matrix(size=3), SGD(lr=0.01), 3000, seeds=[0, 1])
    x = run.final_x.reshape(2, 3, 3)
    np.testing.assert_array_equal(x[:, [0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]], 0.0)
    assert run.summary()["verdict"] == "optimum"
    assert Stochastic(C=10.0, p=0.2).mean_gradient() > 0


def test_the_command_line_runs_it_and_reads_y_when_rotated():
    result = CliRunner().invoke(app, ["run", "matrix", "--dim", "3", "--rotate", "-o", "sgd", "--steps", "4000", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["problem"]["domain"] == [None, None]  # rotated: unconstrained by default
    row = data["results"][0]
    assert row["y"] < 0
    assert row["verdict"] == "toward x*"
    bad = CliRunner().invoke(app, ["run", "matrix", "--rotate", "--domain", "-1,1", "-o", "sgd", "--steps", "10"])
    assert bad.exit_code == 2
    assert "unconstrained" in bad.output


def test_orthogonal_is_fixed_by_its_seed():
    np.testing.assert_array_equal(orthogonal(3, 7), orthogonal(3, 7))
    assert not np.allclose(orthogonal(3, 7), orthogonal(3, 8))


# -- a ball in place of the box ------------------------------------------------------------------


def test_with_a_ball_the_domain_is_free_and_x_star_is_on_the_ball():
    for rotate in (False, True):
        problem = Matrix(size=3, rotate=rotate, ball="spectral", radius=2.0)
        U, V = problem.rotations()
        assert problem.domain.unconstrained
        np.testing.assert_allclose(problem.optimum(), -2.0 * (U @ V.T).reshape(1, -1), atol=1e-15)  # E s > 0
        np.testing.assert_allclose(problem.worst(), 2.0 * (U @ V.T).reshape(1, -1), atol=1e-15)
        assert problem.sweep_optimum()[0] == pytest.approx(-2.0)
        assert problem.sweep_coordinate(problem.optimum())[0] == pytest.approx(-2.0)
        frob = problem.replace(ball="frobenius")
        np.testing.assert_allclose(frob.optimum(), -2.0 / np.sqrt(3) * (U @ V.T).reshape(1, -1), atol=1e-15)
        assert frob.sweep_optimum()[0] == pytest.approx(-2.0 / np.sqrt(3))
    with pytest.raises(AdasimError, match="use --domain none"):
        Matrix(ball="frobenius", domain=Domain(-1.0, 1.0))
    with pytest.raises(AdasimError, match="radius must lie"):
        Matrix(ball="frobenius", radius=0.0)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_the_spectral_ball_is_the_box_on_a_diagonal_w(name):
    """Unrotated, every iterate of a coordinate-wise method is diagonal, and clipping its singular
    values at r clips each |W_ii| at r: the same run as with the box [−r, r]."""
    opt = make_optimizer(name, lr=0.02)
    ball = simulate(Matrix(size=3, ball="spectral", radius=1.0), opt, 800, seeds=[0, 1])
    box = simulate(Matrix(size=3), opt, 800, seeds=[0, 1])
    np.testing.assert_allclose(ball.final_x, box.final_x, atol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "muon"])
def test_rotated_with_a_spectral_ball_is_the_unrotated_box_run_seen_through_u_and_v(name):
    """Equivariant method, invariant ball: the rotated constrained run is U (unrotated run) Vᵀ."""
    opt = make_optimizer(name, lr=0.02, **({"polar": "exact", "nesterov": False} if name == "muon" else {}))
    turned = Matrix(size=3, rotate=True, ball="spectral", radius=1.0)
    run = simulate(turned, opt, 800, seeds=[0, 1])
    box = simulate(Matrix(size=3), opt, 800, seeds=[0, 1])
    np.testing.assert_allclose(turned.to_y(run.final_x), np.diagonal(box.final_x.reshape(2, 3, 3), axis1=1, axis2=2), atol=1e-9)
