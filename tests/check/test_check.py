"""`adasim check`: the battery, the model-free factors against adasim's exact ones, conformance
with torch.optim, the CLI's contract (exit 0 / 1 / 2, one-line errors, JSON, --out)."""

import json
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim import Adam, iterate
from adasim.analysis import analytic_nuf
from adasim.checks import CASES, check, load
from adasim.checks.runner import run_case
from adasim.cli.app import app

REDDI = {"beta1": 0.0, "beta2": 1 / 101, "eps": 0.0, "bias_correction": False}  # Reddi et al.'s analysed Adam
TWO = ["reddi-thm1-C10", "reddi-fig1-stochastic"]  # an online and a stochastic case


def test_the_battery_holds_the_cases_the_issue_names():
    expected = {"reddi-thm1-C3", "reddi-thm1-C10", "reddi-fig1-online", "reddi-fig1-stochastic",
                "shi-two-spike", "consecutive-spikes", "adopt-toy-k10", "adopt-toy-k50", "finite-sum-shuffle", "skewed-noise",
                "rotated-reddi", "two-scales", "quadratic"}  # fmt: skip
    assert expected <= set(CASES)
    for case in CASES.values():
        assert case.source
        assert case.expect in ("converge", "toward", "drift", "invariant")
        assert case.settings()["steps"] == case.steps


def test_model_free_factor_is_the_exact_factor_when_beta1_is_zero():
    """β1 = 0: the twin's flipped gradient changes only its own step, so κ_s is the scale P_s of
    that step exactly; P_s is periodic after the transient (β2 = 1/101), read from the engine."""
    import dataclasses

    case = dataclasses.replace(CASES["reddi-thm1-C10"], steps=3000)
    result = run_case(load("adam", REDDI), case)
    opt = Adam(lr=1.0, **REDDI)
    post = None
    for blk in iterate(case.problem, opt, case.steps, fields=("post",)):
        post = blk.post[-3:, 0, 0]  # the last period's P_t, phases of t = T−2, T−1, T
    phases = (np.arange(case.steps - 2, case.steps + 1) - 1) % 3
    exact = dict(zip(phases.tolist(), post.tolist(), strict=True))
    assert [r.group for r in result.nuf] == ["phase 0", "phase 1", "phase 2"]
    for row in result.nuf:
        assert abs(row.mean - exact[int(row.group.split()[1])]) <= 1e-12
        assert row.std <= 1e-12
    # Reddi Theorem 1's factors as the README states them (the periodic closed form)
    closed = analytic_nuf(case.problem, Adam(lr=1.0, **REDDI)).kappa
    np.testing.assert_allclose([r.mean for r in result.nuf], closed, rtol=1e-9)
    assert result.correlation["pearson_g2_scale"] < -0.5  # the spike gets the small scale
    assert result.passed is False
    assert "the small gradients win" in result.verdict
    assert "no progress" in result.verdict  # x̄ ends at the worst point: it moved the wrong way


def test_model_free_factor_agrees_with_the_closed_form_when_beta1_is_positive():
    """With momentum the factor sums α_t P_t over the kernel's span; the closed form is the steady
    state at constant α (under α/√t the measured one is smaller by O(span/s), ~1e-3 here)."""
    import dataclasses

    from adasim.schedules import Schedule

    settings = {"beta1": 0.9, "beta2": 0.99, "eps": 0.0, "bias_correction": False}
    case = dataclasses.replace(CASES["reddi-thm1-C10"], schedule=Schedule("constant"), lr=0.01, steps=4000)
    result = run_case(load("adam", settings), case)
    closed = analytic_nuf(case.problem, Adam(lr=1.0, **settings)).kappa
    for row, k in zip(result.nuf, closed, strict=True):
        lo, hi = row.ci
        assert lo - 1e-10 <= k <= hi + 1e-10


