"""Sweeps: grids, chunks in a process pool, resume, outputs, and Shi et al.'s transition."""

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim import AdasimError
from adasim.cli.app import app
from adasim.settings import RunSettings
from adasim.sweep import make_plan, parse_axis, parse_grid, run_sweep, write_table


def test_axis_parsing():
    np.testing.assert_allclose(parse_axis("beta2", "0:0.9:4"), [0.0, 0.3, 0.6, 0.9])
    np.testing.assert_allclose(parse_axis("lr", "log:1e-4:1e-1:4"), [1e-4, 1e-3, 1e-2, 1e-1])
    np.testing.assert_array_equal(parse_axis("seed", "0,1,2"), [0, 1, 2])
    assert parse_axis("period", "3,5").dtype == np.int64


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["beta2=0:1"], "malformed range"),
        (["beta2=a,b"], "malformed range"),
        (["lr=log:0:1:3"], "positive ends"),
        (["gamma=0,1"], "cannot sweep 'gamma'"),
        (["period=2.5,3"], "whole numbers"),
        (["beta2"], "name=values"),
        (["beta2=0,1", "beta2=0.5"], "swept twice"),
        ([], "at least one axis"),
    ],
)
def test_bad_grids(items, message):
    with pytest.raises(AdasimError, match=message):
        parse_grid(items)


def test_grid_limit_needs_force():
    with pytest.raises(AdasimError, match="--force"):
        make_plan("reddi-thm1", ["beta2=0:0.9:2000", "beta1=0:0.9:1000"], run=RunSettings(steps=10))


def test_shi_transition_in_a_sweep(tmp_path):
    """Shi et al. 2021, C = 10: RMSProp diverges for β2 ≤ 0.63 and converges from 0.64 on (by Shi's
    rule, which needs ~2·10^5 steps here: with α_t = 1/√t the distance at β2 = 0.64 is 0.013 after
    5·10^4 steps and 0.006 after 2·10^5)."""
    plan = make_plan("shi-two-spike", ["beta2=0.5,0.6,0.63,0.64,0.7,0.9"], run=RunSettings(steps=200_000))
    result = run_sweep(plan, workers=1)
    conv = dict(zip(result.table["beta2"].tolist(), result.table["converged"].tolist(), strict=True))
    assert conv == {0.5: False, 0.6: False, 0.63: False, 0.64: True, 0.7: True, 0.9: True}
    drift = dict(zip(result.table["beta2"].tolist(), result.table["drift"].tolist(), strict=True))
    assert drift[0.63] > 0 > drift[0.64]  # the closed-form boundary agrees


def test_pool_resume_and_outputs(tmp_path):
    plan = make_plan(
        "reddi-thm1", ["beta2=0.001:0.5:6", "seed=0,1"], optimizers=["adam", "adashift"], run=RunSettings(steps=2000)
    )
    plan = dataclasses.replace(plan, chunk=4)  # 12 cells per optimizer → 3 chunks each
    first = run_sweep(plan, tmp_path, workers=2)
    assert first.computed == 6
    assert first.reused == 0
    chunks = sorted((tmp_path / "chunks").iterdir())
    assert len(chunks) == 6
    chunks[2].unlink()  # as if the sweep had been killed before this chunk finished
    chunks[3].write_bytes(b"half-written")  # or a chunk file were damaged
    again = run_sweep(plan, tmp_path, resume=True, workers=1)
    assert again.reused == 4
    assert again.computed == 2
    for key in ("final_x", "converged", "drift"):
        np.testing.assert_array_equal(again.table[key], first.table[key])
    files = write_table(again, tmp_path)
    header = (tmp_path / files["csv"]).read_text().splitlines()[0]
    assert header == "optimizer,beta2,seed,final_x,distance,average_regret,converged,drift,status"
    assert len((tmp_path / "sweep.csv").read_text().splitlines()) == 1 + 24
    # a different grid refuses the old chunks instead of mixing them in
    other = dataclasses.replace(plan, axes={**plan.axes, "beta2": plan.axes["beta2"] * 0.5})
    assert run_sweep(other, tmp_path, resume=True, workers=1).reused == 0


