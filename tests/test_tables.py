"""Tidy tables: runs, factors and sweeps to columns, CSV (no pandas needed) and DataFrames."""

import csv

import numpy as np
import pytest

from adasim import Adam, Online, simulate
from adasim.errors import AdasimError
from adasim.tables import write_csv


def test_a_run_is_one_row_per_recorded_step_lane_and_coordinate(tmp_path):
    run = simulate(Online(), Adam(), 50, seeds=[3, 4], stride=1)
    cols = run.columns()
    R, L = len(run.trace.t), 2
    assert len(cols["t"]) == R * L
    # row (t, lane) holds that lane's value at that step
    i = 7 * L + 1
    assert (cols["t"][i], cols["lane"][i], cols["seed"][i]) == (run.trace.t[7], 1, 4)
    assert cols["x"][i] == run.trace.x[7, 1, 0]
    assert cols["v"][i] == run.trace.v[7, 1, 0]
    path = run.to_csv(tmp_path / "run.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == R * L
    assert float(rows[i]["x"]) == run.trace.x[7, 1, 0]  # written with every digit


def test_nuf_and_sweep_tables(tmp_path):
    from adasim.analysis.report import nuf_report
    from adasim.settings import RunSettings
    from adasim.spec import build_spec
    from adasim.sweep import make_plan, run_sweep

    report = nuf_report(build_spec("reddi-thm1", run=RunSettings(steps=2000)))
    cols = report.columns()
    adam = cols["optimizer"] == "adam"
    assert cols["phase"][adam].tolist() == [0, 1, 2]
    rows = report.results[0].as_dict()["nuf"]  # the table holds the report's numbers, row for row
    assert cols["closed_form"][adam].tolist() == [r["analytic"] for r in rows]
    assert cols["measured"][adam].tolist() == [r["empirical"] for r in rows]
    sweep = run_sweep(make_plan("online", ["beta2=0.1,0.5"], optimizers=["adam"], run=RunSettings(steps=100)), workers=1)
    assert sweep.columns()["beta2"].tolist() == [0.1, 0.5]


def test_to_dataframe_needs_pandas_and_says_so(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(AdasimError, match=r"adasim\[pandas\]"):
        simulate(Online(), Adam(), 10).to_dataframe()


def test_to_dataframe():
    pd = pytest.importorskip("pandas", reason="pandas is the optional extra adasim[pandas]")
    frame = simulate(Online(), Adam(), 20, seeds=[0, 1], stride=1).to_dataframe()
    assert isinstance(frame, pd.DataFrame)
    assert frame.groupby("lane")["t"].count().tolist() == [20, 20]


def test_csv_quotes_text_with_commas_and_leaves_nan_empty(tmp_path):
    path = write_csv(tmp_path / "t.csv", {"a": np.array(["x,y", "z"]), "b": np.array([np.nan, 1.5])})
    assert path.read_text() == 'a,b\n"x,y",\nz,1.5\n'
    with pytest.raises(AdasimError, match="equal lengths"):
        write_csv(tmp_path / "u.csv", {"a": np.zeros(2), "b": np.zeros(3)})


def test_summary_reports_each_setting_not_one_merged_median():
    """Lanes 0-2 run Reddi's β2 = 1/101 (Adam climbs to +1), lanes 3-5 β2 = 0.999: one median over
    all six would describe neither."""
    beta2 = np.repeat([1 / 101, 0.999], 3)
    s = simulate(Online(), Adam(beta1=0.0, beta2=beta2, lr=0.5), 3000, seeds=np.arange(6)).summary()
    assert (s["final_x"], s["verdict"]) == (None, "per setting")
    groups = s["by_setting"]
    assert [g["settings"]["beta2"] for g in groups] == [1 / 101, 0.999]
    assert [g["lanes"] for g in groups] == [3, 3]
    assert groups[0]["verdict"] == "worst point"
    assert groups[1]["final_x"] < 0
    assert "by_setting" not in simulate(Online(), Adam(), 100, seeds=[0, 1]).summary()  # seeds alone are one setting
