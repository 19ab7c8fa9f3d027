"""Presets and overrides resolve in one place."""

import pytest

from adasim import PRESETS, AdasimError
from adasim.spec import build_spec


def test_default_is_reddi_theorem1_with_C_10():
    spec = build_spec()
    assert spec.problem.name == "online"
    assert spec.problem.C == 10.0
    assert spec.problem.d == 3
    assert [o.name for o in spec.optimizers] == ["adam", "amsgrad", "adashift", "adopt"]
    adam = spec.optimizers[0]
    assert adam.beta1 == 0.0
    assert adam.beta2 == pytest.approx(1 / 101)
    assert adam.schedule.kind == "inv-sqrt"


def test_preset_relations_follow_overrides():
    assert build_spec("reddi-thm1", problem={"C": 5.0}).optimizers[0].beta2 == pytest.approx(1 / 26)
    assert build_spec("reddi-thm1", problem={"C": 5.0}, hyper={"beta2": 0.5}).optimizers[0].beta2 == 0.5
    shi = build_spec("shi-two-spike", problem={"C": 20.0})
    assert shi.problem.d == 20
    assert shi.problem.k == 2
    assert [o.name for o in shi.optimizers] == ["rmsprop"]


def test_p_and_delta_replace_each_other():
    assert build_spec("reddi-fig1-stochastic", problem={"delta": 0.1}).problem.delta == 0.1
    assert build_spec("adashift-stochastic", problem={"p": 0.02}).problem.p == 0.02


def test_adashift_preset_carries_the_script_settings():
    spec = build_spec("adashift-stochastic")
    assert spec.problem.domain.unconstrained
    assert spec.warmup == 10_000
    assert spec.steps == 10_000_000
    ams = {o.name: o for o in spec.optimizers}["amsgrad"]
    assert ams.convention == "optax"
    assert ams.eps_mode == "inside"
    assert ams.lr == 1e-3


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_runs_briefly(name):
    spec = build_spec(name, steps=200, warmup=0)
    runs = spec.run()
    assert all(not r.failed for r in runs)
    assert spec.config()["preset"] == name
    assert spec.config()["source"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "reddi-thm"}, "did you mean 'reddi-thm1'"),
        ({"optimizers": ["adma"]}, "did you mean 'adam'"),
        ({"hyper": {"beta1": 1.0}}, r"beta1 must lie in \[0, 1\)"),
        ({"hyper": {"beta2": -0.1}}, "beta2 must lie in"),
        ({"hyper": {"lr": 0.0}}, r"lr must lie in \(0"),
        ({"hyper": {"n": -1}}, "shift n"),
        ({"hyper": {"schedule": "cosine"}}, "unknown schedule"),
        ({"hyper": {"eps_mode": "under"}}, "eps_mode"),
        ({"steps": 0}, "steps"),
        ({"n_seeds": 0}, "seeds"),
        ({"x0": 3.0}, "outside the domain"),
        ({"domain": "1,-1"}, "empty domain"),
        ({"problem": {"k": 3}}, "k < d"),
    ],
)
def test_bad_values_raise_one_line_errors(kwargs, message):
    with pytest.raises(AdasimError, match=message) as err:
        build_spec(**kwargs)
    assert "\n" not in str(err.value)


def test_seeds_mean_seed_values_everywhere():
    """build_spec takes a count (n_seeds) and the first seed; Spec.seeds holds the values, as
    simulate's `seeds` does: the old `seeds=` count is an error, not silently a seed value."""
    spec = build_spec("reddi-fig1-stochastic", n_seeds=3, seed=7, steps=10)
    assert spec.seeds.tolist() == [7, 8, 9]
    with pytest.raises(TypeError):
        build_spec("reddi-fig1-stochastic", seeds=3)  # type: ignore[call-arg]
