"""Verdicts that can be trusted (issue 27): independent lanes, progress against SGD, `--quick` =
the full battery on its cases, matrix optimizers reported as not exercised, sentences that read
the verdict's statistic, one loop with `adasim run`, and `--against` in the libraries' own defaults.
Each third-party optimizer named by the issue is tested where its package is installed."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim import Adam, simulate
from adasim.checks import CASES, check, load
from adasim.checks.cases import ALL_CASES, QUICK
from adasim.checks.runner import MOVE_SHARE, PROGRESS_SHARE, joint_groups, run_case, run_cases
from adasim.cli.app import app
from adasim.optimizers import OPTIMIZERS


def short(name: str, steps: int = 400):
    return dataclasses.replace(CASES[name], steps=steps)


# -- independent lanes ---------------------------------------------------------------------------


def test_pytorch_optimizer_adashift_gets_one_tensor_per_lane():
    """Its reduce_func=torch.max takes one max over a stacked tensor; with keep_num = 10 nothing moves
    for 10 steps, so the old 10-step probe missed it. The probe now runs past that."""
    pytest.importorskip("pytorch_optimizer")
    loaded = load("torch:pytorch_optimizer.AdaShift")
    assert loaded.layout == "one parameter per lane"  # its max is over one parameter tensor
    assert "one tensor: from step 11" in loaded.why
    assert loaded.describe()["lanes"] == "one parameter per lane"


def test_prodigy_lanes_do_not_share_d():
    """Prodigy's step-size estimate d is one per optimizer: stacked lanes share it (the issue: one lane
    −1.0 instead of −0.104 alone). torch: one instance per lane; optax: one state per lane (vmap)."""
    pytest.importorskip("pytorch_optimizer")
    loaded = load("torch:pytorch_optimizer.Prodigy")
    assert loaded.layout == "one instance per lane"  # its d is one per optimizer, over every group
    assert "one parameter group per lane: from step 128" in loaded.why
    # every lane of a check equals the same lane run alone
    case = short("two-scales", 300)
    together = run_case(loaded, case, twins=0, baseline=False)
    alone = run_case(loaded, dataclasses.replace(case, n_seeds=1), twins=0, baseline=False)
    np.testing.assert_array_equal(together.trace_x[:, 0], alone.trace_x[:, 0])


def test_optax_lanes_are_independent_by_construction():
    pytest.importorskip("optax")
    loaded = load("optax:optax.contrib.prodigy")
    assert loaded.layout == "vmap"
    scales = np.array([[1.0], [1e3], [1e-3]])
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 1)) * scales for _ in range(50)]
    together = loaded.stepper(np.zeros((3, 1)), 0.1)
    apart = [loaded.stepper(np.zeros((1, 1)), 0.1) for _ in range(3)]
    for t, g in enumerate(grads, start=1):
        u = together.step(g, t, 0.1)
        for lane, one in enumerate(apart):
            np.testing.assert_allclose(one.step(g[lane : lane + 1], t, 0.1), u[lane : lane + 1], rtol=1e-13, atol=0)


def test_torch_optim_adam_is_stacked_because_it_is_elementwise():
    pytest.importorskip("torch")
    loaded = load("torch:torch.optim.Adam")
    assert loaded.layout == "one tensor"
    assert "elementwise" in loaded.why


# -- progress: not moving, or moving the wrong way and stopping, fails ------------------------------


@pytest.mark.parametrize("spec", ["sgd", "torch:torch.optim.SGD"])
def test_an_optimizer_that_does_not_move_passes_nothing(spec):
    """`adasim check torch:torch.optim.SGD --kw lr=1e-12 --quick` passed four cases."""
    if spec.startswith("torch:"):
        pytest.importorskip("torch")
    report = check(spec, kwargs={"lr": 1e-12}, quick=True)
    assert [r.status for r in report.results if r.status == "pass"] == []
    drift = [r for r in report.results if r.case.expect == "drift"]
    assert drift
    assert all("does not move" in r.verdict for r in drift)
    for r in report.results:
        if r.case.expect != "drift":
            assert r.progress < PROGRESS_SHARE * r.sgd_progress
            assert "progress" in r.verdict


def test_moving_toward_the_worst_point_is_no_pass_even_far_from_it():
    """Adam on ADOPT's k = 50 toy: x̄ ends near +0.44, over a quarter of the width from the worst point
    (the old `avoid` outcome passed it) after moving toward it; its factors do not drive x toward x*.
    RMSProp's drive it away, significantly: a failure."""
    adam = check("adam", cases=["adopt-toy-k50"]).results[0]
    assert 0.25 < adam.final_x["mean_second_half"][0] < 0.5
    assert adam.status in ("inconclusive", "FAIL")
    r = check("rmsprop", cases=["adopt-toy-k50"]).results[0]
    assert r.status == "FAIL"
    assert r.factor_drift_ci[1] < 0
    assert "away from x*" in r.verdict


