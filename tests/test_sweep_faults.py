"""Faults: a sweep killed (SIGKILL, SIGTERM) or its chunks damaged in every way we know resumes
to the table of an uninterrupted run, byte for byte; no worker outlives its sweep; two sweeps
never share a folder (the reliability issue)."""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim.cli.app import app
from adasim.settings import RunSettings
from adasim.sweep import make_plan, run_sweep, write_table


def small_plan(**kw):
    plan = make_plan(
        "online", ["beta2=0.1:0.9:40"], optimizers=["adam", "amsgrad"], **kw, run=RunSettings(steps=200, engine="numpy")
    )
    return dataclasses.replace(plan, chunk=8)  # 5 chunks per optimizer


def table_bytes(result, folder):
    write_table(result, folder)
    return (folder / "sweep.csv").read_bytes()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    result = run_sweep(small_plan(), folder, workers=1)
    return table_bytes(result, folder), folder


def _rewrite(path, change):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _meta(arrays, **changes):
    arrays["meta.json"] = np.array(json.dumps({**json.loads(str(arrays["meta.json"])), **changes}))


DAMAGE = {
    "truncated": lambda p, ref: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "zero length": lambda p, ref: p.write_bytes(b""),
    "not a zip": lambda p, ref: p.write_bytes(b"hello, this is not a chunk"),
    "bad CRC": lambda p, ref: _flip_member_byte(p),
    "missing field": lambda p, ref: _rewrite(p, lambda a: a.pop("drift")),
    "fewer rows": lambda p, ref: _rewrite(p, lambda a: a.update({k: v[:-1] for k, v in a.items() if k != "meta.json"})),
    "wrong kind": lambda p, ref: _rewrite(p, lambda a: a.update(converged=a["converged"].astype(float))),
    "meta not JSON": lambda p, ref: _rewrite(p, lambda a: a.update({"meta.json": np.array("{not json")})),
    "meta a list": lambda p, ref: _rewrite(p, lambda a: a.update({"meta.json": np.array("[1, 2]")})),
    "no meta": lambda p, ref: _rewrite(p, lambda a: a.pop("meta.json")),
    "another optimizer's chunk": lambda p, ref: shutil.copy(ref / "chunks" / "chunk-00007.npz", p),
    "another cell range": lambda p, ref: shutil.copy(ref / "chunks" / "chunk-00001.npz", p),
    "placed but from another sweep": lambda p, ref: _rewrite(p, lambda a: _meta(a, key="0123456789abcdef")),
    "an extra field": lambda p, ref: _rewrite(p, lambda a: a.update(extra=np.zeros(8))),
}


def _flip_member_byte(path):
    """Change one byte inside a stored member: the zip's CRC no longer matches."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("final_x.npy")
    raw = bytearray(path.read_bytes())
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("how", list(DAMAGE))
def test_a_damaged_or_foreign_chunk_is_recomputed(tmp_path, reference, how):
    ref_bytes, ref_folder = reference
    shutil.copytree(ref_folder / "chunks", tmp_path / "chunks")
    DAMAGE[how](tmp_path / "chunks" / "chunk-00002.npz", ref_folder)
    result = run_sweep(small_plan(), tmp_path, resume=True, workers=1)
    assert (result.reused, result.computed, result.rejected) == (9, 1, 1)
    assert table_bytes(result, tmp_path) == ref_bytes


def test_chunks_without_the_drift_are_not_reused_by_a_sweep_that_wants_it(tmp_path, reference):
    run_sweep(small_plan(with_drift=False), tmp_path, workers=1)
    result = run_sweep(small_plan(), tmp_path, resume=True, workers=1)
    assert (result.reused, result.rejected) == (0, 10)
    assert table_bytes(result, tmp_path) == reference[0]


def test_the_cli_says_what_it_recomputed(tmp_path):
    args = ["sweep", "online", "-o", "sgd", "--steps", "100", "-g", "lr=0.1:0.9:3", "--no-drift", "--out", str(tmp_path)]
    assert CliRunner().invoke(app, args).exit_code == 0
    (tmp_path / "chunks" / "chunk-00000.npz").write_bytes(b"")
    again = CliRunner().invoke(app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    assert "1 computed (1 damaged or from another sweep, recomputed), 0 reused" in again.output
    assert json.loads((tmp_path / "sweep.json").read_text())["chunks"] == {"reused": 0, "computed": 1, "rejected": 1}


# -- processes: kill the sweep, resume it, look for leftovers ------------------------------------

SWEEP = ["sweep", "online", "-o", "adam", "-o", "amsgrad", "--steps", "1000", "-g", "beta2=0.1:0.9:6144", "--engine", "numpy",
         "--no-drift", "--workers", "2"]  # fmt: skip


def _marked_processes(mark):
    """PIDs of live processes whose environment carries `mark` (workers reparented to init too)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark.encode() in env and state != "Z":
            found.append(int(entry))
    return found