def test_sweep_command(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", "--grid", "beta2=0.001,0.5", "--grid", "beta1=0,0.5", "--steps", "3000", "--workers", "1",
                                 "-o", "adam", "--out", str(tmp_path), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"]["adam"]["cells"] == 4
    assert data["axes"] == {"beta2": [0.001, 0.5], "beta1": [0.0, 0.5]}
    assert {"sweep.npz", "sweep.csv", "sweep.json", "sweep.png", "sweep.svg"} <= {p.name for p in tmp_path.iterdir()}
    bad = runner.invoke(app, ["sweep", "--grid", "beta2=0:1"])
    assert bad.exit_code == 2
    assert "malformed range" in bad.stderr
    no_out = runner.invoke(app, ["sweep", "--grid", "beta2=0,0.5", "--resume"])
    assert no_out.exit_code == 2


@pytest.mark.slow
def test_dask_local_cluster_matches_the_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    plan = make_plan("reddi-thm1", ["beta2=0.001:0.5:4"], optimizers=["adam", "adopt"], run=RunSettings(steps=2000))
    plan = dataclasses.replace(plan, chunk=2)
    local = run_sweep(plan, workers=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        remote = run_sweep(plan, tmp_path, scheduler=cluster.scheduler_address)
    assert remote.computed == 4
    assert len(list((tmp_path / "chunks").iterdir())) == 4
    for key in ("final_x", "distance", "converged"):
        np.testing.assert_array_equal(remote.table[key], local.table[key])


@pytest.fixture
def short_scheduler_wait(monkeypatch):
    import adasim.sweep

    monkeypatch.setattr(adasim.sweep, "SCHEDULER_TIMEOUT", 1.0)  # nothing listens there: no need to wait 10 s


def test_unreachable_scheduler_is_a_clear_error(short_scheduler_wait):
    pytest.importorskip("distributed")
    plan = make_plan("reddi-thm1", ["beta2=0.1,0.2"], run=RunSettings(steps=100))
    with pytest.raises(AdasimError, match=r"no Dask scheduler answered at tcp://127\.0\.0\.1:9 within 1 s"):
        run_sweep(plan, scheduler="tcp://127.0.0.1:9", workers=1)


def _listener(answer: bytes | None):
    """A port that accepts connections and answers like a web server (or stays silent)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if answer is not None:
                conn.recv(1024)
                conn.sendall(answer)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("bogus", "takes a Dask scheduler's address such as tcp://host:8786"),
        ("tcp://127.0.0.1:9", "no Dask scheduler answered"),
        ("web", "answers but is not a Dask scheduler"),
        ("silent", "no Dask scheduler answered"),
    ],
)
def test_scheduler_option_errors_in_the_cli(short_scheduler_wait, address, message):
    """One line, exit 2, within the timeout: no traceback from a half-made Client after it."""
    pytest.importorskip("distributed")
    import time

    server = None
    if address in ("web", "silent"):
        server = _listener(b"HTTP/1.0 400 Bad Request\r\n\r\n" if address == "web" else None)
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    began = time.monotonic()
    try:
        result = CliRunner().invoke(app, ["sweep", "--grid", "beta2=0.1,0.2", "--steps", "100", "--scheduler", address])
    finally:
        if server is not None:
            server.close()
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert time.monotonic() - began < 5


def test_drift_is_the_closed_form_of_each_cell_and_shared_across_seeds():
    from adasim import Adam, Online
    from adasim.analysis.drift import analytic_drift

    plan = make_plan("reddi-thm1", ["beta2=0.1,0.5,0.9", "seed=0:2:3"], optimizers=["adam"], run=RunSettings(steps=50))
    t = run_sweep(plan, workers=1).table
    for beta2, drift in zip(t["beta2"], t["drift"], strict=True):
        opt = plan.spec.optimizers[0].replace(beta2=float(beta2))
        assert drift == analytic_drift(plan.spec.problem, opt)
    assert isinstance(plan.spec.problem, Online)
    assert plan.spec.optimizers[0].definition is Adam


def test_a_cell_gets_the_numbers_of_the_run_with_its_settings(tmp_path):
    """Preset relations are resolved per cell: reddi-thm1's β2 = 1/(1+C²) follows each cell's C,
    so the C = 20 cell is `adasim run reddi-thm1 --C 20`, float for float."""
    import csv

    out = tmp_path / "sweep"
    swept = CliRunner().invoke(app, ["sweep", "reddi-thm1", "-o", "adam", "-g", "C=10,20", "--steps", "2000", "--no-drift",
                                     "--out", str(out)])  # fmt: skip
    assert swept.exit_code == 0, swept.output
    with open(out / "sweep.csv") as handle:
        cells = {float(row["C"]): row for row in csv.DictReader(handle)}
    for C in (10.0, 20.0):
        ran = CliRunner().invoke(app, ["run", "reddi-thm1", "-o", "adam", "--C", str(C), "--steps", "2000", "--json"])
        assert ran.exit_code == 0, ran.output
        result = json.loads(ran.stdout)["results"][0]
        assert result["config"]["beta2"] == pytest.approx(1 / (1 + C * C), rel=1e-15)
        assert float(cells[C]["final_x"]) == pytest.approx(result["final_x"], rel=1e-9)  # the CSV keeps 10 digits
        assert float(cells[C]["average_regret"]) == pytest.approx(result["average_regret"], rel=1e-9)


def test_a_preset_relation_is_resolved_by_one_function_for_specs_and_sweep_cells():
    """β2 = 1/(1+C²) of Reddi's Theorem 1: build_spec and a sweep cell derive it with the same
    function (adasim.problems.presets.derive), so a cell equals the spec built at its values."""
    from adasim.problems.presets import beta2_of_C, derive
    from adasim.spec import build_spec
    from adasim.sweep import cell_settings, make_plan

    plan = make_plan("reddi-thm1", ["C=2,5,10"], run=RunSettings(steps=10))
    _, hyper, _ = cell_settings(plan, 0, 3)
    for i, C in enumerate((2.0, 5.0, 10.0)):
        assert hyper["beta2"][i] == build_spec("reddi-thm1", problem={"C": C}).optimizers[0].beta2
    assert derive({"beta2": beta2_of_C, "lr": 0.5}, {"C": 3.0}, given=("lr",)) == {"beta2": 1 / 10}