def test_drift_cases_read_the_factors_and_tell_adam_from_amsgrad():
    """Reddi's Fig. 1 stochastic problem: E[κ g] < 0 for Adam (the spike gets the small factor: x
    moves up), > 0 for AMSGrad and AdaShift, = E g = 0.2 for SGD (every factor 1), each with a 95 %
    interval that excludes 0 at 256 twins per seed."""
    out = {name: check(name, cases=["reddi-fig1-stochastic"]).results[0] for name in ("sgd", "adam", "amsgrad", "adashift")}
    assert out["sgd"].factor_drift == pytest.approx(0.2, rel=1e-12)
    assert out["adam"].status == "FAIL"
    assert out["adam"].factor_drift_ci[1] < 0
    assert "away from x*" in out["adam"].verdict
    for name in ("amsgrad", "adashift"):
        assert out[name].status == "pass", name
        assert out[name].factor_drift_ci[0] > 0, name
    assert out["adam"].path >= MOVE_SHARE * out["adam"].sgd_path


def test_an_interval_that_holds_zero_is_inconclusive_not_a_verdict():
    r = run_case(load("adam"), CASES["reddi-fig1-stochastic"], twins=1)
    assert r.status in ("inconclusive", "FAIL")
    few = run_case(load("adam"), CASES["reddi-fig1-stochastic"])  # the default: enough twins to tell
    assert few.status == "FAIL"
    fake = dataclasses.replace(few, factor_drift=0.0, factor_drift_ci=(-1.0, 1.0), passed=None, inconclusive=True)
    assert fake.status == "inconclusive"


# -- quick = full on the cases it runs ---------------------------------------------------------------


def test_quick_is_the_full_battery_on_its_cases():
    assert set(QUICK) == {name for name, c in CASES.items() if c.quick}
    quick = check("adam", quick=True)
    full = check("adam", cases=list(QUICK))
    assert [r.case.name for r in quick.results] == list(QUICK)
    for a, b in zip(quick.results, full.results, strict=True):
        assert (a.status, a.progress, a.distance, a.drift, a.factor_drift) == (b.status, b.progress, b.distance, b.drift,
                                                                               b.factor_drift)  # fmt: skip


SIDE_BY_SIDE = ("reddi-thm1-C10", "skewed-noise", "shi-two-spike", "reddi-fig1-stochastic", "consecutive-spikes", "quadratic")


@pytest.mark.parametrize(("spec", "module"), [("torch:torch.optim.Adam", "torch"), ("optax:optax.adam", "optax"),
                                              ("torch:pytorch_optimizer.AdaShift", "pytorch_optimizer")])  # fmt: skip
def test_cases_run_side_by_side_give_what_each_gives_alone(spec, module):
    """A foreign optimizer steps once per t for a group of cases with the same α_t (runner.joint_groups):
    every number is what the case gives alone, so `--quick` (other groups) is the full battery too."""
    pytest.importorskip(module, reason=f"needs {module} (pip install -e '.[references]')")
    loaded = load(spec)
    cases = [short(n, 600) for n in SIDE_BY_SIDE]
    assert sorted(len(g) for g in joint_groups(loaded, cases)) == [1, 2, 3]  # (C10, skewed, shi), (fig1, spikes), quadratic
    for case, together in zip(cases, run_cases(loaded, cases, baseline=False), strict=True):
        alone = run_case(loaded, case, baseline=False)
        assert together.error is None
        assert alone.error is None
        for name in ("final_x", "distance", "progress", "path", "average_regret", "drift", "correlation"):
            assert getattr(together, name) == getattr(alone, name), (case.name, name)
        np.testing.assert_array_equal(together.trace_x, alone.trace_x)
        assert [r.__dict__ for r in together.nuf] == [r.__dict__ for r in alone.nuf]


