"""examples/probe_transformer.py and examples/probe_digits.py run as written (a few steps), with
torch's Adam and with adasim's AdaShift through adasim.as_torch, and write each probe's report."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_probe_example_runs_and_writes_its_reports(tmp_path):
    pytest.importorskip("torch", reason="the example needs torch (pip install torch==2.13.0)")
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "probe_transformer.py"), "--steps", "8", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for which in ("adam", "adashift"):
        report = json.loads((tmp_path / f"probe-{which}.json").read_text())
        assert report["settings"]["steps"] == 8
        assert {row["layer"] for row in report["layers"]} >= {"embed", "head"}
        assert (tmp_path / f"probe-{which}.png").exists()
    assert "r(g²,v)" in done.stdout


def test_the_digits_example_runs_and_writes_its_reports(tmp_path):
    pytest.importorskip("torch", reason="the example needs torch (pip install torch==2.13.0)")
    pytest.importorskip("sklearn", reason="the digits ship with scikit-learn (pip install -e '.[examples]')")
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "probe_digits.py"), "--steps", "300", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for which in ("adam", "adashift"):
        report = json.loads((tmp_path / f"probe-digits-{which}.json").read_text())
        assert [row["layer"] for row in report["layers"]] == ["0", "2"]
    assert done.stdout.count("held-out accuracy") == 2
