"""User-defined optimizers loaded from a file: they run (compiled too), get net update factors
and correlations like the built-ins, and every mistake in the file is a one-line error."""

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scalar_reference import reference_path
from typer.testing import CliRunner

from adasim import AdasimError, Online, Stochastic, make_optimizer, simulate
from adasim.analysis import empirical_nuf, measure_correlation
from adasim.analysis.drift import analytic_nuf
from adasim.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scale_rules.py"


def test_leaky_rule_is_adam_with_beta1_zero_and_no_correction():
    leaky = make_optimizer(f"{EXAMPLES}:Leaky", beta2=0.9, beta1=0.0, lr=0.1, eps=1e-8)
    run = simulate(Online(C=5.0, d=4), leaky, 300, stride=1)
    cfg = {"lr": 0.1, "beta1": 0.0, "beta2": 0.9, "eps": 1e-8, "bias_correction": False}
    expected = reference_path("adam", cfg, run.trace.g[:, 0, 0].tolist(), lo=-1.0, hi=1.0)
    np.testing.assert_allclose(run.trace.x[:, 0, 0], expected, rtol=1e-10)
    assert leaky.name == "Leaky"
    assert leaky.config()["beta2"] == 0.9


def test_shifted_mean_by_hand():
    rule = make_optimizer(f"{EXAMPLES}:ShiftedMean", beta1=0.0, lr=1.0, eps=0.0)
    grads = [2.0, -1.0, -1.0, 2.0]
    from helpers import sequence_problem

    run = simulate(sequence_problem(grads), rule, 4, stride=1)
    # n = 1, w = 10: v_1 = 0 (nothing seen) → no step; v_2 = 2² (mean of g_1²) → x = 0 − (−1)/2
    # v_3 = (4 + 1)/2 → x += 1/√2.5; v_4 = (4 + 1 + 1)/3 = 2 → x −= 2/√2
    np.testing.assert_allclose(run.trace.x[:, 0, 0], [0.0, 0.5, 0.5 + 1 / np.sqrt(2.5), 0.5 + 1 / np.sqrt(2.5) - 2 / np.sqrt(2)])


def test_rules_get_factors_and_correlations_but_no_closed_form():
    problem = Stochastic(C=10.0, p=0.2)
    leaky = make_optimizer(f"{EXAMPLES}:Leaky", beta2=0.9, beta1=0.0)
    shifted = make_optimizer(f"{EXAMPLES}:ShiftedMean", beta1=0.0)
    nuf = empirical_nuf(problem, leaky, 20_000, seeds=range(4))
    by_value = {g.gradient: g.mean for g in nuf.groups}
    assert by_value[10.0] < by_value[-1.0]  # the big gradient divides itself
    with pytest.raises(AdasimError, match="no closed form"):
        analytic_nuf(problem, leaky)
    flagged = measure_correlation(problem, leaky, 50_000, seeds=range(2))
    assert flagged.depends_on_lags == [0]
    assert "g_t itself" in flagged.flag
    clean = measure_correlation(problem, shifted, 50_000, seeds=range(2))
    assert clean.depends_on_lags == []
    assert clean.flag is None
    in_momentum = measure_correlation(problem, make_optimizer(f"{EXAMPLES}:ShiftedMean", beta1=0.9), 50_000, seeds=range(2))
    assert in_momentum.depends_on_lags[0] == 1
    assert "inside m_t" in in_momentum.flag


SHAPE = """
import numpy as np
from typing import NamedTuple
from adasim import Definition, out
class H(NamedTuple):
    beta1: float = 0.9
class S(NamedTuple):
    m: float = 0.0
def step(s, hp, g, t, alpha):
    return S(np.ones(7)), out(alpha * g)
Rule = Definition("Rule", H, S, step)
"""

BAD_FILES = {
    "syntax": ("def broken(:\n", "failed to import (line 1): SyntaxError"),
    "raises": ("import numpy\nraise RuntimeError('boom')\n", "failed to import (line 2): RuntimeError: boom"),
    "wrong_type": ("class Thing:\n    pass\n", "is not an adasim optimizer Definition"),
    "shape": (SHAPE, "step returned values of the wrong shape"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_user_files_are_one_line_errors(tmp_path, case):
    source, message = BAD_FILES[case]
    path = tmp_path / f"{case}.py"
    path.write_text(textwrap.dedent(source))
    name = "Thing" if case == "wrong_type" else "Rule"

    def load_and_run():
        simulate(Online(), make_optimizer(f"{path}:{name}"), 10, engine="numpy")

    with pytest.raises(AdasimError) as err:
        load_and_run()
    text = str(err.value)
    assert "\n" not in text
    assert str(path) in text or name in text
    assert message in text


def test_missing_file_and_name(tmp_path):
    with pytest.raises(AdasimError, match="no such file"):
        make_optimizer(f"{tmp_path}/absent.py:Rule")
    (tmp_path / "empty.py").write_text("class Other:\n    pass\n")
    with pytest.raises(AdasimError, match=r"names nothing called 'Rule' \(it defines: Other\)"):
        make_optimizer(f"{tmp_path}/empty.py:Rule")


def test_cli_runs_user_rules():
    runner = CliRunner()
    result = runner.invoke(app, ["run", "-o", f"{EXAMPLES}:ShiftedMean", "-o", f"{EXAMPLES}:Leaky", "--steps", "20000", "--json"])
    assert result.exit_code == 0, result.output
    verdicts = {r["optimizer"]: r["verdict"] for r in json.loads(result.stdout)["results"]}
    assert verdicts == {"ShiftedMean": "optimum", "Leaky": "worst point"}
    nuf = runner.invoke(app, ["nuf", "-o", f"{EXAMPLES}:Leaky", "--steps", "20000", "--json"])
    assert nuf.exit_code == 0, nuf.output
    row = json.loads(nuf.stdout)["results"][0]
    assert row["analytic_unavailable"].endswith("no closed form")
    bad = runner.invoke(app, ["run", "-o", "nowhere.py:Rule"])
    assert bad.exit_code == 2
    assert "nowhere.py: no such file" in bad.stderr