SPIKY = """
import torch

class Spiky(torch.optim.SGD):
    def step(self, closure=None):
        if (self.param_groups[0]["params"][0].grad == -50.0).any():  # ADOPT's toy with k = 50 (its probe never hits it)
            raise ValueError("a gradient of -50")
        return super().step(closure)
"""


def test_an_optimizer_failing_in_a_joint_run_errors_only_the_cases_that_fail_alone(tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="needs torch (pip install -e '.[references]')")
    (tmp_path / "spiky.py").write_text(SPIKY)
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = load("torch:spiky.Spiky")
    cases = [short(n, 300) for n in ("adopt-toy-k50", "adopt-toy-k10")]  # gradients −50 / 2 500 and −10 / 100
    assert loaded.layout == "one tensor"
    assert len(joint_groups(loaded, cases)) == 1
    k50, k10 = run_cases(loaded, cases, baseline=False)
    assert "a gradient of -50" in k50.error
    assert k10.error is None
    assert k10.path > 0


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_twins_never_change_a_seed_s_lane(name):
    """Why quick = full for every built-in: the verdict reads the seeds' lanes, and the twin lanes
    (which the layout adds beside them) leave those lanes' floats unchanged."""
    case = short("reddi-fig1-stochastic", 300)
    a = run_case(load(name), case, twins=0, baseline=False, engine="numpy")
    b = run_case(load(name), case, twins=3, baseline=False, engine="numpy")
    assert a.error is None
    assert b.error is None
    np.testing.assert_array_equal(a.trace_x, b.trace_x)
    assert (a.progress, a.drift, a.path) == (b.progress, b.drift, b.path)


# -- matrix optimizers: not exercised on vectors, the matrix battery instead -----------------------------


