"""`adasim run` through Typer's CliRunner: output, files, and every kind of bad input."""

import hashlib
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_default_run_prints_the_table():
    result = invoke("run", "--steps", "20000")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in ("adam", "amsgrad", "adashift", "adopt"):
        assert name in out
    assert "worst point" in out
    assert "optimum" in out
    assert "Theorem 1" in out


def test_json_is_the_summary_and_nothing_else():
    result = invoke("run", "--steps", "20000", "--json", "--seeds", "3")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    problem = summary["problem"]
    assert problem["C"] == 10.0
    assert problem["d"] == 3
    assert problem["optimum"] == -1.0
    assert problem["seeds"] == [0, 1, 2]
    verdicts = {r["optimizer"]: r["verdict"] for r in summary["results"]}
    assert verdicts == {"adam": "worst point", "amsgrad": "optimum", "adashift": "optimum", "adopt": "optimum"}
    adam = summary["results"][0]
    assert adam["config"]["beta2"] == pytest.approx(1 / 101)
    assert adam["config"]["bias_correction"] is True
    assert len(adam["final_x_quantiles"]) == 2
    assert adam["average_regret"] > 1


def test_options_reach_the_optimizers_and_the_problem():
    result = invoke(
        "run", "online", "--C", "5", "-d", "4", "-k", "1", "--small", "2", "-o", "adam", "-o", "adashift",
        "--beta1", "0.5", "--beta2", "0.9", "--lr", "0.01", "--schedule", "constant", "--eps", "1e-6",
        "--eps-mode", "inside", "--no-bias-correction", "-n", "3", "--steps", "100", "--x0", "0.5",
        "--domain", "-2,2", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["problem"] | {"C": 5.0, "d": 4, "s": 2.0, "domain": [-2.0, 2.0], "x0": 0.5} == summary["problem"]
    adam, shift = (r["config"] for r in summary["results"])
    assert adam == adam | {"beta1": 0.5, "beta2": 0.9, "lr": 0.01, "eps": 1e-6, "eps_mode": "inside", "bias_correction": False}
    assert shift["n"] == 3
    assert shift["eps_mode"] == "inside"


@pytest.mark.parametrize(
    ("problem", "extra"),
    [
        ("stochastic", ["--p", "0.02", "--C", "60"]),
        ("finite-sum", ["--n-functions", "5", "--sampling", "shuffle"]),
        ("adashift-stochastic", ["--steps", "2000", "--warmup", "100"]),
        ("adopt-toy-k10", []),
        ("shi-two-spike", []),
    ],
)
def test_problems_and_presets_run(problem, extra):
    args = ["run", problem, "--steps", "3000", "--json", *extra]
    if "--steps" in extra:
        args = ["run", problem, "--json", *extra]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"]


def test_out_writes_trace_summary_and_figures(tmp_path):
    out = tmp_path / "nested" / "out"
    result = invoke("run", "--steps", "5000", "--seeds", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["run.png", "run.svg", "summary.json", "trace.npz"]
    summary = json.loads((out / "summary.json").read_text())
    with np.load(out / "trace.npz") as data:
        assert data["adam/x"].shape[1:] == (2, 1)
        assert json.loads(str(data["meta.json"])) == {k: v for k, v in summary.items() if k != "written"}
    assert (out / "run.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the record, written last, lists every other file with its SHA-256
    assert sorted(summary["written"]) == ["run.png", "run.svg", "trace.npz"]
    for name, digest in summary["written"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_overflow_is_reported_with_exit_code_3(tmp_path):
    result = invoke("run", "online", "-o", "sgd", "--lr", "1e308", "--domain", "none", "--steps", "10", "--out", str(tmp_path))
    assert result.exit_code == 3
    assert "overflow" in result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["results"][0]["status"] == "failed"
    assert summary["results"][0]["final_x"] is None


BAD = [
    (["--beta1", "1.0"], "beta1 must lie in [0, 1)"),
    (["--beta2", "-0.5"], "beta2 must lie in [0, 1)"),
    (["--lr", "0"], "lr must lie in (0"),
    (["--lr", "-1"], "lr must lie in (0"),
    (["online", "-k", "3", "-d", "3"], "k < d"),
    (["stochastic", "--p", "1.2"], "p must lie in (0, 1)"),
    (["stochastic", "--p", "0"], "p must lie in (0, 1)"),
    (["--steps", "0"], "steps must lie in"),
    (["--steps", "-5"], "steps must lie in"),
    (["--shift", "-1"], "shift n must lie in"),
    (["--seeds", "0"], "seeds must lie in"),
    (["--domain", "1,-1"], "empty domain"),
    (["--domain", "x"], "domain must be"),
    (["--x0", "5"], "outside the domain"),
    (["reddi-thm"], "did you mean 'reddi-thm1'"),
    (["-o", "adma"], "did you mean 'adam'"),
    (["--schedule", "cos"], "unknown schedule"),
    (["--amsgrad-convention", "keras"], "unknown amsgrad convention"),
    (["--beta1", "abc"], "Invalid value"),
    (["--engine", "turbo"], "unknown engine 'turbo'"),
    (["--frobnicate"], "No such option"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = invoke("run", "--steps", "10", *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("adasim: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_unwritable_out_is_rejected_before_running(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = invoke("run", "--steps", "10", "--out", str(blocker / "sub"))
    assert result.exit_code == 2
    assert "cannot write to output folder" in result.stderr
    assert blocker.read_text() == ""


def test_list_shows_everything():
    result = invoke("list")
    assert result.exit_code == 0
    for word in (
        "reddi-thm1",
        "adashift-stochastic",
        "adopt-toy-k50",
        "shi-two-spike",
        "adashift",
        "adopt",
        "pytorch",
        "official",
    ):
        assert word in result.stdout
    cat = json.loads(invoke("list", "--json").stdout)
    assert cat["optimizers"]["adam"]["defaults"]["beta2"] == 0.999
    assert set(cat["conventions"]["amsgrad_convention"]) == {"paper", "pytorch", "optax"}
    assert set(cat["conventions"]["engine"]) == {"auto", "numpy", "compiled", "python"}
    assert "numba" in cat["conventions"]["engine"]["compiled"]  # says whether it is installed


def test_engines_agree_from_the_command_line():
    """Every executor runs the same step: the same numbers, bit for bit, from the command line."""
    ends = {}
    for engine in ("numpy", "compiled"):
        result = invoke("run", "--steps", "5000", "--seeds", "2", "--json", "--engine", engine)
        assert result.exit_code == 0, result.output
        ends[engine] = [(r["final_x"], r["average_regret"]) for r in json.loads(result.stdout)["results"]]
    assert ends["compiled"] == ends["numpy"]


def test_an_unbounded_domain_gets_a_direction_verdict():
    """No worst point exists on an unbounded domain: the verdict says which way x went."""
    from adasim import SGD, Adam, Domain, Online, simulate

    problem = Online(C=10, domain=Domain(-np.inf, np.inf))  # gradients 10, −1, −1: x* is at −∞
    reddi = Adam(beta1=0.0, beta2=1 / 101, lr=0.5)  # Reddi et al.'s Theorem 1 setting
    verdicts = {o.name: simulate(problem, o, 3000).summary()["verdict"] for o in (reddi, SGD(lr=0.01))}
    assert verdicts == {"adam": "away from x*", "sgd": "toward x*"}
    result = invoke("run", "stochastic", "--domain", "none", "--steps", "2000", "-o", "adam")
    assert "away from x*" in result.output
    assert "worst point" not in result.output
