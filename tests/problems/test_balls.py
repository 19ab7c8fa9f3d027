"""Projection on a Frobenius or spectral ball of matrices (adasim/problems/balls.py), and the hook
the executors apply after the box's clip (Problem.project_lanes): NumPy, Python and foreign
executors apply it, the compiled one refuses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adasim import SGD, Domain, Schedule, Stochastic, simulate
from adasim.cli.app import app
from adasim.engine.foreign import StepperExecutor
from adasim.engine.layout import Layout
from adasim.engine.stream import iterate, make_executor
from adasim.errors import AdasimError
from adasim.optimizers import make_optimizer
from adasim.problems import MatrixQuadratic, RankOne, SignStall, balls
from adasim.problems.matrix import orthogonal

BALLS = ("frobenius", "spectral")


def frobenius(x, shape):
    return np.linalg.norm(np.asarray(x).reshape(-1, *shape), axis=(-2, -1))


def spectral(x, shape):
    return np.linalg.norm(np.asarray(x).reshape(-1, *shape), ord=2, axis=(-2, -1))


NORMS = {"frobenius": frobenius, "spectral": spectral}


@pytest.mark.parametrize(
    ("x", "shape", "ball", "r", "expected"),
    [
        ([[3.0, 4.0]], (1, 2), "frobenius", 1.0, [[0.6, 0.8]]),
        ([[3.0, 4.0]], (1, 2), "spectral", 1.0, [[0.6, 0.8]]),  # one row: both norms are the vector's
        ([[3.0, 0.0, 0.0, 0.5]], (2, 2), "spectral", 1.0, [[1.0, 0.0, 0.0, 0.5]]),  # diag(3, ½): σ clipped at 1
        ([[-2.0, 0.0, 0.0, 2.0]], (2, 2), "spectral", 1.0, [[-1.0, 0.0, 0.0, 1.0]]),  # the signs stay
        ([[-2.0, 0.0, 0.0, 2.0]], (2, 2), "frobenius", 1.0, [[-1 / math.sqrt(2), 0.0, 0.0, 1 / math.sqrt(2)]]),
        ([[0.3, 0.4], [3.0, 4.0]], (1, 2), "frobenius", 1.0, [[0.3, 0.4], [0.6, 0.8]]),  # the first lane is inside
        ([[3.0, 4.0], [3.0, 4.0]], (1, 2), "frobenius", np.array([1.0, 10.0]), [[0.6, 0.8], [3.0, 4.0]]),  # radius per lane
    ],
)
def test_projections_by_hand(x, shape, ball, r, expected):
    np.testing.assert_allclose(balls.project(np.array(x), shape, ball, r), expected, atol=1e-14)


matrices = st.tuples(st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda mn: st.tuples(
        st.just(mn),
        st.lists(st.floats(-10, 10, allow_nan=False), min_size=mn[0] * mn[1], max_size=mn[0] * mn[1]),
        st.floats(0.05, 5.0),
    )
)


@settings(max_examples=60, deadline=None)
@given(matrices, st.sampled_from(BALLS))
def test_the_projection_lands_in_the_ball_is_the_identity_inside_and_idempotent(case, ball):
    (m, n), entries, r = case
    x = np.array([entries])
    y = balls.project(x, (m, n), ball, r)
    norm = NORMS[ball]
    assert norm(y, (m, n))[0] <= r * (1 + 1e-12)
    np.testing.assert_allclose(balls.project(y, (m, n), ball, r), y, rtol=1e-12, atol=1e-14)  # idempotent
    if norm(x, (m, n))[0] <= r:
        assert balls.project(x, (m, n), ball, r) is x  # inside: the same floats, untouched
    # the Euclidean projection: ⟨x − Π x, z − Π x⟩ ≤ 0 for every z of the ball
    rng = np.random.default_rng(len(entries))
    for _ in range(5):
        z = balls.project(rng.standard_normal((1, m * n)) * 3, (m, n), ball, r)
        assert np.sum((x - y) * (z - y)) <= 1e-9 * (1 + np.sum(x * x))


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_frobenius_ball_inside_spectral_ball_inside_a_wider_frobenius_ball(case):
    """‖W‖₂ ≤ ‖W‖_F ≤ √min(m, n)·‖W‖₂: F-ball(r) ⊂ spectral ball(r) ⊂ F-ball(r√min(m, n))."""
    (m, n), entries, r = case
    x = np.array([entries])
    inside_f = balls.project(x, (m, n), "frobenius", r)
    np.testing.assert_allclose(balls.project(inside_f, (m, n), "spectral", r), inside_f, rtol=1e-12, atol=1e-14)
    inside_s = balls.project(x, (m, n), "spectral", r)
    assert frobenius(inside_s, (m, n))[0] <= r * math.sqrt(min(m, n)) * (1 + 1e-12)
    assert frobenius(inside_f, (m, n))[0] <= r * (1 + 1e-12)


@pytest.mark.parametrize("ball", BALLS)
def test_both_balls_are_orthogonally_invariant(ball):
    """Π(U W Vᵀ) = U Π(W) Vᵀ: what makes a ball, not a box, the constraint of a rotated problem."""
    U, V = orthogonal(3, 1), orthogonal(4, 2)
    W = np.random.default_rng(0).standard_normal((5, 3, 4)) * 2
    turned = (U @ W @ V.T).reshape(5, 12)
    np.testing.assert_allclose(balls.project(turned, (3, 4), ball, 1.5).reshape(5, 3, 4),
                               U @ balls.project(W.reshape(5, 12), (3, 4), ball, 1.5).reshape(5, 3, 4) @ V.T, atol=1e-12)  # fmt: skip


def test_a_lane_that_is_not_finite_is_left_as_it_is():
    x = np.array([[np.nan, 1.0, 2.0, 3.0], [3.0, 0.0, 0.0, 4.0]])
    for ball in BALLS:
        y = balls.project(x, (2, 2), ball, 1.0)
        np.testing.assert_array_equal(y[0], x[0])
        assert NORMS[ball](y[1:], (2, 2))[0] == pytest.approx(1.0)


@pytest.mark.parametrize("ball", BALLS)
def test_linear_minimiser_attains_the_dual_norm(ball):
    """min over the ball of ⟨M, W⟩ = −r‖M‖_F (Frobenius) or −r‖M‖_* (spectral)."""
    M = np.random.default_rng(3).standard_normal((4, 6))
    W = balls.linear_minimiser(M, (2, 3), ball, 2.0)
    mats = M.reshape(4, 2, 3)
    dual = np.linalg.norm(mats, axis=(-2, -1)) if ball == "frobenius" else np.linalg.norm(mats, ord="nuc", axis=(-2, -1))
    np.testing.assert_allclose(np.sum(M * W, axis=-1), -2.0 * dual, rtol=1e-12)
    np.testing.assert_allclose(NORMS[ball](W, (2, 3)), 2.0, rtol=1e-12)
    assert np.isnan(balls.linear_minimiser(np.zeros((1, 6)), (2, 3), ball, 1.0)).all()


@pytest.mark.parametrize(
    ("ball", "radius", "domain", "message"),
    [
        ("spectral", 0.0, Domain(-np.inf, np.inf), r"radius must lie in \(0, inf\)"),
        ("frobenius", -1.0, Domain(-np.inf, np.inf), "radius must lie"),
        ("frobenius", np.inf, Domain(-np.inf, np.inf), "radius must"),
        ("frobenius", np.nan, Domain(-np.inf, np.inf), "radius must"),
        ("nuclear", 1.0, Domain(-np.inf, np.inf), "ball"),
        ("spectral", 1.0, Domain(-1.0, 1.0), "use --domain none"),
    ],
)
def test_bad_balls_are_one_line_errors(ball, radius, domain, message):
    with pytest.raises(AdasimError, match=message) as err:
        balls.check_ball(ball, radius, domain)
    assert "\n" not in str(err.value)


# -- the executors' hook -------------------------------------------------------------------------

CASES = [
    (RankOne(u="1,2", v="1,-1,0.5", ball="spectral", radius=0.5), "adam", {"lr": 0.05}),
    (RankOne(u="1,2", v="1,-1,0.5", ball="frobenius", radius=0.5), "muon", {"lr": 0.05, "polar": "exact"}),
    (MatrixQuadratic(size=2, cols=3, ball="spectral", radius=0.5), "sgd", {"lr": 0.1}),
    (SignStall(), "signsgd", {"lr": 0.1}),
]


@pytest.mark.parametrize(("problem", "name", "hyper"), CASES, ids=lambda v: getattr(v, "name", None))
def test_numpy_and_python_executors_project_alike(problem, name, hyper):
    opt = make_optimizer(name, **hyper)
    runs = [simulate(problem, opt, 60, seeds=[0, 1], engine=e, stride=1) for e in ("numpy", "python")]
    np.testing.assert_allclose(runs[0].trace.x, runs[1].trace.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(runs[0].average_regret, runs[1].average_regret, rtol=1e-12, equal_nan=True)
    if problem.projection() is not None:
        norm = NORMS[problem.ball](runs[0].trace.x.reshape(-1, problem.dim), problem.shape)
        assert norm.max() <= problem.radius * (1 + 1e-12)
        assert norm.max() >= problem.radius * (1 - 1e-12)  # it did reach the ball: the projection acted


class NumpySGD:
    """A foreign stepper written here: SGD lane by lane, projected on the box, asking for the
    gradient at each step's x when the problem's gradient depends on x."""

    block = 16

    def __init__(self) -> None:
        self.calls = 0

    def run_block(self, x, G, alpha, lo, hi, t0, gradient=None):
        self.calls += 1
        us, xs = np.empty_like(G), np.empty_like(G)
        here = np.array(x)
        for b in range(len(G)):
            if gradient is not None:
                G[b] = gradient(t0 + b, here)
            us[b] = alpha[b] * G[b]
            here = xs[b] = np.minimum(np.maximum(here - us[b], lo), hi)
        return us, xs


@pytest.mark.parametrize("problem", [RankOne(u="1,2", v="3,1,1", ball="spectral", radius=0.3),
                                     MatrixQuadratic(size=2, ball="frobenius", radius=0.5)], ids=lambda p: p.name)  # fmt: skip
def test_the_foreign_executor_projects_each_step_as_numpy_does(problem):
    opt = SGD(lr=0.2, schedule=Schedule("inv-sqrt"))
    layout = Layout.build(problem, opt, np.arange(2), 0.0)
    stepper = NumpySGD()
    foreign = list(iterate(problem, opt, 40, executor=StepperExecutor(layout, stepper, ("x", "step"), True, ("x",)), regret=True))
    ours = list(iterate(problem, opt, 40, seeds=np.arange(2), engine="numpy", fields=("x", "step"), regret=True))
    assert stepper.calls == 40  # one call per step: the ball is applied between calls
    x_foreign = np.concatenate([b.x for b in foreign])
    np.testing.assert_allclose(x_foreign, np.concatenate([b.x for b in ours]), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(foreign[-1].loss_end, ours[-1].loss_end, rtol=1e-12)
    assert NORMS[problem.ball](x_foreign[-1], problem.shape).max() <= problem.radius * (1 + 1e-12)


@pytest.mark.slow  # importing torch takes seconds
def test_torch_sgd_through_the_foreign_executor_is_projected_too():
    pytest.importorskip("torch")
    import torch

    from adasim.checks.adapters import TorchStepper

    problem = RankOne(u="1,2", v="3,1,1", ball="frobenius", radius=0.3)
    opt = SGD(lr=0.2)
    layout = Layout.build(problem, opt, np.arange(2), 0.0)
    stepper = TorchStepper(torch.optim.SGD, layout.x0, 0.2, {})
    foreign = list(iterate(problem, opt, 30, executor=StepperExecutor(layout, stepper, ("x",), True, ("x",))))
    ours = list(iterate(problem, opt, 30, seeds=np.arange(2), engine="numpy", fields=("x",)))
    np.testing.assert_allclose(foreign[-1].x, ours[-1].x, rtol=1e-13, atol=1e-15)


@dataclass(frozen=True, eq=False)
class BallStochastic(Stochastic):
    """A problem with an elementwise kernel (so the compiled engine could run it) that also
    projects: the compiled executor must refuse it rather than skip the projection."""

    def projection(self):
        return "the interval [−½, ½]"

    def project_lanes(self, x):
        return np.clip(x, -0.5, 0.5)


def test_the_compiled_executor_refuses_a_problem_that_projects():
    pytest.importorskip("numba")
    problem = BallStochastic(C=10.0, s=1.0, p=0.2)
    layout = Layout.build(problem, SGD(lr=0.1), [0], 0.0)
    with pytest.raises(
        AdasimError, match=r"compiled engine cannot run this: the problem .stochastic. projects every step on"
    ) as err:
        make_executor(layout, "compiled")
    assert "\n" not in str(err.value)
    run = simulate(problem, SGD(lr=0.1), 200, engine="numpy")  # the NumPy executor applies it
    assert np.abs(run.trace.x).max() == 0.5


def test_the_command_line_refuses_the_compiled_engine_with_a_ball_in_one_line():
    result = CliRunner().invoke(app, ["run", "rank-one", "--ball", "spectral", "--engine", "compiled", "-o", "sgd",
                                      "--steps", "10"])  # fmt: skip
    assert result.exit_code == 2
    assert "compiled engine cannot run this" in result.output
    assert result.output.strip().count("\n") == 0


def test_the_regret_on_a_ball_compares_with_the_balls_minimiser():
    """Unrotated, the spectral ball of radius 1 is the box [−1, 1] on W's diagonal (off it the
    gradient is 0), and min ⟨Σ G, W⟩ = −‖Σ G‖_* = −Σ|Σ s_i| is the box's: the two runs have the
    same regret (before, a ball's regret was NaN)."""
    import numpy as np

    from adasim import Domain, Matrix, make_optimizer, simulate

    free = Domain(-np.inf, np.inf)
    ball = simulate(Matrix(size=3, ball="spectral", radius=1.0, domain=free), make_optimizer("sgd", lr=0.01), 3000,
                    seeds=[0, 1], engine="numpy")  # fmt: skip
    box = simulate(Matrix(size=3), make_optimizer("sgd", lr=0.01), 3000, seeds=[0, 1], engine="numpy")
    np.testing.assert_allclose(ball.average_regret, box.average_regret, rtol=1e-12)
    assert np.isfinite(ball.average_regret).all()