@pytest.mark.parametrize("spec", ["muon", "torch:torch.optim.Muon", "optax:optax.contrib.muon", "torch:pytorch_optimizer.SOAP"])
def test_matrix_optimizers_are_not_exercised_by_vector_cases(spec):
    if spec != "muon":
        module = {"torch": "torch", "optax": "optax"}[spec.split(":")[0]]
        pytest.importorskip(module, reason=f"needs the {module} extra")
    if "pytorch_optimizer" in spec:
        pytest.importorskip("pytorch_optimizer", reason="needs pytorch_optimizer (pip install pytorch-optimizer)")
    if spec == "torch:torch.optim.Muon" and not hasattr(__import__("torch").optim, "Muon"):
        pytest.skip("this torch has no Muon")
    result = CliRunner().invoke(app, ["check", spec, "--case", "skewed-noise", "--case", "two-scales", "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["not_exercised"] == 2
    assert data["passed"] == 0
    assert all(c["status"] == "not exercised" and "matri" in c["not_exercised"] for c in data["cases"])


def test_a_matrix_optimizer_gets_the_matrix_battery_and_its_mechanism_decides():
    """adasim's Muon runs the matrix cases by default (each lane's W a 4 × 4 matrix): with its
    momentum it passes; without (β = 0), on a diagonal matrix it is signSGD, which follows the
    median gradient, and the matrix case catches it (docs/REFERENCE.md §7)."""
    from adasim.checks.cases import MATRIX_CASES, MATRIX_QUICK

    report = check("muon", quick=True)
    assert [r.case.name for r in report.results] == list(MATRIX_QUICK)
    assert set(MATRIX_QUICK) < set(MATRIX_CASES)
    assert all(r.status == "pass" for r in report.results)
    short = dataclasses.replace(MATRIX_CASES["matrix-skewed-noise"], steps=3000, n_seeds=3)
    plain = run_case(load("muon", {"beta1": 0.0}), short, twins=0)
    assert plain.status == "FAIL"
    assert plain.drift > 0  # away from x* = −1


@pytest.mark.parametrize(("spec", "status"), [("muon", "pass"), ("polargrad", "FAIL")])
def test_the_matrix_scale_invariance_case(spec, status):
    """Muon's polar factor forgets the gradient's scale; PolarGrad multiplies it by ‖B‖_*, which
    scales with the gradient (steepest descent in the spectral norm is SGD-like in its units)."""
    result = check(spec, cases=["matrix-scale-invariance"]).results[0]
    assert result.status == status, result.verdict


@pytest.mark.parametrize(
    ("spec", "kwargs", "case", "status"),
    [
        ("muon", {}, "matrix-rank-one", "pass"),
        ("adam", {}, "matrix-rank-one", "FAIL"),  # W ∝ sign(u) sign(v)ᵀ: stops short on the ball
        ("normuon", {}, "matrix-rank-one", "FAIL"),  # W ∝ sign(u) vᵀ: its row normalisation
        ("muon", {}, "matrix-sign-stall", "pass"),  # momentum breaks the stall
        ("muon", {"beta1": 0.0, "nesterov": False, "polar": "exact"}, "matrix-sign-stall", "FAIL"),  # tr W frozen
    ],
)
def test_the_matrix_problems_in_the_battery_catch_what_their_derivations_predict(spec, kwargs, case, status):
    """docs/REFERENCE.md §7: on the rank-one stream only methods that keep the rank-one direction
    reach x* on the ball; on the sign-stall loss a reflection (msign of G) never changes tr W."""
    from adasim.checks.cases import MATRIX_CASES

    short = dataclasses.replace(MATRIX_CASES[case], steps=4000, n_seeds=2)
    result = run_case(load(spec, kwargs), short, twins=0)
    assert result.status == status, result.verdict


def test_torch_muon_runs_on_matrices_one_parameter_per_lane():
    """torch.optim.Muon refuses vectors; on the matrix cases every lane's W is one (4, 4) parameter
    (the probe, run on (2, 2) parameters, finds one instance's parameters independent: Muon
    orthogonalises each alone), and the verdict follows its momentum as adasim's Muon's does."""
    torch = pytest.importorskip("torch", reason="needs the torch extra")
    if not hasattr(torch.optim, "Muon"):
        pytest.skip("this torch has no Muon")
    from adasim.checks.cases import MATRIX_CASES

    loaded = load("torch:torch.optim.Muon", {"momentum": 0.0, "nesterov": False})
    assert loaded.describe()["lanes"] == "one parameter per lane"
    assert "(m, n) parameter" in loaded.describe()["lanes_why"]
    assert "probe" in loaded.describe()["lanes_why"]
    short = dataclasses.replace(MATRIX_CASES["matrix-skewed-noise"], steps=1500, n_seeds=2)
    r = run_case(loaded, short, twins=0)
    assert r.status == "FAIL", r.verdict
    assert r.drift > 0


# -- one statistic, one sentence; every setting listed ------------------------------------------------


def test_the_sentence_reads_the_verdict_s_statistic():
    r = check("adam", cases=["two-scales"]).results[0]
    assert r.status == "pass"
    assert "x̄" in r.verdict
    assert f"{r.distance:.3g}" in r.verdict
    assert f"{r.progress:.2f}" in r.verdict


def test_list_prints_every_setting():
    data = json.loads(CliRunner().invoke(app, ["check", "--list", "--json"]).stdout)
    for name, entry in data.items():
        st = entry["settings"]
        for key in ("steps", "seeds", "lr", "schedule", "x0", "expect", "expect_means", "mean_gradient", "x_star", "quick"):
            assert key in st, (name, key)
        problem = ALL_CASES[name].problem
        assert np.ravel(st["mean_gradient"]).tolist() == pytest.approx(np.ravel(problem.mean_gradient()).tolist())
    text = CliRunner().invoke(app, ["check", "--list"], env={"COLUMNS": "250"}).output
    assert "steps 10,000" in text
    assert "E g = 0.2" in text
    assert "(q)" in text


def test_no_two_cases_are_one_problem_rescaled():
    """reddi-fig1-stochastic was adashift-stochastic × 10: a scale-invariant optimizer got the same
    result twice."""
    seen = {}
    for name, c in CASES.items():
        law = c.problem.law()
        if law is None or c.expect == "invariant":  # (an invariance case is its reference rescaled, by design)
            continue
        key = (tuple(np.round(law.values / np.max(np.abs(law.values)), 12)), tuple(np.round(law.probs, 12)), c.lr,
               c.schedule, c.steps)  # fmt: skip
        assert key not in seen, (name, seen.get(key))
        seen[key] = name


# -- one loop: check and run agree; the case says how to reproduce it ----------------------------------


def test_check_and_run_give_the_same_final_x_and_regret():
    case = CASES["reddi-thm1-C10"]
    r = run_case(load("adam"), case)
    run = simulate(case.problem, Adam(lr=case.lr, schedule=case.schedule), case.steps, seeds=np.arange(case.n_seeds), x0=case.x0)
    assert r.final_x["median"] == np.median(run.final_x, axis=0).tolist()
    assert r.average_regret == pytest.approx(float(np.mean(run.average_regret)), rel=1e-12)
    assert r.engine == "compiled" or r.engine == "numpy"


def test_the_reproduce_command_reproduces_the_case():
    r = run_case(load("adam"), CASES["reddi-thm1-C10"], baseline=False)
    assert r.command.startswith("adasim run online ")
    result = CliRunner().invoke(app, [*r.command.split()[1:], "--json"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)["results"][0]
    assert line["final_x"] == r.final_x["median"][0]
    assert line["average_regret"] == pytest.approx(r.average_regret, rel=1e-12)


def test_the_rotated_case_is_the_rotated_problem():
    from adasim.problems import Rotated

    assert isinstance(CASES["rotated-reddi"].problem, Rotated)
    assert CASES["rotated-reddi"].x_star().tolist() == [-1.0, -1.0]


# -- --against in the libraries' own defaults -----------------------------------------------------------


def test_against_translates_pytorch_optimizer_defaults():
    """pytorch-optimizer's AdaShift has ε = 1e-10 and keep_num = 10; its ADOPT clips from 2^(1/4) (its
    step counter reaches 2 on the first real step) with ε = 1e-6: translated, they agree to 1e-14."""
    pytest.importorskip("pytorch_optimizer")
    from adasim.checks.against import conform

    shift = conform(load("torch:pytorch_optimizer.AdaShift"), "adashift", cases=["reddi-thm1-C10"])
    assert shift["adasim_settings"]["eps"] == "1e-10"
    assert shift["adasim_settings"]["n"] == "10"
    assert shift["agree"], shift
    adopt = conform(load("torch:pytorch_optimizer.ADOPT"), "adopt", cases=["reddi-thm1-C10"])
    assert adopt["adasim_settings"]["clip_base"] == "'port'"
    assert adopt["adasim_settings"]["eps"] == "1e-06"
    assert adopt["agree"], adopt
    assert max(r["max_deviation"] for r in shift["cases"] + adopt["cases"]) <= 1e-14


def test_against_names_the_setting_where_they_part():
    """adasim's AMSGrad 'paper' against its 'pytorch' convention: the hint names the convention."""
    from adasim.checks.against import conform

    result = conform(load("amsgrad", {"convention": "paper"}), "amsgrad", {"convention": "pytorch"}, cases=["reddi-thm1-C10"])
    assert result["agree"] is False
    assert "convention='paper'" in result["hint"]


# -- code under test does not decide the exit code; output stays parseable -----------------------------


TORCH_OPT = """
import sys
import torch

class Loud(torch.optim.SGD):
    def step(self, closure=None):
        print("hello from step")
        import os
        os.write(1, b"and straight to file descriptor 1\\n")
        {body}
        return super().step(closure)
"""


@pytest.mark.parametrize(("module", "body", "word"), [("exit0", "sys.exit(0)", "SystemExit"), ("exit7", "sys.exit(7)", "SystemExit"),
                                                      ("interrupt", "raise KeyboardInterrupt", "KeyboardInterrupt"),
                                                      ("to32", "self.param_groups[0]['params'][0].data = "
                                                       "self.param_groups[0]['params'][0].data.float()", "float")])  # fmt: skip
def test_a_misbehaving_torch_step_errors_its_case(tmp_path, monkeypatch, module, body, word):
    pytest.importorskip("torch")
    (tmp_path / f"loud_{module}.py").write_text(TORCH_OPT.format(body=body))
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(app, ["check", f"torch:loud_{module}.Loud", "--case", "quadratic", "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)  # the optimizer's print went elsewhere
    case = data["cases"][0]
    assert case["status"] == "error"
    assert word in case["error"], case["error"]


# -- the gallery: one process per optimizer, its failures kept in its row ------------------------------


def test_gallery_rows_and_table(tmp_path):
    from adasim.checks.gallery import markdown, row

    ok = row("sgd", quick=True)
    assert ok["counts"]["passed"] == len(QUICK)
    assert set(ok["cases"]) == set(QUICK)
    bad = row("nosuch", quick=True)
    assert "unknown optimizer" in bad["error"]
    text = markdown([ok, bad], QUICK)
    assert "| `sgd` | adasim " in text
    assert f"{len(QUICK)}/{len(QUICK)}" in text
    assert "| `nosuch` | | cannot run: unknown optimizer" in text
    from adasim.checks.cases import MATRIX_QUICK

    counts = {"passed": len(MATRIX_QUICK), "failed": 0, "errored": 0, "inconclusive": 0, "not_exercised": 0}
    muon = {"spec": "muon", "library": {"adasim": "0"}, "lanes": "one tensor", "counts": counts,
            "cases": dict.fromkeys(MATRIX_QUICK, "pass"), "seconds": 1.0}  # fmt: skip
    both = markdown([ok, muon], QUICK)
    vector, matrix = both.split("run the matrix battery")
    assert "`muon`" not in vector
    assert "| `muon` | adasim 0 | 2/2 | ✓ | ✓ |" in matrix
    assert all(name in matrix.splitlines()[2] for name in MATRIX_QUICK)


@pytest.mark.parametrize("body", ["sys.exit(7)", "raise KeyboardInterrupt"])
def test_code_under_test_does_not_decide_the_exit_code_in_workers_either(tmp_path, body):
    """--jobs 2: the cases run in worker processes; what the optimizer raises there errors its case."""
    pytest.importorskip("torch")
    import subprocess
    import sys

    name = "loud_jobs_" + ("exit" if "exit" in body else "interrupt")
    (tmp_path / f"{name}.py").write_text(TORCH_OPT.format(body=body))
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "adasim", "check", f"torch:{name}.Loud", "--case", "quadratic", "--case",
                           "skewed-noise", "--jobs", "2", "--json"], capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert [c["status"] for c in data["cases"]] == ["error", "error"]


@pytest.mark.parametrize(("where", "code"), [("import", "import sys\nsys.exit(7)\n"), ("import", "raise KeyboardInterrupt\n"),
                                             ("init", "import sys, torch\nclass Opt(torch.optim.SGD):\n"
                                                      "    def __init__(self, *a, **k):\n        sys.exit(0)\n")])  # fmt: skip
def test_code_under_test_failing_at_import_or_construction_is_bad_input(tmp_path, where, code):
    pytest.importorskip("torch")
    import subprocess
    import sys

    name = f"bad_{where}_{abs(hash(code)) % 10_000}"
    (tmp_path / f"{name}.py").write_text(code)
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "adasim", "check", f"torch:{name}.Opt", "--quick"], capture_output=True,
                          text=True, env=env, check=False)  # fmt: skip
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1, done.stderr


def test_a_hung_optimizer_times_out_and_the_check_goes_on(tmp_path):
    """--timeout: the case past it errors, the worker is killed, the other cases still run."""
    pytest.importorskip("torch")
    import subprocess
    import sys
    import time

    # it hangs on the one-coordinate cases (an (L, 1) tensor), not on two-scales' (8, 2) one
    (tmp_path / "hangs.py").write_text(TORCH_OPT.format(body="import time\n        while self.param_groups[0]['params'][0].shape[-1] == 1:\n"
                                                          "            time.sleep(0.01)"))  # fmt: skip
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "adasim", "check", "torch:hangs.Loud", "--case", "reddi-thm1-C10", "--case",
                           "two-scales", "--timeout", "15", "--json"], capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert time.monotonic() - began < 240
    assert done.returncode == 1, done.stderr
    cases = {c["case"]: c for c in json.loads(done.stdout)["cases"]}
    assert "did not finish within 15 s" in cases["reddi-thm1-C10"]["error"]
    assert cases["two-scales"]["status"] == "pass"


def test_sigterm_stops_a_check_and_its_workers(tmp_path):
    """A hung optimizer with --jobs 2: SIGTERM ends the check at once (143) and kills its workers."""
    pytest.importorskip("torch")
    import os
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "stuck.py").write_text(TORCH_OPT.format(body="import time\n        while self.param_groups[0]['params'][0].shape[-1] == 1:\n"
                                                          "            time.sleep(0.01)"))  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    err = (tmp_path / "stderr").open("w")  # a file, not a pipe nobody reads while the optimizer prints
    proc = subprocess.Popen([sys.executable, "-m", "adasim", "check", "torch:stuck.Loud", "--case", "reddi-thm1-C10", "--case",
                             "reddi-thm1-C3", "--jobs", "2"], stdout=subprocess.DEVNULL, stderr=err, env=env)  # fmt: skip
    children: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(children) < 2:  # the two workers started
        time.sleep(0.5)
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False).stdout
        children = [int(p) for p in out.split()]
    time.sleep(3)  # the workers are in the hung step
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=20)
    err.close()
    assert code == 143, (tmp_path / "stderr").read_text()[-2000:]
    time.sleep(1)
    alive = [p for p in children if os.path.exists(f"/proc/{p}") and Path(f"/proc/{p}/stat").read_text().split()[2] != "Z"]
    assert alive == []