def _start(out, mark):
    env = {**os.environ, "ADASIM_FAULT_MARK": mark}
    return subprocess.Popen([sys.executable, "-m", "adasim", *SWEEP, "--out", str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def _wait_for_chunks(out, proc, count=1, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list((out / "chunks").glob("chunk-*.npz"))) >= count:
            return
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it could be killed: {proc.stderr.read()}")
        time.sleep(0.05)
    pytest.fail("no chunk appeared")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    done = subprocess.run([sys.executable, "-m", "adasim", *SWEEP, "--out", str(out)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return (out / "sweep.csv").read_bytes()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find leftover workers")
def test_a_killed_sweep_leaves_no_process_and_resumes_to_the_same_table(tmp_path, uninterrupted):
    # one test, so that the uninterrupted table is made once; killed after 1 and 2 of the 6 chunks
    for sig, code, after in ((signal.SIGKILL, -9, 1), (signal.SIGTERM, 143, 2)):
        _kill_and_resume(tmp_path / f"{sig.name}-{after}", uninterrupted, sig, code, after)


def _kill_and_resume(tmp_path, uninterrupted, sig, code, after):
    tmp_path.mkdir()
    mark = uuid.uuid4().hex
    proc = _start(tmp_path, mark)
    _wait_for_chunks(tmp_path, proc, after)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    if sig == signal.SIGTERM:
        assert err.count("\n") == 1, err
        assert "interrupted by SIGTERM" in err
        assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while _marked_processes(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _marked_processes(mark) == [], "worker processes outlived the sweep"
    assert not list(tmp_path.glob("sweep.*")), "a killed sweep wrote its table"
    again = subprocess.run([sys.executable, "-m", "adasim", *SWEEP, "--out", str(tmp_path), "--resume"], capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stdout
    assert "0 reused" not in again.stdout
    assert (tmp_path / "sweep.csv").read_bytes() == uninterrupted
    assert not list(tmp_path.rglob("*.part")), "temporary files were left"


def test_a_second_sweep_into_the_same_folder_is_refused(tmp_path):
    proc = _start(tmp_path, uuid.uuid4().hex)
    try:
        _wait_for_chunks(tmp_path, proc)
        second = subprocess.run([sys.executable, "-m", "adasim", *SWEEP, "--out", str(tmp_path), "--resume"],
                                capture_output=True, text=True, check=False)  # fmt: skip
        assert second.returncode == 2, second.stderr
        assert second.stderr.count("\n") == 1, second.stderr
        assert "is in use by another adasim process" in second.stderr
    finally:
        proc.kill()
        proc.communicate()


def test_temporary_files_of_a_killed_run_are_removed(tmp_path):
    (tmp_path / ".summary.json.k3j2.part").write_text("half")
    (tmp_path / "chunks").mkdir()
    (tmp_path / "chunks" / ".chunk-00000.npz.x1.part").write_text("half")
    args = ["sweep", "online", "-o", "sgd", "--steps", "100", "-g", "lr=0.1:0.9:3", "--no-drift", "--out", str(tmp_path)]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert not list(tmp_path.rglob("*.part"))
    assert not (tmp_path / ".adasim.lock").exists()


def test_resume_does_not_reuse_chunks_of_an_edited_optimizer_file(tmp_path):
    """The fingerprint holds a digest of the code behind the numbers (issue 30, item 11: chunks of
    an edited `-o mine.py:Mine` were reused, and the table differed from a fresh run's)."""
    from pathlib import Path

    mine = tmp_path / "mine.py"
    shutil.copy(Path(__file__).resolve().parents[1] / "examples" / "scale_rules.py", mine)
    out = tmp_path / "out"
    args = ["sweep", "online", "-o", f"{mine}:ShiftedMean", "--steps", "200", "-g", "lr=0.1,0.2", "--no-drift", "--out", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    same = CliRunner().invoke(app, [*args, "--resume"])
    assert "0 computed, 1 reused" in same.output
    mine.write_text(mine.read_text().replace("v = total / ops.maximum", "v = 2.0 * total / ops.maximum"))
    edited = CliRunner().invoke(app, [*args, "--resume"])
    assert edited.exit_code == 0, edited.output
    assert "1 computed (1 damaged or from another sweep, recomputed), 0 reused" in edited.output
    fresh = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "fresh")])
    assert fresh.exit_code == 0
    assert (out / "sweep.csv").read_text() == (tmp_path / "fresh" / "sweep.csv").read_text()
