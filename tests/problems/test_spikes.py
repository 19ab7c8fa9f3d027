"""The rank-one and rank-two spike streams (adasim/problems/spikes.py): gradients against their
formulas, the documented outcomes (docs/REFERENCE.md §7) on short runs, and bad input."""

from __future__ import annotations

import csv
import json
import math
import shlex

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adasim import SGD, Domain, Stochastic, simulate
from adasim.cli.app import app
from adasim.errors import AdasimError
from adasim.optimizers import make_optimizer
from adasim.problems import RankOne, RankTwo, make_problem
from adasim.settings import run_command

runner = CliRunner()
FREE = Domain(-np.inf, np.inf)


def scalar_gradients(steps, seeds, C=10.0, s=1.0, p=0.2):
    """The stochastic problem's g_t, (T, L)."""
    problem = Stochastic(C=C, s=s, p=p)
    return np.stack([problem.gradient(np.zeros((len(seeds), 1)), t, seeds)[:, 0] for t in range(1, steps + 1)])


# -- rank-one: the gradient --------------------------------------------------------------------


def test_rank_one_gradient_is_c_u_v_transposed_on_the_scalar_problems_stream():
    problem = RankOne(u="3,4", v="1,2,2")
    u, v = np.array([0.6, 0.8]), np.array([1.0, 2.0, 2.0]) / 3
    np.testing.assert_allclose(problem.vectors[0], u, rtol=1e-15)
    np.testing.assert_allclose(problem.vectors[1], v, rtol=1e-15)
    assert (problem.size, problem.cols, problem.dim, problem.block_sizes()) == (2, 3, 6, (3, 3))
    seeds = np.arange(5)
    c = scalar_gradients(40, seeds)
    for t in range(1, 41):
        g = problem.gradient(np.zeros((5, 6)), t, seeds)
        np.testing.assert_array_equal(problem.spikes(t, seeds), c[t - 1])  # bit for bit the scalar stream
        np.testing.assert_allclose(g, c[t - 1][:, None] * np.outer(u, v).reshape(1, 6), rtol=1e-15)