def test_gallery_bad_input_is_one_line_and_exit_2():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "adasim.checks.gallery", "--library", "nosuch"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "unknown library 'nosuch'" in done.stderr


def test_against_holds_torch_muon_to_its_documented_bfloat16_gap():
    """torch.optim.Muon's defaults translate (momentum → beta1, adjust_lr_fn → lr_scale, λ 0.1);
    its bfloat16 Newton–Schulz keeps x within the documented 0.05 of adasim's float64 (measured
    0.017 and 0.031), and a real difference (another momentum) still parts them."""
    torch = pytest.importorskip("torch", reason="needs the torch extra")
    if not hasattr(torch.optim, "Muon"):
        pytest.skip("this torch has no Muon")
    from adasim.checks.against import conform

    loaded = load("torch:torch.optim.Muon")
    same = conform(loaded, "muon", cases=["matrix-skewed-noise"], steps=500, n_seeds=2)
    assert same["adasim_settings"]["beta1"] == "0.95"
    assert same["adasim_settings"]["weight_decay"] == "0.1"
    assert same["adasim_settings"]["lr_scale"] == "'original'"
    assert same["tol"] == 0.05
    assert "bfloat16" in same["tol_why"]
    assert same["agree"], same["cases"]
    assert 1e-4 < same["cases"][0]["max_deviation"] < 0.05  # not bit for bit: bfloat16 against float64
    other = conform(loaded, "muon", {"beta1": 0.5}, cases=["matrix-skewed-noise"], steps=500, n_seeds=2)
    assert not other["agree"]


