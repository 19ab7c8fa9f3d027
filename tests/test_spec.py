"""Presets and overrides resolve in one place."""

import numpy as np
import pytest

from adasim import PRESETS, AdasimError
from adasim.settings import RunSettings
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
    assert spec.run_settings.warmup == 10_000
    assert spec.run_settings.steps == 10_000_000
    ams = {o.name: o for o in spec.optimizers}["amsgrad"]
    assert ams.convention == "optax"
    assert ams.eps_mode == "inside"
    assert ams.lr == 1e-3


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_runs_briefly(name):
    spec = build_spec(name, run=RunSettings(steps=200, warmup=0))
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
        ({"run": RunSettings(x0=3.0)}, "outside the domain"),
        ({"run": {"steps": 10}}, "run must be a RunSettings"),
        ({"domain": "1,-1"}, "empty domain"),
        ({"problem": {"k": 3}}, "k < d"),
    ],
)
def test_bad_values_raise_one_line_errors(kwargs, message):
    with pytest.raises(AdasimError, match=message) as err:
        build_spec(**kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"steps": 0}, r"steps must lie in \[1"),
        ({"warmup": -1}, r"warmup must lie in \[0"),
        ({"seeds": ()}, "seeds must be non-negative whole numbers"),
        ({"seeds": (-1,)}, "seeds must be non-negative whole numbers"),
        ({"seeds": (2**63,)}, "seeds must be below 2\\^63"),
        ({"x0": [[1.0], "a"]}, "x0 must be a number"),
        ({"engine": "gpu"}, "did you mean|engine"),
    ],
)
def test_run_settings_refuse_bad_values_in_one_line(fields, message):
    with pytest.raises(AdasimError, match=message) as err:
        RunSettings(**fields)
    assert "\n" not in str(err.value)


def test_run_settings_fields_are_the_tables_run_settings():
    """The record is what the table's run group sets: every run setting's field is one of its
    fields and every field is set by some run setting (--seeds N and --seed S both set seeds)."""
    from dataclasses import fields

    from adasim.settings import RUN, group

    assert {s.field for s in group(RUN)} == {f.name for f in fields(RunSettings)}


def test_run_settings_from_options_and_back():
    """The command line's --seeds is a count and --seed the first: the record holds the values,
    and `options` gives back the flags that reproduce it."""
    run = RunSettings.from_options({"steps": 500, "seeds": 3, "seed": 7, "warmup": None})
    assert run.seeds.tolist() == [7, 8, 9]
    assert run.steps == 500
    assert run.warmup is None
    assert run.resolve().options() == {"steps": 500, "seeds": 3, "seed": 7}
    assert RunSettings.from_options({}).seeds is None  # the preset's
    with pytest.raises(AdasimError, match="seed must lie in"):
        RunSettings.from_options({"seeds": 2, "seed": 2**63 - 1})
    with pytest.raises(AdasimError, match="unknown run setting"):
        RunSettings.from_options({"stride": 3})


def test_run_settings_precedence_user_then_preset_then_default():
    spec = build_spec("adashift-stochastic", run=RunSettings(steps=50))
    assert (spec.run_settings.steps, spec.run_settings.warmup) == (50, 10_000)  # the user's steps, the preset's warm-up
    assert build_spec("quadratic").run_settings.x0 == 1.0  # no preset: the problem's own start
    assert build_spec("online").run_settings.steps == 100_000


def test_simulate_takes_the_record_whole_or_the_arguments_not_both():
    from adasim import Adam, Online, simulate

    problem, adam = Online(C=10.0), Adam(beta2=0.5)
    whole = simulate(problem, adam, run=RunSettings(steps=300, seeds=(1, 2), warmup=5, engine="numpy"))
    parts = simulate(problem, adam, 300, seeds=[1, 2], warmup=5, engine="numpy")
    assert np.array_equal(whole.final_x, parts.final_x)
    assert whole.engine == "numpy"
    with pytest.raises(AdasimError, match="either as run= or as steps"):
        simulate(problem, adam, 300, run=RunSettings(steps=300))


def test_the_engine_option_reaches_the_executor_whole():
    """`--engine` travels in the record from the command line to every analysis (the correlation
    once dropped the warm-up: it now reads the same record)."""
    spec = build_spec("reddi-thm1", run=RunSettings(steps=2000, engine="python"))
    assert spec.run()[0].engine == "python"


def test_seeds_mean_seed_values_everywhere():
    """RunSettings.seeds holds seed values, as simulate's `seeds` does; only the command line's
    --seeds is a count. The old build_spec count (`n_seeds=`, `seeds=`) is an error, not a value."""
    spec = build_spec("reddi-fig1-stochastic", run=RunSettings(steps=10, seeds=range(7, 10)))
    assert spec.run_settings.seeds.tolist() == [7, 8, 9]
    assert [int(s) for s in spec.run()[0].seeds] == [7, 8, 9]
    for old in ("seeds", "n_seeds", "steps"):
        with pytest.raises(TypeError):
            build_spec("reddi-fig1-stochastic", **{old: 3})


@pytest.mark.parametrize(
    "command",
    [
        ["correlate", "stochastic", "--shifts", "0", "--steps", "3000", "--seeds", "2"],
        ["dilution", "--ks", "1", "--steps", "3000", "--beta1", "0", "--beta2", "0.9"],
    ],
)
def test_every_run_option_reaches_the_analysis(command):
    """correlate and dilution once took some run settings by hand and dropped --warmup: with the
    record passed whole, a warm-up (which moves v, not x) changes what they measure."""
    import json

    from typer.testing import CliRunner

    from adasim.cli.app import app

    def measured(*extra: str) -> dict:
        result = CliRunner().invoke(app, [*command, *extra, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    plain, warm = measured(), measured("--warmup", "1000")
    assert plain["problem"]["warmup"] == 0
    assert warm["problem"]["warmup"] == 1000
    assert plain["results"] != warm["results"]
