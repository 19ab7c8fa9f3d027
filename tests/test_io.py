"""Atomic writes and JSON hygiene."""

import json
import os

import numpy as np
import pytest

from adasim import AdasimError
from adasim.io import atomic_file, dumps, prepare_out_dir, read_npz, write_json, write_npz


def test_interrupted_write_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "summary.json"
    write_json(target, {"a": 1})

    def interrupted_write():
        with atomic_file(target, "w") as fh:
            fh.write('{"a": 2, "trunc')
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_write()
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["summary.json"]


def test_json_has_no_nan():
    text = dumps({"x": float("nan"), "y": np.float64(np.inf), "z": np.arange(2)})
    assert json.loads(text) == {"x": None, "y": None, "z": [0, 1]}


def test_npz_round_trip(tmp_path):
    write_npz(tmp_path / "t.npz", {"a/x": np.arange(3), "meta.json": np.array(dumps({"k": 1}))})
    data = read_npz(tmp_path / "t.npz")
    assert data["meta"] == {"k": 1}
    assert data["a/x"].tolist() == [0, 1, 2]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(AdasimError, match="no such file"):
        read_npz(tmp_path / "absent.npz")
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(AdasimError, match="not a readable"):
        read_npz(tmp_path / "bad.npz")


def test_unwritable_out_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AdasimError, match="cannot write to output folder"):
        prepare_out_dir(blocker / "sub")
    with pytest.raises(AdasimError, match="cannot write"):
        prepare_out_dir(blocker)


def test_a_full_disk_is_one_error_naming_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    (tmp_path / "summary.json").write_text("the earlier run's\n")
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(AdasimError, match=r"cannot write '.*summary\.json': No space left on device"):
        write_json(tmp_path / "summary.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
    assert (tmp_path / "summary.json").read_text() == "the earlier run's\n"


def test_a_csv_into_a_missing_folder_names_the_path_given_not_its_temporary(tmp_path):
    from adasim import SGD, Online, simulate

    run = simulate(Online(C=2.0), SGD(lr=0.1), steps=5, engine="numpy")
    target = tmp_path / "missing" / "run.csv"
    with pytest.raises(AdasimError) as caught:
        run.to_csv(target)
    message = str(caught.value)
    assert f"'{target}'" in message
    assert f"the folder '{target.parent}' does not exist" in message
    assert ".part" not in message
    assert not target.parent.exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(AdasimError, match="is not a folder"):
        run.to_csv(tmp_path / "file" / "run.csv")