def test_against_holds_pytorch_optimizers_soap_to_its_float32_qr():
    """pytorch-optimizer's SOAP: its precondition_frequency is refresh, correct_bias is
    bias_correction, shampoo_beta None is β2; only its float32 QR separates the two (measured
    9.2e-8; tolerance 1e-6), and a real difference (another β1) parts them."""
    pytest.importorskip("torch", reason="needs the torch extra")
    pytest.importorskip("pytorch_optimizer", reason="needs pytorch-optimizer (pip install 'adasim[references]')")
    from adasim.checks.against import conform

    loaded = load("torch:pytorch_optimizer.SOAP")
    same = conform(loaded, "soap", steps=500, n_seeds=2)
    assert [c["case"] for c in same["cases"]] == ["matrix-reddi-thm1-C10", "matrix-skewed-noise"]
    assert same["adasim_settings"]["refresh"] == "10"
    assert same["untranslated"] == {}
    assert same["tol"] == 1e-6
    assert same["agree"], same["cases"]
    assert max(c["max_deviation"] for c in same["cases"]) < 1e-6
    other = conform(loaded, "soap", {"beta1": 0.9}, cases=["matrix-skewed-noise"], steps=500, n_seeds=2)
    assert not other["agree"]


def test_against_holds_optax_muon_to_float64_with_its_own_nesterov():
    """optax.contrib.muon's Nesterov is bias-corrected, μB_t/(1 − μ^(t+1)) + (1 − μ)g/(1 − μ^t), and
    its Newton–Schulz starts from X/(‖X‖_F + ε): `--against` translates its `nesterov` into adasim's
    `form = optax`, and the two agree to rounding (measured 3.4e-15 over 2 000 steps)."""
    pytest.importorskip("optax", reason="needs the jax extra (pip install 'adasim[jax]')")
    from adasim.checks.against import conform

    loaded = load("optax:optax.contrib.muon")
    same = conform(loaded, "muon", steps=500, n_seeds=2)
    assert same["adasim_settings"]["form"] == "'optax'"
    assert same["agree"], same["cases"]
    assert max(c["max_deviation"] for c in same["cases"]) < 1e-12
    torch_form = conform(loaded, "muon", {"form": "pytorch"}, cases=["matrix-skewed-noise"], steps=500, n_seeds=2)
    assert not torch_form["agree"]
    assert "form='optax'" in torch_form["hint"]
