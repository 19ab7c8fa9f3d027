"""The one table of settings: its doctest, and the printed `adasim run ...` commands reproduce
the runs they were printed for (through the real CLI parser)."""

import doctest
import json
import shlex

import numpy as np
import pytest
from typer.testing import CliRunner

import adasim.settings
from adasim import simulate
from adasim.cli.app import app
from adasim.optimizers import make_optimizer
from adasim.problems import make_problem
from adasim.schedules import Schedule
from adasim.settings import SETTINGS, run_command, sweep_axes

runner = CliRunner()


def test_module_examples():
    failures, tried = doctest.testmod(adasim.settings)
    assert tried > 0
    assert failures == 0


def test_every_setting_is_an_option_of_run():
    out = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "300"}).stdout
    for s in SETTINGS:
        assert s.flag in out, s.name


def test_sweep_axes_are_the_sweepable_settings():
    assert set(sweep_axes()) == {s.name for s in SETTINGS if s.sweep}
    assert {"C", "beta1", "beta2", "lr", "shift"} <= set(sweep_axes())


CASES = [
    ("online", {"C": 20.0}, [("adam", {"beta2": 0.5}), ("amsgrad", {"convention": "pytorch"})]),
    ("online", {"C": 7.0, "d": 5, "k": 2, "s": 2.0}, [("adashift", {"n": 3, "beta1": 0.5, "phi": "identity"})]),
    ("stochastic", {"C": 30.0, "p": 0.05}, [("adam", {"eps": 1e-3, "eps_mode": "inside", "bias_correction": False})]),
    ("online", {"C": 10.0}, [("adamnc", {"lam": 0.99}), ("adopt", {"clip": False}), ("adam", {"beta1": 0.0})]),
    ("finite-sum", {"n": 4, "sampling": "shuffle"}, [("rmsprop", {"beta2": 0.99})]),
    ("online", {"C": 10.0}, [("rmsprop", {}), ("adam", {"beta1": 0.5}), ("adam", {"beta1": 0.7})]),
]


@pytest.mark.parametrize(("problem_name", "params", "optimizers"), CASES)
def test_printed_command_reproduces_the_run(problem_name, params, optimizers):
    problem = make_problem(problem_name, **params)
    opts = [make_optimizer(n, lr=0.01, schedule=Schedule("inv-sqrt"), **cfg) for n, cfg in optimizers]
    line = run_command(problem, opts, {"steps": 300, "seeds": 2})
    results = []
    for command in line.split("; "):
        args = shlex.split(command)
        assert args[:2] == ["adasim", "run"]
        result = runner.invoke(app, [*args[1:], "--json"])
        assert result.exit_code == 0, (command, result.output)
        summary = json.loads(result.stdout)
        assert summary["problem"] | {k: v for k, v in problem.params().items() if k in summary["problem"]} == summary["problem"]
        results += summary["results"]
    assert len(results) == len(opts)
    for opt in opts:  # each optimizer is run once, by exactly one of the commands
        run = simulate(problem, opt, 300, seeds=np.arange(2))
        expected = json.loads(json.dumps(opt.config(), default=str))
        (res,) = [r for r in results if r["optimizer"] == opt.name and r["config"] == expected]
        assert res["final_x"] == float(np.median(run.final_x[:, 0]))
        assert res["final_x_quantiles"] == np.quantile(run.final_x[:, 0], [0.25, 0.75]).tolist()
