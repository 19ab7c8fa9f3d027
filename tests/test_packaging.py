"""Installation: `python -m adasim` works and the wheel puts the CLI under adasim/, never a bare `cli`."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "adasim", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "run" in result.stdout


def test_wheel_installs_cli_under_the_package(tmp_path):
    pytest.importorskip("setuptools")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("adasim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "adasim/cli/app.py" in names
    assert "adasim/engine.py" in names
    assert not [n for n in names if n.startswith(("cli/", "tests/", "benchmarks/"))]
