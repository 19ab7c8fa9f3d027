"""The engine: Reddi's Theorem 1, blocks, the general path, warm-up, regret, health, lanes."""

import numpy as np
import pytest
from helpers import sequence_problem

from adasim import (
    ADOPT,
    SGD,
    Adam,
    AdaShift,
    AdasimError,
    AMSGrad,
    Custom,
    Domain,
    Online,
    Schedule,
    Stochastic,
    make_optimizer,
    simulate,
)
from adasim.engine import iterate
from adasim.spec import optimizer_settings


def thm1_optimizers(C):
    """Reddi et al. 2018, Theorem 1: β1 = 0, β2 = 1/(1+C²), α_t = α/√t."""
    common = {"lr": 0.5, "schedule": Schedule("inv-sqrt"), "beta1": 0.0, "beta2": 1.0 / (1.0 + C * C)}
    return {
        "adam": Adam(**common, eps=0.0, bias_correction=False),
        "amsgrad": AMSGrad(**common, eps=0.0),
        "adashift": AdaShift(**common, n=1),
        "adopt": ADOPT(**common),
    }


@pytest.mark.parametrize("C", [3.0, 5.0, 10.0])
def test_reddi_theorem1(C):
    problem = Online(C=C, s=1.0, d=3, k=1)
    ends = {name: simulate(problem, opt, 60_000).final_x[0, 0] for name, opt in thm1_optimizers(C).items()}
    assert ends["adam"] > 0.99  # the worst point
    for name in ("amsgrad", "adashift", "adopt"):
        assert ends[name] < -0.99, name


def test_theorem1_with_kingma_ba_adam_fails_too():
    problem = Online(C=10.0, d=3, k=1)
    run = simulate(problem, Adam(lr=0.5, schedule=Schedule("inv-sqrt"), beta1=0.0, beta2=1 / 101), 30_000)
    assert run.final_x[0, 0] > 0.99
    assert run.summary()["verdict"] == "worst point"


@pytest.mark.parametrize("block", [1, 7, 64, 4096])
def test_block_size_does_not_change_the_run(block):
    problem = Stochastic(C=20.0, p=0.1)
    opt = Adam(lr=0.05, beta1=0.9, beta2=0.99)
    ref = simulate(problem, opt, 3000, seeds=[1, 2], stride=1, block=4096)
    run = simulate(problem, opt, 3000, seeds=[1, 2], stride=1, block=block)
    np.testing.assert_allclose(run.trace.x, ref.trace.x, rtol=0, atol=1e-13)
    np.testing.assert_allclose(run.average_regret, ref.average_regret, rtol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "adam", "amsgrad", "adashift", "adopt", "adamnc"])
def test_general_path_equals_fast_path(name):
    """A custom problem that replays the online gradients runs step by step; same numbers."""
    problem = Online(C=5.0, d=4, k=1)
    opt = make_optimizer(name, **optimizer_settings(name, {"lr": 0.1, "schedule": Schedule("inv-sqrt"), "n": 2}))
    fast = simulate(problem, opt, 500, stride=1)
    replay = Custom(
        gradient_fn=lambda x, t, seeds: problem.gradients(np.array([t]), seeds)[0],
        loss_fn=lambda x, t: problem.gradients(np.array([t]), np.zeros(len(x), np.uint64))[0, :, 0] * x[:, 0],
        optimum_point=-1.0,
        domain=Domain(-1.0, 1.0),
    )
    slow = simulate(replay, opt, 500, stride=1)
    np.testing.assert_allclose(slow.trace.x, fast.trace.x, rtol=0, atol=1e-13)


def test_regret_by_hand():
    # g = 2, −1, −1 at x_0 = 0 with SGD α = 0.1 on [−1, 1]: x = −0.2, −0.1, 0
    # Σ f_t(x_{t−1}) = 2·0 + (−1)(−0.2) + (−1)(−0.1) = 0.3; Σ g = 0, so min_x Σ f_t(x) = 0
    run = simulate(sequence_problem([2, -1, -1], Domain(-1.0, 1.0)), SGD(lr=0.1), 3, stride=1)
    assert run.average_regret[0] == pytest.approx(0.3 / 3)
    linear = simulate(Online(C=2.0, d=3, k=1), SGD(lr=0.1), 3, stride=1)
    assert linear.average_regret[0] == pytest.approx(0.1)
    # R_1 = 0 − min_x 2x = 2; R_2 = 0.2 − min_x (2 − 1)x = 1.2; R_3 = 0.3 − min_x 0·x = 0.3
    np.testing.assert_allclose(linear.trace.average_regret[:, 0], [2.0, 1.2 / 2, 0.3 / 3])


def test_regret_is_undefined_on_an_unbounded_domain():
    run = simulate(Stochastic(domain=Domain(-np.inf, np.inf)), Adam(), 1000)
    assert np.isnan(run.average_regret).all()
    assert run.summary()["average_regret"] is None


def test_warmup_moves_the_moments_but_not_x():
    problem = Stochastic(C=101.0, delta=0.02, domain=Domain(-np.inf, np.inf))
    opt = Adam(lr=1e-3, beta1=0.0, beta2=0.999)
    blocks = list(iterate(problem, opt, steps=100, warmup=50, block=32))
    warm = [b for b in blocks if b.warmup]
    assert sum(len(b.t) for b in warm) == 50
    assert all(np.all(b.x == 0.0) for b in warm)
    main = [b for b in blocks if not b.warmup]
    assert main[0].t[0] == 51
    # the moments carried over: the first real step uses v after 51 gradients, not after 1
    assert main[0].v[0, 0, 0] != pytest.approx(0.001 * main[0].g[0, 0, 0] ** 2)
    run = simulate(problem, opt, 100, warmup=50)
    assert run.trace.t[-1] == 100
    assert run.warmup == 50