def test_drawn_vectors_are_unit_fixed_by_their_seed_and_drawn_apart():
    a, b = RankOne(size=3, cols=5, vector_seed=7), RankOne(size=3, cols=5, vector_seed=8)
    for u in (*a.vectors, *b.vectors):
        assert np.linalg.norm(u) == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_array_equal(a.vectors[0], RankOne(size=3, cols=5, vector_seed=7).vectors[0])
    assert not np.allclose(a.vectors[0], b.vectors[0])
    half = RankOne(size=3, cols=5, vector_seed=7, u="1,0,0")  # a given u leaves the drawn v as it was
    np.testing.assert_array_equal(half.vectors[1], a.vectors[1])


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (RankOne, {"u": "1,2", "size": 3}, r"u \(--left\) has 2 entries, but W has 3 rows"),
        (RankOne, {"v": "1,2", "cols": 3}, r"v \(--right\) has 2 entries, but W has 3 columns"),
        (RankOne, {"u": "0,0,0"}, "zero vector"),
        (RankOne, {"v": [0.0, 0.0]}, "zero vector"),
        (RankOne, {"u": "1,inf"}, "must be finite"),
        (RankOne, {"u": "1,nan"}, "must be finite"),
        (RankOne, {"u": "1,x"}, "must be numbers"),
        (RankOne, {"u": [[1.0, 2.0]]}, "vector"),
        (RankOne, {"ball": "spectral", "radius": 0.0}, "radius must lie"),
        (RankOne, {"ball": "frobenius", "radius": -2.0}, "radius must lie"),
        (RankOne, {"ball": "spectral", "domain": Domain(-1.0, 1.0)}, "use --domain none"),
        (RankOne, {"ball": "round"}, "ball"),
        (RankOne, {"p": 1.5}, "p must lie"),
        (RankOne, {"size": 0}, "size"),
        (RankOne, {"C": -1.0}, "C must lie"),
        (RankTwo, {"theta": math.inf}, "theta must be finite"),
        (RankTwo, {"theta": math.nan}, "theta must be finite"),
        (RankTwo, {"size": 1}, "size"),
        (RankTwo, {"cols": 1}, "cols"),
        (RankTwo, {"ball": "spectral", "radius": 0.0}, "radius must lie"),
    ],
)
def test_bad_settings_are_one_line_errors(cls, kwargs, message):
    with pytest.raises(AdasimError, match=message) as err:
        cls(**kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "args",
    [
        ["rank-one", "--left", "1,2", "--dim", "3"],
        ["rank-one", "--right", "0,0,0,0"],
        ["rank-one", "--ball", "frobenius", "--radius", "0"],
        ["rank-one", "--ball", "spectral", "--domain", "-1,1"],
        ["rank-two", "--theta", "nan"],
        ["rank-two", "--dim", "1"],
    ],
)
def test_bad_input_on_the_command_line_is_one_line_exit_2(args):
    result = runner.invoke(app, ["run", *args, "-o", "sgd", "--steps", "10"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("adasim: error:")
    assert result.output.strip().count("\n") == 0


# -- rank-one: the outcomes --------------------------------------------------------------------


@pytest.mark.parametrize("ball", ["frobenius", "spectral"])
def test_sgd_on_rank_one_is_scalar_sgd_along_y(ball):
    """W stays y·u vᵀ, and either ball clips y at r, as the box clips x."""
    problem = RankOne(u="1,2", v="3,1,1", ball=ball, radius=0.5)
    seeds = np.arange(4)
    run = simulate(problem, SGD(lr=0.01), 1500, seeds=seeds, stride=1)
    ref = simulate(Stochastic(C=10.0, s=1.0, p=0.2, domain=Domain(-0.5, 0.5)), SGD(lr=0.01), 1500, seeds=seeds, stride=1)
    y = problem.sweep_coordinate(run.trace.x)
    np.testing.assert_allclose(y, ref.trace.x[..., 0], atol=1e-12)
    np.testing.assert_allclose(run.trace.x, y[..., None] * problem.direction(), atol=1e-12)  # on the line of u vᵀ


@pytest.mark.parametrize(("u", "v"), [("0.6,0.8,0", "0,1,0,0"), ("3,4", "1,0")])
@pytest.mark.parametrize("ball", ["frobenius", "spectral"])
@pytest.mark.parametrize("beta", [0.0, 0.9])
def test_exact_polar_muon_on_rank_one_is_signum_along_y(u, v, ball, beta):
    """B_t = b_t u vᵀ, msign(b u vᵀ) = sign(b) u vᵀ: y moves as Signum with β = μ (no Nesterov;
    the shape scale is 1 for m ≤ n). The vectors here have exact zeros: for dense u, v the SVD's
    rounding can leave a second singular value just above msign's cut-off (docs/REFERENCE.md §7)."""
    problem = RankOne(u=u, v=v, ball=ball, radius=1.0)
    seeds = np.arange(4)
    muon = make_optimizer("muon", polar="exact", nesterov=False, beta1=beta, lr=0.01)
    run = simulate(problem, muon, 1200, seeds=seeds, stride=1)
    ref = simulate(Stochastic(C=10.0, s=1.0, p=0.2), make_optimizer("signum", beta1=beta, lr=0.01), 1200, seeds=seeds, stride=1)
    np.testing.assert_allclose(problem.sweep_coordinate(run.trace.x), ref.trace.x[..., 0], atol=1e-12)


def test_adam_with_eps_0_moves_each_entry_as_scalar_adam_times_the_sign_pattern():
    """Entry (i, j) sees c_t·u_i v_j: W_t = z_t sign(u) sign(v)ᵀ with z_t scalar Adam's path, and
    y_t = z_t ‖u‖₁‖v‖₁."""
    problem = RankOne(size=3, cols=4, vector_seed=2)
    u, v = problem.vectors
    S = np.outer(np.sign(u), np.sign(v)).reshape(-1)
    seeds = np.arange(3)
    adam = make_optimizer("adam", lr=0.01, eps=0.0)
    run = simulate(problem, adam, 1500, seeds=seeds)
    z = simulate(Stochastic(C=10.0, s=1.0, p=0.2, domain=FREE), adam, 1500, seeds=seeds).final_x
    np.testing.assert_allclose(run.final_x, z * S, rtol=1e-10)
    np.testing.assert_allclose(problem.sweep_coordinate(run.final_x), z[:, 0] * np.abs(u).sum() * np.abs(v).sum(), rtol=1e-10)


@pytest.mark.parametrize("ball", ["frobenius", "spectral"])
def test_adam_under_a_ball_is_scalar_adam_in_the_box_of_half_width_r_over_root_mn(ball):
    """‖S‖_F = ‖S‖₂ = √(mn) for S = sign(u) sign(v)ᵀ: the ball clips z at r/√(mn), so y ends at
    best at −r‖u‖₁‖v‖₁/√(mn), short of y* = −r."""
    problem = RankOne(size=2, cols=3, vector_seed=5, ball=ball, radius=0.6)
    u, v = problem.vectors
    S = np.outer(np.sign(u), np.sign(v)).reshape(-1)
    half = 0.6 / math.sqrt(6)
    adam = make_optimizer("adam", lr=0.01, eps=0.0)
    run = simulate(problem, adam, 1500, seeds=[0, 1])
    z = simulate(Stochastic(C=10.0, s=1.0, p=0.2, domain=Domain(-half, half)), adam, 1500, seeds=[0, 1]).final_x
    np.testing.assert_allclose(run.final_x, z * S, rtol=1e-10, atol=1e-13)
    assert problem.sweep_optimum()[0] == pytest.approx(-0.6)
    assert np.abs(u).sum() * np.abs(v).sum() / math.sqrt(6) < 1  # Adam's best y is above y* = −r


def test_rank_one_optimum_worst_and_y_star():
    u, v = np.array([0.6, 0.8]), np.array([1.0, -2.0, 2.0]) / 3
    uv = np.outer(u, v).reshape(1, -1)
    ball = RankOne(u="3,4", v="1,-2,2", ball="frobenius", radius=2.0)
    np.testing.assert_allclose(ball.optimum(), -2.0 * uv)
    np.testing.assert_allclose(ball.worst(), 2.0 * uv)
    assert ball.sweep_optimum()[0] == pytest.approx(-2.0)
    flipped = ball.replace(p=0.05)  # E c = 0.5 − 0.95 < 0
    np.testing.assert_allclose(flipped.optimum(), 2.0 * uv)
    free = RankOne(u="3,4", v="1,-2,2")
    assert np.isnan(free.optimum()).all()
    assert free.sweep_optimum()[0] == -np.inf
    box = RankOne(u="3,4", v="1,-2,2", domain=Domain(-1.0, 1.0))
    np.testing.assert_array_equal(box.optimum(), -np.sign(uv))
    assert box.sweep_optimum()[0] == pytest.approx(-np.abs(u).sum() * np.abs(v).sum())
    lanes = RankOne(u="3,4", v="1,-2,2", ball="spectral", radius=np.array([1.0, 3.0]))
    np.testing.assert_allclose(lanes.optimum(), -np.array([[1.0], [3.0]]) * uv)


def test_the_command_line_runs_rank_one_and_reads_y():
    result = runner.invoke(app, ["run", "rank-one", "--dim", "3", "-o", "sgd", "--steps", "3000", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["problem"]["domain"] == [None, None]
    row = data["results"][0]
    assert row["y"] < 0
    assert row["verdict"] == "toward x*"
    result = runner.invoke(app, ["run", "rank-one", "--left", "1,1", "--right", "1,0,1", "--ball", "spectral",
                                 "-o", "sgd", "--lr", "0.01", "--steps", "3000", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["results"][0]["verdict"] == "optimum"


def test_the_printed_command_reproduces_a_rank_one_run_with_given_vectors():
    problem = make_problem("rank-one", u="3,4", v="1,2,2", ball="spectral", radius=0.5, p=0.3)
    opt = SGD(lr=0.01)
    line = run_command(problem, [opt], {"steps": 300, "seeds": 2})
    assert "--left 3,4 --right 1,2,2" in line
    result = runner.invoke(app, [*shlex.split(line)[1:], "--json"])
    assert result.exit_code == 0, (line, result.output)
    summary = json.loads(result.output)
    run = simulate(problem, opt, 300, seeds=np.arange(2))
    np.testing.assert_array_equal(summary["results"][0]["final_x"], np.median(run.final_x, axis=0))


# -- rank-two ------------------------------------------------------------------------------------


def test_rank_two_frame_and_gradient():
    problem = RankTwo(size=3, cols=4, theta=0.7)
    u1, up, v1, vp = problem.frame
    np.testing.assert_allclose(np.array([[u1 @ u1, u1 @ up], [up @ u1, up @ up]]), np.eye(2), atol=1e-15)
    np.testing.assert_allclose(np.array([[v1 @ v1, v1 @ vp], [vp @ v1, vp @ vp]]), np.eye(2), atol=1e-15)
    u2, v2 = math.cos(0.7) * u1 + math.sin(0.7) * up, math.cos(0.7) * v1 + math.sin(0.7) * vp
    seeds = np.arange(300)
    a_all, b_all = [], []
    for t in range(1, 21):
        a, b = problem.streams(t, seeds)
        g = problem.gradient(np.zeros((300, 12)), t, seeds)
        np.testing.assert_allclose(g, (a[:, None, None] * np.outer(u1, v1) + b[:, None, None] * np.outer(u2, v2)).reshape(300, 12),
                                   atol=1e-14)  # fmt: skip
        a_all.append(a)
        b_all.append(b)
    a_all, b_all = np.array(a_all), np.array(b_all)
    np.testing.assert_array_equal(a_all, scalar_gradients(20, seeds))  # a: the scalar problem's stream
    assert abs(np.corrcoef(a_all.ravel(), b_all.ravel())[0, 1]) < 0.05  # b: an independent one
    assert set(np.unique(b_all)) == {-1.0, 10.0}


def test_at_theta_0_one_rank_one_stream_of_a_plus_b_and_at_a_right_angle_two_apart():
    seeds = np.arange(6)
    flat = RankTwo(size=3, theta=0.0)
    u1, up, v1, vp = flat.frame
    square = RankTwo(size=3, theta=math.pi / 2)
    for t in (1, 2, 3, 50):
        a, b = flat.streams(t, seeds)
        g = flat.gradient(np.zeros((6, 9)), t, seeds).reshape(6, 3, 3)
        np.testing.assert_allclose(g, (a + b)[:, None, None] * np.outer(u1, v1), atol=1e-14)
        G = square.gradient(np.zeros((6, 9)), t, seeds).reshape(6, 3, 3)
        np.testing.assert_allclose(np.sort(np.linalg.svd(G, compute_uv=False)[:, :2], axis=1),
                                   np.sort(np.abs(np.stack([a, b], axis=1)), axis=1), rtol=1e-12)  # fmt: skip
        np.testing.assert_allclose(G @ v1, a[:, None] * u1, atol=1e-13)  # (u₁, v₁) and (u⊥, v⊥): singular pairs
        np.testing.assert_allclose(G @ vp, b[:, None] * up, atol=1e-13)


def muon_step_values(a, b, theta):
    """Δy₁/(−α), Δy₂/(−α) of exact-polar Muon without momentum for draws (a, b) (the module text)."""
    same = a * b > 0
    delta = np.sqrt((a + b) ** 2 - 4 * a * b * math.sin(theta) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        y1 = np.where(same, np.sign(a), (a + b * math.cos(2 * theta)) / delta)
        y2 = np.where(same, np.sign(a), (b + a * math.cos(2 * theta)) / delta)
    return y1, y2


@pytest.mark.parametrize("theta", [0.3, math.pi / 4, 1.2, math.pi / 2])
def test_exact_polar_muon_without_momentum_steps_by_the_closed_form(theta):
    """Step by step: sign(a) on both when ab > 0, the reflection (2M − tr M·I)/Δ when ab < 0."""
    problem = RankTwo(size=2, theta=theta, p=0.4)
    seeds = np.arange(4)
    muon = make_optimizer("muon", polar="exact", nesterov=False, beta1=0.0, lr=0.01)
    run = simulate(problem, muon, 400, seeds=seeds, stride=1)
    draws = [problem.streams(t, seeds) for t in range(1, 401)]
    steps = np.array([muon_step_values(a, b, theta) for a, b in draws])  # (T, 2, L)
    predicted = -0.01 * np.cumsum(steps, axis=0).transpose(0, 2, 1)  # (T, L, 2)
    np.testing.assert_allclose(problem.coordinates(run.trace.x), predicted, atol=1e-11)


@settings(max_examples=80, deadline=None)
@given(st.floats(0.01, 0.99), st.floats(0.1, 5.0), st.floats(1.01, 50.0), st.floats(0.001, math.pi / 2))
def test_muon_drift_is_the_mean_of_the_four_cases(p, s, ratio, theta):
    C = s * ratio
    problem = RankTwo(size=2, C=C, s=s, p=p, theta=theta)
    values = np.array([C, -s])
    probs = np.array([p, 1 - p])
    a, b = np.meshgrid(values, values, indexing="ij")
    y1, y2 = muon_step_values(a, b, theta)
    weights = np.outer(probs, probs)
    assert problem.muon_drift()[0] == pytest.approx(np.sum(weights * y1), abs=1e-12)
    assert problem.muon_drift()[0] == pytest.approx(np.sum(weights * y2), abs=1e-12)


def test_muon_drift_limits_and_the_angle_that_decides():
    """θ = π/2: signSGD's 2p − 1; θ = 0: 1 − 2(1 − p)², the sign of a + b. For p = 0.4, C = 10
    the right way at θ = 0 and the wrong way at π/2."""
    p = 0.4
    at = {th: RankTwo(p=p, theta=th).muon_drift()[0] for th in (0.0, math.pi / 2)}
    assert at[math.pi / 2] == pytest.approx(2 * p - 1)
    assert at[0.0] == pytest.approx(1 - 2 * (1 - p) ** 2)
    drifts = RankTwo(p=p, theta=np.linspace(0, math.pi / 2, 50)).muon_drift()
    assert np.all(np.diff(drifts) < 0)  # monotone in θ
    assert drifts[0] > 0 > drifts[-1]


@pytest.mark.parametrize("theta", [0.3, math.pi / 2])
def test_muon_drift_on_a_short_run(theta):
    problem = RankTwo(size=2, theta=theta, p=0.4)
    seeds = np.arange(16)
    run = simulate(problem, make_optimizer("muon", polar="exact", nesterov=False, beta1=0.0, lr=0.01), 800, seeds=seeds)
    per_step = problem.coordinates(run.final_x) / (-0.01 * 800)  # (L, 2)
    se = per_step.std() / math.sqrt(per_step.size)
    assert abs(per_step.mean() - problem.muon_drift()[0]) < 4 * se + 1e-3


def test_sgd_on_rank_two_moves_y_by_a_plus_b_cos_squared():
    theta = 0.9
    problem = RankTwo(size=3, cols=2, theta=theta)
    seeds = np.arange(3)
    run = simulate(problem, SGD(lr=0.01), 300, seeds=seeds)
    a, b = np.array([problem.streams(t, seeds) for t in range(1, 301)]).sum(axis=0)
    c2 = math.cos(theta) ** 2
    np.testing.assert_allclose(problem.coordinates(run.final_x), -0.01 * np.stack([a + b * c2, a * c2 + b], axis=1), atol=1e-12)


@pytest.mark.parametrize("theta", [0.4, math.pi / 2])
def test_rank_two_optimum_with_a_ball(theta):
    spectral = RankTwo(size=3, theta=theta, ball="spectral", radius=2.0)
    u1, up, v1, vp = spectral.frame
    np.testing.assert_allclose(spectral.optimum(), -2.0 * (np.outer(u1, v1) + np.outer(up, vp)).reshape(1, -1), atol=1e-12)
    assert spectral.sweep_optimum()[0] == pytest.approx(-2.0)
    frob = spectral.replace(ball="frobenius")
    assert frob.sweep_optimum()[0] == pytest.approx(-math.sqrt(2 + 2 * math.cos(theta) ** 2))  # −(r/2)‖S‖_F
    np.testing.assert_allclose(frob.worst(), -frob.optimum(), atol=1e-15)


def test_per_lane_theta_is_each_angle_on_its_own():
    thetas = np.array([0.0, 0.8, math.pi / 2])
    lanes = RankTwo(size=2, theta=thetas, p=0.4)
    opt = make_optimizer("muon", polar="exact", nesterov=False, beta1=0.0, lr=0.01)
    run = simulate(lanes, opt, 200, seeds=[5, 5, 5])
    for i, th in enumerate(thetas):
        alone = simulate(RankTwo(size=2, theta=float(th), p=0.4), opt, 200, seeds=[5])
        np.testing.assert_allclose(run.final_x[i], alone.final_x[0], atol=1e-12)
    np.testing.assert_allclose(lanes.muon_drift(), [RankTwo(theta=float(t), p=0.4).muon_drift()[0] for t in thetas])


def test_a_sweep_over_theta(tmp_path):
    result = runner.invoke(app, ["sweep", "rank-two", "-g", "theta=0,1.5707963267948966", "--dim", "2", "--p", "0.4",
                                 "-o", "muon", "--polar", "exact", "--beta1", "0", "--no-nesterov", "--lr", "0.01",
                                 "--steps", "400", "--seeds", "4", "--rule", "distance", "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with open(tmp_path / "sweep.csv") as fh:
        rows = list(csv.DictReader(fh))
    y = {th: np.median([float(r["final_x"]) for r in rows if float(r["theta"]) == th]) for th in (0.0, math.pi / 2)}
    assert y[0.0] < 0 < y[math.pi / 2]  # the right way when the streams add, the wrong way apart
