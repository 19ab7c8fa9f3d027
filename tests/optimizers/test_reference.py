"""Every optimizer and convention against the scalar reference (tests/scalar_reference.py) over
long gradient sequences of each problem, with projection and step-size schedules."""

import math

import numpy as np
import pytest
from helpers import sequence_problem
from scalar_reference import reference_path

from adasim import FiniteSum, Online, Schedule, Stochastic, make_optimizer, simulate

CASES = [
    ("sgd", {"lr": 0.05}),
    ("momentum", {"lr": 0.05, "beta1": 0.9}),
    ("adagrad", {"lr": 0.3, "eps": 1e-10}),
    ("adagrad", {"lr": 0.3, "eps": 1e-3, "eps_mode": "inside"}),
    ("rmsprop", {"lr": 0.1, "beta2": 0.9, "eps": 1e-8}),
    ("adam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8}),
    ("adam", {"lr": 0.1, "beta1": 0.0, "beta2": 0.5, "eps": 0.0, "bias_correction": False}),
    ("adam", {"lr": 0.1, "beta1": 0.7, "beta2": 0.9, "eps": 1e-3, "eps_mode": "inside"}),
    ("adam", {"lr": 0.1, "beta1": 0.7, "beta2": 0.9, "eps": 1e-3, "eps_mode": "hat"}),
    ("amsgrad", {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "convention": "paper"}),
    ("amsgrad", {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "convention": "pytorch"}),
    ("amsgrad", {"lr": 0.1, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "convention": "optax"}),
    ("amsgrad", {"lr": 0.1, "beta1": 0.3, "beta2": 0.9, "eps": 1e-4, "eps_mode": "inside", "convention": "pytorch"}),
    ("adamnc", {"lr": 0.1, "beta1": 0.9, "eps": 1e-8}),
    ("adamnc", {"lr": 0.1, "beta1": 0.9, "lam": 0.99, "eps": 1e-8}),
    ("adashift", {"lr": 0.1, "n": 1, "beta1": 0.0, "beta2": 0.99, "eps": 1e-8}),
    ("adashift", {"lr": 0.1, "n": 5, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ("adashift", {"lr": 0.1, "n": 4, "window": 2, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6, "eps_mode": "inside"}),
    ("adashift", {"lr": 0.1, "n": 0, "beta1": 0.9, "beta2": 0.9, "eps": 1e-8}),
    ("adashift", {"lr": 0.1, "n": 2, "beta1": 0.5, "beta2": 0.9, "eps": 1e-8, "v_rule": "max"}),
    ("adopt", {"lr": 0.1, "beta1": 0.9, "beta2": 0.9999, "eps": 1e-6}),
    ("adopt", {"lr": 0.1, "beta1": 0.5, "beta2": 0.5, "eps": 1e-6, "clip": False}),
    ("adopt", {"lr": 0.1, "beta1": 0.5, "beta2": 0.5, "eps": 1e-6, "clip_base": "port"}),
]

PROBLEMS = {
    "online": Online(C=5.0, s=1.0, d=4, k=1),
    "stochastic": Stochastic(C=20.0, s=1.0, p=0.1),
    "finite-sum-shuffle": FiniteSum(n=6, sampling="shuffle"),
}

SCHEDULES = {
    "constant": lambda t: 1.0,
    "inv-sqrt": lambda t: 1.0 / math.sqrt(t),
    "inv-sqrt-affine": lambda t: 1.0 / math.sqrt(1 + 0.01 * t),
}


@pytest.mark.parametrize("schedule", ["constant", "inv-sqrt", "inv-sqrt-affine"])
@pytest.mark.parametrize("problem_name", list(PROBLEMS))
@pytest.mark.parametrize(("name", "cfg"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_engine_matches_scalar_reference(name, cfg, problem_name, schedule):
    problem = PROBLEMS[problem_name]
    steps = 700
    optimizer = make_optimizer(name, **cfg, schedule=Schedule(schedule))
    # block = 256 makes the run cross block boundaries, where state is carried
    run = simulate(problem, optimizer, steps, seeds=3, x0=0.3, stride=1, block=256)
    grads = run.trace.g[:, 0, 0].tolist()
    expected = reference_path(name, cfg, grads, x0=0.3, lo=-1.0, hi=1.0, schedule=SCHEDULES[schedule])
    np.testing.assert_allclose(run.trace.x[:, 0, 0], expected, rtol=1e-9, atol=1e-11)


def test_adashift_window_smaller_than_shift_drops_the_middle_gradients():
    """With n = 3 and w = 1, g_{t−1} and g_{t−2} enter neither m_t nor v_t."""
    grads = [1.0, 2.0, 3.0, 4.0, 5.0]
    cfg = {"lr": 1.0, "n": 3, "window": 1, "beta1": 0.0, "beta2": 0.5, "eps": 0.0}
    run = simulate(sequence_problem(grads), make_optimizer("adashift", **cfg), steps=5, stride=1)
    # t = 4: v = 0.5·g_1² = 0.5, v̂ = 0.5/(1 − 0.5) = 1, m = g_4 = 4 → x = −4
    assert run.trace.x[3, 0, 0] == pytest.approx(-4.0)
    # t = 5: v = 0.25 + 0.5·g_2² = 2.25, v̂ = 2.25/0.75 = 3, m = g_5 = 5 → x = −4 − 5/√3
    assert run.trace.x[4, 0, 0] == pytest.approx(-4.0 - 5.0 / math.sqrt(3.0))
    np.testing.assert_allclose(run.trace.x[:, 0, 0], reference_path("adashift", cfg, grads), rtol=1e-12)