def test_trace_memory_is_bounded():
    run = simulate(Online(), Adam(), 1_000_000)
    assert run.stride == 500
    assert len(run.trace.t) <= 2000 + 400 + 1
    assert run.trace.t[-1] == 1_000_000
    assert np.all(np.diff(run.trace.t) > 0)


def test_overflow_and_nan_are_detected():
    blow_up = Custom(gradient_fn=lambda x, t, s: np.full(x.shape, 1e300), domain=Domain(-np.inf, np.inf))
    run = simulate(blow_up, SGD(lr=1e10), 5)
    assert run.status.tolist() == ["overflow"]
    assert run.bad_step[0] == 1
    assert run.summary()["status"] == "failed"
    assert run.summary()["final_x"] is None

    def nan_at_three(x, t, s):
        return np.full(x.shape, np.nan if t == 3 else 1.0)

    run = simulate(Custom(gradient_fn=nan_at_three), Adam(), 10)
    assert run.status.tolist() == ["nan"]
    assert run.bad_step[0] == 3
    assert "nan" in run.health()


def test_per_lane_hyper_parameters_equal_separate_runs():
    problem = Online(C=10.0)
    beta2 = np.array([0.1, 0.5, 0.99])
    batch = simulate(problem, Adam(lr=0.1, beta1=0.0, beta2=beta2), 2000, seeds=0, stride=1)
    for i, b2 in enumerate(beta2):
        alone = simulate(problem, Adam(lr=0.1, beta1=0.0, beta2=float(b2)), 2000, stride=1)
        np.testing.assert_array_equal(batch.trace.x[:, i], alone.trace.x[:, 0])


def test_per_lane_shift_equals_separate_runs():
    problem = Stochastic(C=20.0, p=0.1)
    n = np.array([0, 1, 3])
    batch = simulate(problem, AdaShift(lr=0.05, n=n), 1000, seeds=[5, 5, 5], stride=1)
    for i, ni in enumerate(n):
        alone = simulate(problem, AdaShift(lr=0.05, n=int(ni)), 1000, seeds=5, stride=1)
        np.testing.assert_allclose(batch.trace.x[:, i], alone.trace.x[:, 0], rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: simulate(Online(), Adam(), 0), "steps"),
        (lambda: simulate(Online(), Adam(), 10, seeds=[-1]), "seeds"),
        (lambda: simulate(Online(), Adam(), 10, x0=2.0), "outside the domain"),
        (lambda: simulate(Online(), Adam(beta2=[0.1, 0.2]), 10, seeds=[1, 2, 3]), "lane counts differ"),
        (lambda: simulate(Online(), Adam(), 10, stride=0), "stride"),
    ],
)
def test_bad_engine_input(call, message):
    with pytest.raises(AdasimError, match=message):
        call()


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
@pytest.mark.parametrize("name", ["adam", "amsgrad", "adashift", "adopt", "rmsprop"])
def test_a_lane_is_block_and_batch_independent(name, engine):
    """A lane's path is the same floats in any batch and any block size (wide sweeps rely on it)."""
    problem = Stochastic(C=20.0, p=0.1)
    beta2 = np.linspace(0.5, 0.99, 40)
    wide = simulate(problem, make_optimizer(name, lr=0.05, beta2=beta2), 600, seeds=np.arange(40), stride=1, engine=engine)
    lane = 17
    alone = simulate(
        problem, make_optimizer(name, lr=0.05, beta2=float(beta2[lane])), 600, seeds=[lane], stride=1, block=7, engine=engine
    )
    np.testing.assert_array_equal(wide.trace.x[:, lane], alone.trace.x[:, 0])


def test_engine_choice_is_validated():
    with pytest.raises(AdasimError, match="unknown engine 'fast'"):
        simulate(Online(), Adam(), 10, engine="fast")


@pytest.mark.parametrize("engine", ["numpy", "auto"])
def test_record_keeps_only_the_fields_asked_for(engine):
    from adasim import Adam, Online, simulate

    full = simulate(Online(C=10.0), Adam(lr=0.01), 500, stride=10, engine=engine)
    only_x = simulate(Online(C=10.0), Adam(lr=0.01), 500, stride=10, engine=engine, record=("x",))
    np.testing.assert_array_equal(only_x.trace.x, full.trace.x)
    np.testing.assert_array_equal(only_x.trace.t, full.trace.t)
    assert only_x.trace.m is None
    assert only_x.trace.average_regret is None
    assert set(only_x.trace.arrays()) == {"t", "x"}
    np.testing.assert_array_equal(only_x.average_regret, full.average_regret)  # the final regret is kept


def test_record_rejects_unknown_fields():
    from adasim import Adam, AdasimError, Online, simulate

    with pytest.raises(AdasimError, match="unknown trace field 'velocity'"):
        simulate(Online(), Adam(), 10, record=("velocity",))


def test_log_spaced_rows_only_when_asked():
    from adasim import Adam, Online, simulate

    plain = simulate(Online(), Adam(), 10_000, stride=1000, log_spaced=False)
    assert plain.trace.t.tolist() == list(range(1000, 10_001, 1000))
    logged = simulate(Online(), Adam(), 10_000, stride=1000)
    assert logged.trace.t[:5].tolist() == [1, 2, 3, 4, 5]
