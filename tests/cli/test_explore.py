"""`adasim explore`: the static export from the command line, its refusals, and the server as a
subprocess (serves its page, stops on Ctrl-C with one line)."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from helpers import one_line_error
from typer.testing import CliRunner

from adasim.cli.app import app


def test_export_writes_one_page_and_its_record(tmp_path):
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["explore", "--export", str(out), "--grid", "C=10", "--grid", "beta1=0",
                                      "--grid", "beta2=0.05,0.2", "-o", "adam", "-o", "adashift"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    assert "2 views" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["explore.json", "index.html"]
    record = json.loads((out / "explore.json").read_text())
    assert record["views"] == 2
    assert record["grid"]["beta2"] == ["0.05", "0.2"]
    assert record["optimizers"] == ["adam", "adashift"]
    assert set(record["written"]) == {"index.html"}
    page = (out / "index.html").read_text()
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    data = json.loads(re.search(r'id="adasim-data">(.*?)</script>', page, re.S).group(1))
    assert len(data["views"]) == 2
    assert all("C=10" in k for k in data["views"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "beta2=abc"], "β2 must be a number"),
        (["--grid", "betta2=0.1"], "did you mean 'beta2'"),
        (["--grid", "beta2"], "--grid must look like"),
        (["--grid", "C=" + ",".join(str(c) for c in range(3, 60)), "--grid", "beta1=0,0.5,0.9"], "at most 600"),
        (["--grid", "d=3", "--grid", "k=3"], "spikes k must be below the period d"),
        (["--grid", "family=online,stochastic"], "one problem family"),
        (["-o", "mine.py:Name"], "mine.py"),
    ],
)
def test_export_refusals_are_one_line_and_leave_no_folder(tmp_path, args, message):
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["explore", "--export", str(out), *args])
    assert message in one_line_error(result)
    assert not out.exists()


@pytest.mark.parametrize("name", ["sf-adamw", "lion"])
def test_export_draws_optimizers_without_factors(tmp_path, name):
    """Issue: `--export d -o sf-adamw` printed "computing 12 views", exited 2 and left an empty folder."""
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["explore", "--export", str(out), "--grid", "C=10", "--grid", "beta1=0",
                                      "--grid", "beta2=0.05,0.2", "-o", "adam", "-o", name, "--steps", "1000"])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    data = json.loads(re.search(r'id="adasim-data">(.*?)</script>', page, re.S).group(1))
    for entry in data["views"].values():
        drawn = {o["name"]: o for o in entry["optimizers"]}
        assert drawn[name]["x"]
        assert drawn[name]["drift"]["verdict"] == "no closed form"


def test_an_export_that_fails_while_computing_leaves_no_folder(tmp_path, monkeypatch):
    """Every view is computed before the folder is made: a failure (or Ctrl-C) midway leaves nothing."""
    import adasim.explorer.export as export
    from adasim.errors import AdasimError

    calls = []

    def fails(position):
        calls.append(position)
        if len(calls) == 2:
            raise AdasimError("the second view fails")
        return {}

    monkeypatch.setattr(export, "view", fails)
    out = tmp_path / "deeper" / "site"
    result = CliRunner().invoke(app, ["explore", "--export", str(out), "--grid", "C=10", "--grid", "beta1=0",
                                      "--grid", "beta2=0.05,0.2", "--steps", "1000"])  # fmt: skip
    assert "the second view fails" in one_line_error(result)
    assert not (tmp_path / "deeper").exists()


def test_an_export_into_a_file_is_refused_before_computing(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    assert "not a folder" in one_line_error(CliRunner().invoke(app, ["explore", "--export", str(target)]))
    assert target.read_text() == "x"


def test_grid_without_export_and_bad_server_options_are_refused():
    """Refused before the server is needed: these hold without Tornado."""
    assert "--export DIR" in one_line_error(CliRunner().invoke(app, ["explore", "--grid", "C=3"]))
    assert "--port must lie in [0, 65535]" in one_line_error(CliRunner().invoke(app, ["explore", "--port", "70000"]))


def test_a_host_it_cannot_listen_on_is_refused():
    pytest.importorskip("tornado", reason="the explorer's server needs tornado (pip install -e '.[explore]')")
    assert "cannot listen on @@@:8050" in one_line_error(CliRunner().invoke(app, ["explore", "--host", "@@@"]))


def test_without_tornado_the_server_is_refused_naming_the_extra(monkeypatch):
    """The server's package missing is bad input that names the extra (simulated: sys.modules holds None)."""
    monkeypatch.setitem(sys.modules, "tornado", None)
    monkeypatch.setitem(sys.modules, "tornado.web", None)
    assert "adasim[explore]" in one_line_error(CliRunner().invoke(app, ["explore", "--no-browser", "--port", "0"]))


@pytest.mark.slow
def test_the_server_serves_its_page_and_stops_on_ctrl_c(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "adasim", "explore", "--port", "0", "--no-browser", "--steps", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        url = None
        for line in proc.stdout:
            found = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
            if found:
                url = found.group(1)
                break
        assert url, proc.stderr.read()
        with urllib.request.urlopen(url, timeout=30) as res:
            assert res.status == 200
            assert b"adasim explorer" in res.read()
        with urllib.request.urlopen(url + "api/view?C=4", timeout=30) as res:
            assert json.loads(res.read())["position"]["C"] == "4"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    # Ctrl-C is the documented way to stop the server: not an error (it said "interrupted by SIGINT", exit 130)
    assert proc.returncode == 0, err
    assert err == "adasim explore: stopped\n", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_during_an_export_is_still_an_interruption(tmp_path):
    """Only the server is stopped by Ctrl-C: an export interrupted while computing exits 130 with
    its one line, and leaves no folder."""
    out = tmp_path / "x"
    proc = subprocess.Popen([sys.executable, "-m", "adasim", "explore", "--export", str(out), "--steps", "200000",
                             "--grid", "C=3,5,10,20", "--grid", "beta1=0,0.5,0.9"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        assert "computing" in proc.stdout.readline()
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.startswith("adasim: error: interrupted by SIGINT"), err
    assert not out.exists()


@pytest.mark.slow
def test_sigterm_while_views_compute_exits_at_once_with_one_line(tmp_path):
    """Issue: SIGTERM while a view computed left the process for ~60 s and logged "internal error:
    RuntimeError: cannot schedule new futures after interpreter shutdown" twice. Running views now
    stop at their next block of steps (measured: 5.8 s with two internal errors before, 0.4 s after)."""
    proc = subprocess.Popen([sys.executable, "-m", "adasim", "explore", "--port", "0", "--no-browser", "--steps", "200000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    socks = []
    try:
        port = None
        for line in proc.stdout:
            found = re.search(r"serving http://127\.0\.0\.1:(\d+)/", line)
            if found:
                port = int(found.group(1))
                break
        assert port, proc.stderr.read()
        for C in (10, 11, 12):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(f"GET /api/view?family=stochastic&seeds=64&optimizers=adam,amsgrad,adashift,adopt,sgd,rmsprop&C={C} "
                         "HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())  # fmt: skip
            socks.append(sock)
        time.sleep(1.5)  # two views compute, one waits
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        took = time.monotonic() - began
    finally:
        proc.kill()
        for sock in socks:
            sock.close()
    assert proc.returncode == 143
    assert err.startswith("adasim: error: interrupted by SIGTERM"), err
    assert err.count("\n") == 1, err
    assert took < 5, took