def test_sgd_keeps_every_case_s_promise():
    """The battery's premise: SGD with the same schedule reaches each case's expected outcome, and
    on the cases read by progress it covers at least half of the way (so a quarter of its progress
    means something). The exception is by design: SGD's steps have the gradient's units, so it fails
    the scale-invariance case. Cases run in worker processes (`jobs`) give what they give in this one."""
    report = check("sgd")
    failed = [r.case.name for r in report.results if r.status != "pass"]
    assert failed == ["scale-invariance"], report
    for r in report.results:
        if r.case.expect not in ("drift", "invariant"):
            assert r.progress >= 0.5, (r.case.name, r.progress)
    pooled = check("sgd", cases=TWO, jobs=2)
    here = {r.case.name: r for r in report.results}
    for r in pooled.results:
        same = here[r.case.name]
        np.testing.assert_equal((r.passed, r.final_x, r.drift), (same.passed, same.final_x, same.drift))  # NaN = NaN


def test_adam_with_reddi_settings_fails_theorem_1_and_the_cli_says_so(tmp_path):
    args = ["check", "adam", "--case", "reddi-thm1-C10", "--case", "quadratic"]
    args += [f"--kw={k}={v}" for k, v in REDDI.items()]
    result = CliRunner().invoke(app, [*args, "--json", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert (data["passed"], data["failed"], data["errored"]) == (1, 1, 0)
    reddi = data["cases"][0]
    assert reddi["case"] == "reddi-thm1-C10"
    assert reddi["passed"] is False
    assert reddi["final_x"]["median"] == [pytest.approx(1.0, abs=0.05)]
    assert reddi["drift"] > 0
    assert reddi["settings"]["steps"] == CASES["reddi-thm1-C10"].steps
    assert reddi["problem"]["C"] == 10.0
    assert [r["group"] for r in reddi["nuf"]] == ["phase 0", "phase 1", "phase 2"]
    assert data["optimizer"]["spec"] == "adam"
    assert data["provenance"]["numpy"] == np.__version__
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["reddi-thm1-C10.png", "report.json", "report.md"]
    assert "| reddi-thm1-C10 | FAIL |" in (tmp_path / "report.md").read_text()


def test_list_and_passing_exit_code():
    listed = CliRunner().invoke(app, ["check", "--list", "--json"])
    assert listed.exit_code == 0
    from adasim.checks.cases import ALL_CASES

    assert set(json.loads(listed.stdout)) == set(ALL_CASES)  # the vector battery and the matrix one
    ok = CliRunner().invoke(app, ["check", "sgd", "--case", "reddi-thm1-C10"])
    assert ok.exit_code == 0, ok.output
    assert "1 passed, 0 failed" in ok.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "nosuch"], "unknown optimizer"),
        (["check", "adam", "--kw", "beta9=1"], "beta9"),
        (["check", "adam", "--kw", "=1"], "KEY=VALUE"),
        (["check", "adam", "--case", "nope"], "unknown check case"),
        (["check", "torch:torch.optim.NoSuch"], "has no attribute"),
        (["check", "torch:nosuchmodule.Opt"], "cannot import"),
        (["check", "torch:torch.nn.Linear"], "not a torch.optim.Optimizer"),
        (["check", "torch:torch.optim.Adam", "--kw", "betas=3"], "raised"),
        (["check"], "give the optimizer"),
        (["check", "sgd", "--kw", "lr=-1"], "lr must be a number > 0"),
        (["check", "sgd", "--kw", "lr=nan"], "lr must be a number > 0"),
        (["check", "sgd", "--kw", "lr=0"], "lr must be a number > 0"),
        (["check", "sgd", "--kw", "lr=abc"], "lr must be a number > 0"),
        (["check", "sgd", "--kw", "lr=None"], "lr must be a number > 0"),
        (["check", "sgd", "--kw", "lr=(1,2)"], "lr must be a number > 0"),
        (["check", "sgd", "--quick", "--case", "quadratic"], "not both"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    if any(a.startswith("torch:") for a in args):
        pytest.importorskip("torch")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.count("\n") == 1, result.output


USER_FILE = """
from typing import NamedTuple
from adasim import Definition, out

class H(NamedTuple):
    eps: float = 0.0

class S(NamedTuple):
    n: float = 0.0

def step(s, hp, g, t, alpha):
{body}

Mine = Definition("Mine", H, S, step)
"""


def user_definition(tmp_path, body: str) -> str:
    """A user optimizer file whose step is `body` (indented by 4); returns its SPEC."""
    path = tmp_path / "mine.py"
    path.write_text(USER_FILE.format(body=textwrap.indent(textwrap.dedent(body).strip(), "    ")))
    return f"{path}:Mine"


def test_user_code_failing_mid_run_errors_that_case_only(tmp_path):
    spec = user_definition(
        tmp_path,
        """
        if t == 50:
            raise RuntimeError("boom")
        return S(s.n + 1), out(alpha * g)
    """,
    )
    report = check(spec, cases=["reddi-thm1-C10", "quadratic"])
    assert [r.status for r in report.results] == ["error", "error"]
    assert "boom" in report.results[0].error
    assert "error" in repr(report)


def test_numerical_trouble_is_reported_not_measured(tmp_path):
    spec = user_definition(tmp_path, 'return S(s.n), out(alpha * g * (float("nan") if t == 30 else 1.0))')
    report = check(spec, cases=["quadratic"])
    assert report.results[0].status == "error"
    assert "NaN" in report.results[0].error
    assert "step 30" in report.results[0].error


torch_cases = [
    ("adam", [], []),
    ("amsgrad", ["betas=(0.9,0.99)", "amsgrad=True"], ["convention=pytorch"]),
    ("rmsprop", ["alpha=0.9"], []),
    ("adagrad", ["eps=1e-10"], ["eps=1e-10"]),
    ("sgd", [], []),
]


@pytest.mark.parametrize(("name", "kw", "against_kw"), torch_cases, ids=[c[0] for c in torch_cases])
def test_torch_optim_conforms_to_adasim_to_1e_10(name, kw, against_kw):
    pytest.importorskip("torch")
    cls = {"adam": "Adam", "amsgrad": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad", "sgd": "SGD"}[name]
    args = ["check", f"torch:torch.optim.{cls}", "--against", name, "--json"]
    args += [f"--kw={k}" for k in kw] + [f"--against-kw={k}" for k in against_kw]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["agree"]
    assert max(r["max_deviation"] for r in data["cases"]) <= 1e-10


def test_against_finds_where_two_implementations_part():
    """adasim's own AMSGrad conventions differ: 'paper' (no bias correction) and 'pytorch'."""
    from adasim.checks.against import conform

    result = conform(load("amsgrad", {"convention": "paper"}), "amsgrad", {"convention": "pytorch"}, cases=["reddi-thm1-C10"])
    assert result["agree"] is False
    assert result["cases"][0]["first_parting_step"] == 1


def test_per_tensor_optimizers_get_one_tensor_per_lane():
    torch = pytest.importorskip("torch")
    if not hasattr(torch.optim, "Adafactor"):
        pytest.skip("this torch has no Adafactor")
    assert load("torch:torch.optim.Adam").elementwise
    assert not load("torch:torch.optim.Adafactor").elementwise  # factored second moments mix the rows of a 2-D tensor


def test_report_from_python_is_readable_and_gates_a_test_suite():
    import adasim

    report = adasim.check("sgd", cases=["reddi-thm1-C10"])
    assert report.passed
    assert repr(report).startswith("Report(sgd: 1 passed, 0 failed, 0 errored)")


@pytest.mark.parametrize(("spec", "name", "kw", "against_kw", "cases"), [
    ("optax:optax.adam", "adam", ["b1=0.9", "b2=0.99"], [], []),  # every case
    # the conventions: two cases each (an online and a stochastic one)
    ("optax:optax.rmsprop", "rmsprop", ["decay=0.9", "eps=1e-8"], ["eps_mode=inside"], TWO),  # optax's default: ε in the root
    ("optax:optax.rmsprop", "rmsprop", ["decay=0.9", "eps_in_sqrt=False"], [], TWO),
    ("optax:optax.sgd", "sgd", [], [], TWO),
])  # fmt: skip
def test_optax_conforms_to_adasim_to_1e_10(spec, name, kw, against_kw, cases):
    pytest.importorskip("optax")
    args = ["check", spec, "--against", name, "--json"] + [f"--kw={k}" for k in kw] + [f"--against-kw={k}" for k in against_kw]
    args += [f"--case={c}" for c in cases]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["agree"], data
    assert max(r["max_deviation"] for r in data["cases"]) <= 1e-10


# -- scale invariance and the symmetry problem as battery cases (issue 29) -----------------------------


@pytest.mark.parametrize(("spec", "status"), [("adam", "pass"), ("adagrad", "pass"), ("signsgd", "pass"), ("sgd", "FAIL")])
def test_the_scale_invariance_case_compares_runs_with_gradients_times_1000(spec, status):
    """Adaptive scales cancel the gradients' units (to ε's share); SGD's steps grow 1000×."""
    result = check(spec, cases=["scale-invariance"]).results[0]
    assert result.status == status, result.verdict
    assert ("not scale-invariant" in result.verdict) == (status == "FAIL")


def test_an_optimizer_whose_first_step_is_scaled_by_hand_is_not_scale_invariant(tmp_path):
    """Adam without ε whose first denominator is forced to 1: the first step is α·g, in the
    gradient's units — the case catches it though every later step is invariant."""
    spec = user_definition(
        tmp_path,
        """
        v = g * g if t == 1 else s.n + 0.001 * (g * g - s.n)
        return S(v), out(alpha * g / (1.0 if t == 1 else v ** 0.5))
    """,
    )
    result = check(spec, cases=["scale-invariance"]).results[0]
    assert result.status == "FAIL", result.verdict
    assert "not scale-invariant" in result.verdict


def test_the_scale_invariance_case_runs_its_reference_when_it_was_not_chosen_and_reuses_it_when_it_was():
    alone = check("adam", cases=["scale-invariance"]).results[0]
    both = check("adam", cases=["skewed-noise", "scale-invariance"]).results
    assert [r.status for r in both] == ["pass", "pass"]
    assert alone.distance == both[1].distance  # the deviation: the same runs either way


@pytest.mark.parametrize(("spec", "status"), [("adam", "pass"), ("amsgrad", "pass"), ("signsgd", "FAIL")])
def test_the_symmetry_case_separates_the_mean_from_the_median(spec, status):
    """x* = E X = 0; sign methods follow the median of θ − X_t and settle at median X = −0.10."""
    result = check(spec, cases=["symmetry-skewed"]).results[0]
    assert result.status == status, result.verdict
    if status == "FAIL":
        assert 0.09 < result.distance < 0.11


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_every_case_s_lane_steps_up_to_the_total(jobs):
    """check(progress=...) is told (done, total) as cases finish, here or in a worker process."""
    from adasim.checks.runner import work

    told = []
    report = check("sgd", ["reddi-thm1-C3", "reddi-thm1-C10", "quadratic"], jobs=jobs, progress=lambda d, t: told.append((d, t)))
    total = sum(work(CASES[name]) for name in ("reddi-thm1-C3", "reddi-thm1-C10", "quadratic"))
    assert len(report.results) == 3
    assert told[0] == (0, total)
    assert told[-1] == (total, total)
    assert all(t == total for _, t in told)
    assert [d for d, _ in told] == sorted(d for d, _ in told)
    assert len(told) == 4  # 0 before any case, then one call as each case ends (adasim's own: a group each)
