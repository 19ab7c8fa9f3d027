"""`adasim nuf`, `adasim correlate` and `adasim critical` through CliRunner."""

import json

import pytest
from typer.testing import CliRunner

from adasim.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_nuf_json_schema_and_numbers():
    result = invoke("nuf", "--steps", "20000", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["problem"]["C"] == 10.0
    assert data["problem"]["burn_in"] >= 0
    adam = data["results"][0]
    assert adam["optimizer"] == "adam"
    rows = adam["nuf"]
    assert [r["phase"] for r in rows] == [0, 1, 2]
    assert [r["gradient"] for r in rows] == [10.0, -1.0, -1.0]
    for r in rows:
        assert set(r) >= {"gradient", "phase", "analytic", "empirical", "empirical_std", "count"}
        assert r["empirical"] == pytest.approx(r["analytic"], rel=1e-3)  # α/√t: equal in the limit
    # the spike gets the smallest factor under Adam and the largest under AdaShift
    assert rows[0]["empirical"] < rows[1]["empirical"] < rows[2]["empirical"]
    shift = next(r for r in data["results"] if r["optimizer"] == "adashift")
    assert shift["nuf"][0]["empirical"] > max(r["empirical"] for r in shift["nuf"][1:])
    assert adam["drift"]["analytic"] > 0 > shift["drift"]["analytic"]


def test_nuf_stochastic_writes_files(tmp_path):
    result = invoke(
        "nuf", "stochastic", "--C", "10", "--p", "0.2", "--beta1", "0", "--beta2", "0.9",
        "--steps", "20000", "--seeds", "4", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nuf.json", "nuf.png", "nuf.svg"]
    data = json.loads((tmp_path / "nuf.json").read_text())
    rows = {r["optimizer"]: r for r in data["results"]}
    assert "phase" not in rows["adam"]["nuf"][0]
    assert rows["amsgrad"]["analytic_unavailable"].startswith("amsgrad")
    assert rows["adam"]["nuf"][0]["analytic"] < rows["adam"]["nuf"][1]["analytic"]
    assert rows["adashift"]["nuf"][0]["analytic"] == pytest.approx(rows["adashift"]["nuf"][1]["analytic"])


def test_correlate_json(tmp_path):
    result = invoke(
        "correlate", "stochastic", "--C", "10", "--p", "0.2", "--beta2", "0.9", "--steps", "30000",
        "--seeds", "2", "--shifts", "0,1,3", "--json", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = [(r["optimizer"], r["shift"]) for r in data["results"]]
    assert rows == [("adam", 0), ("adashift", 0), ("adashift", 1), ("adashift", 3), ("adopt", 1)]
    for r in data["results"]:
        assert set(r) >= {"pearson_g2_v", "pearson_g2_v_ci", "spearman_g2_v", "pearson_g_inv_sqrt_v", "analytic_pearson_g2_v"}
    assert data["results"][0]["pearson_g2_v"] > 0.4
    assert abs(data["results"][2]["pearson_g2_v"]) < 0.02
    assert (tmp_path / "correlation.png").exists()


def test_correlate_on_a_periodic_problem_depends_on_n_mod_d():
    result = invoke("correlate", "--steps", "6000", "--shifts", "0,3", "--beta2", "0.5", "--json")
    data = json.loads(result.stdout)
    by_shift = {r["shift"]: r["pearson_g2_v"] for r in data["results"] if r["optimizer"] == "adashift"}
    assert by_shift[3] == pytest.approx(by_shift[0], rel=1e-6)
    assert all(r["analytic_pearson_g2_v"] is None for r in data["results"])


def test_critical_json():
    result = invoke("critical", "shi-two-spike", "-o", "rmsprop", "--eps", "0", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 0.63 < data["critical"] < 0.64
    assert data["wrong_way_below"] is True
    result = invoke("critical", "--solve-for", "C", "--beta2", "0.1", "--eps", "0", "--json")
    assert json.loads(result.stdout)["critical"] == pytest.approx(9.868, rel=1e-3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nuf", "--steps", "100", "--burn-in", "100"], "burn-in"),
        (["correlate", "--shifts", "a,b"], "shifts must be"),
        (["correlate", "--shifts", "-1"], "shifts must be"),
        (["critical", "--solve-for", "lr"], "solve-for"),
        (["critical", "-o", "adam", "-o", "adopt"], "one optimizer"),
        (["critical", "-o", "adagrad"], "adagrad has no beta2"),
        (["critical", "-o", "adagrad", "--solve-for", "C"], "no steady state"),
        (["critical", "finite-sum", "--sampling", "shuffle"], "no closed form"),
    ],
)
def test_bad_input(args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]


@pytest.mark.slow
def test_find_counterexample_json_and_figure(tmp_path):
    result = invoke(
        "find-counterexample", "--beta1", "0", "--beta2", "0.99", "--max-period", "300", "--json", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"found", "problem", "drift", "command", "confirmed", "reason"}
    assert data["found"] is True
    assert data["problem"]["d"] <= 300
    assert data["command"].startswith("adasim run online")
    assert (tmp_path / "wrong_way.png").exists()
    # the printed command runs and agrees
    args = data["command"].split()[2:]
    rerun = invoke("run", *args, "--json")
    assert rerun.exit_code == 0, rerun.output
    assert json.loads(rerun.stdout)["results"][0]["verdict"] == "worst point"


def test_find_counterexample_none_for_amsgrad():
    result = invoke("find-counterexample", "-o", "amsgrad", "--no-simulation", "--json")
    data = json.loads(result.stdout)
    assert data["found"] is False
    assert "running maximum" in data["reason"]
    bad = invoke("find-counterexample", "--family", "periodic")
    assert bad.exit_code == 2
    assert "unknown family" in bad.stderr


def test_teaching_commands(tmp_path):
    shot = tmp_path / "demo.png"
    assert invoke("demo", "--save", str(shot), "--steps", "2000").exit_code == 0
    assert shot.read_bytes()[:4] == b"\x89PNG"
    no_window = invoke("demo")  # the tests run on Agg: no window can open
    assert no_window.exit_code == 2
    assert "--save" in no_window.stderr
    gif = tmp_path / "a.gif"
    assert invoke("animate", "--steps", "40", "--frames", "4", "--out", str(gif)).exit_code == 0
    assert gif.exists()
    bad = invoke("animate", "--out", str(tmp_path / "a.avi"))
    assert bad.exit_code == 2
    lesson = invoke("lesson", "--out", str(tmp_path / "lesson"), "--steps", "1000")
    assert lesson.exit_code == 0, lesson.output
    assert (tmp_path / "lesson" / "lesson.html").exists()


def test_the_reproduce_line_is_one_pasteable_line_on_a_narrow_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    result = invoke("find-counterexample", "--beta1", "0", "--beta2", "0.99", "--max-period", "300", "--no-simulation")
    assert result.exit_code == 0, result.output
    (line,) = [ln for ln in result.output.splitlines() if "reproduce:" in ln]
    command = line.split("reproduce:", 1)[1].strip()
    as_json = invoke("find-counterexample", "--beta1", "0", "--beta2", "0.99", "--max-period", "300", "--no-simulation", "--json")
    assert command == json.loads(as_json.stdout)["command"]  # the whole command, not its first 60 columns


def test_the_printed_reproduce_command_gives_the_confirming_simulation_s_numbers():
    """Pasted, the command runs what find-counterexample simulated: the same optimizers with the
    same settings (AdaShift's shift included), the same floats."""
    import shlex

    found = invoke("find-counterexample", "--beta1", "0", "--beta2", "0.99", "--max-period", "300", "--steps", "20000", "--json")
    assert found.exit_code == 0, found.output
    data = json.loads(found.stdout)
    again = invoke(*shlex.split(data["command"])[1:], "--json")
    assert again.exit_code == 0, again.output
    ends = {r["optimizer"]: r["final_x"] for r in json.loads(again.stdout)["results"]}
    assert ends == data["simulation"]["final_x"]


def test_correlate_runs_a_rule_without_a_shift_once_and_names_the_n_of_one_with_a_shift():
    """ShiftedMean has a shift n: one run per --shifts value, each named by its n; Leaky has none: one
    run, at its own rule (this once ran Leaky-like rules at every shift, labelled "shift None")."""
    rules = ["-o", "examples/scale_rules.py:ShiftedMean", "-o", "examples/scale_rules.py:Leaky"]
    common = ["correlate", "stochastic", "--beta1", "0.9", "--beta2", "0.9", "--steps", "20000", "--shifts", "0,1", *rules]
    data = json.loads(invoke(*common, "--json").stdout)
    assert [(r["optimizer"], r["n"], r["shift"]) for r in data["results"]] == [
        ("ShiftedMean", 0, 0),
        ("ShiftedMean", 1, 1),
        ("Leaky", None, None),
    ]
    result = runner.invoke(app, common, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    flags = [line for line in result.stdout.splitlines() if "v_t depends on" in line]
    assert flags == [
        "ShiftedMean (n = 0): v_t depends on g_t itself: this scale re-introduces the correlation AdaShift removes",
        "ShiftedMean (n = 1): v_t depends on g_(t−1), which is still inside m_t: this scale re-introduces the correlation "
        "AdaShift removes",
        "Leaky: v_t depends on g_t itself: this scale re-introduces the correlation AdaShift removes",
    ]
    rows = [line for line in result.stdout.splitlines() if "Leaky" in line and "│" in line]
    assert len(rows) == 1
    assert "its own rule" in rows[0]
    assert "None" not in result.stdout
