"""Files: every output is written to a temporary file in the same folder and renamed into place,
so an interrupted run never leaves a half-written file that looks whole."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from adasim.errors import AdasimError

_PREPARED: dict[Path, list[Path]] = {}  # output folders of this process -> the files written into them
_LOCKS: dict[Path, int] = {}
RUN_ID = uuid.uuid4().hex[:12]  # one id per process, in every record it writes
LOCK_NAME = ".adasim.lock"


def prepare_out_dir(path: str | os.PathLike[str], *, record: str | None = None, lock: bool = True) -> Path:
    """Create the output folder if needed and prove it is writable; a one-line AdasimError if not.

    With `lock` (the default) the folder is this process's until it exits: a second adasim
    writing there is refused, and the temporary files that a killed run left are removed.
    `record` names the folder's record (summary.json, sweep.json, ...): an old one is removed
    now and the new one, written last by `write_record`, lists the files of this run with their
    SHA-256, so that files of an interrupted rerun are never mistaken for a complete set."""
    if not str(path).strip():
        raise AdasimError("the output folder is empty: give a folder path (use '.' for the current folder)")
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not out.is_dir():
            raise NotADirectoryError(f"{out} is not a folder")
        fd, probe = tempfile.mkstemp(prefix=".adasim-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        reason = err.strerror or str(err)
        raise AdasimError(f"cannot write to output folder '{out}': {reason}") from None
    key = out.resolve()
    if lock and key not in _LOCKS:
        _LOCKS[key] = _lock(key)
        for stale in [*key.glob(".*.part"), *key.glob("*/.*.part")]:  # only a killed adasim leaves these ...
            if stale.parent != key and _held(stale.parent):
                continue  # ... unless a live adasim is writing that subfolder (a sweep's chunks, a nested --out)
            with contextlib.suppress(OSError):
                stale.unlink()
    _PREPARED.setdefault(key, [])
    if record is not None:
        with contextlib.suppress(FileNotFoundError):
            (key / record).unlink()
    return out


def _held(folder: Path) -> bool:
    """Whether another process holds folder's lock (folder/.adasim.lock) right now."""
    import fcntl

    path = folder / LOCK_NAME
    if path.resolve() in {k / LOCK_NAME for k in _LOCKS}:
        return True  # this process's own
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock it took
    return False


def _lock(folder: Path) -> int:
    """An exclusive lock on folder/.adasim.lock, held until the process exits (then removed)."""
    import atexit
    import fcntl

    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise AdasimError(f"'{folder}' is in use by another adasim process (pid {owner}): wait for it to finish or "
                              "choose another --out") from None  # fmt: skip
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a lock file that its holder removed while we opened it
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())

    def release() -> None:
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            os.close(fd)

    atexit.register(release)
    return fd


def _note_written(target: Path) -> None:
    folder = target.resolve().parent
    for base in (folder, folder.parent):
        if base in _PREPARED:
            _PREPARED[base].append(target.resolve())
            return


def sha256(path: str | os.PathLike[str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_record(out_dir: str | os.PathLike[str], name: str, data: dict[str, Any]) -> Path:
    """Write the folder's record last: `data`, its provenance (run id included; made now unless
    `data` has one) and `written`, every file this run wrote into the folder (chunks aside) with
    its SHA-256."""
    key = Path(out_dir).resolve()
    written = {}
    for f in dict.fromkeys(_PREPARED.get(key, [])):
        rel = f.relative_to(key)
        if rel.parts[0] != "chunks" and f.name != name and f.exists():
            written[str(rel)] = sha256(f)
    return write_json(Path(out_dir) / name, {"provenance": provenance(), **data, "written": written})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of `path`; on success it replaces `path`, on error it is removed."""
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as err:  # name the file asked for, not the hidden temporary one
        raise AdasimError(f"cannot write '{target}': {_no_folder(target) or err.strerror or err}") from None
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
        _note_written(target)
    except OSError as err:  # a full disk, a quota, a folder removed underneath: say which file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise AdasimError(f"cannot write '{target}': {err.strerror or err} (nothing half-written is left; what the folder "
                          "held before is untouched)") from None  # fmt: skip
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _no_folder(target: Path) -> str | None:
    """Why `target` cannot be made because of its folder: it does not exist, or is not a folder."""
    folder = target.parent
    if not folder.exists():
        return f"the folder '{folder}' does not exist"
    if not folder.is_dir():
        return f"'{folder}' is not a folder"
    return None


def jsonable(obj: Any) -> Any:
    """Plain JSON values: arrays to lists, NumPy scalars to Python, non-finite floats to null."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(jsonable(obj), indent=2, allow_nan=False, ensure_ascii=False)


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    with atomic_file(path, "w") as fh:
        fh.write(dumps(obj) + "\n")
    return Path(path)


def write_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> Path:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with atomic_file(path, "wb") as fh:
        fh.write(buffer.getvalue())
    return Path(path)


def write_figure(path: str | os.PathLike[str], fig: Any, **kwargs: Any) -> Path:
    """Save a matplotlib figure; the format follows the suffix (.png, .svg, .pdf)."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    with atomic_file(path, "wb") as fh:
        fig.savefig(fh, format=fmt, **kwargs)
    return Path(path)


def runs_to_arrays(runs: list[Any], meta: dict[str, Any]) -> dict[str, np.ndarray]:
    """Trace arrays of several runs under `optimizer/field` keys, plus the summary as `meta.json`."""
    arrays: dict[str, np.ndarray] = {"meta.json": np.array(dumps(meta))}
    for i, run in enumerate(runs):
        name = run.optimizer.name
        key = name if sum(r.optimizer.name == name for r in runs) == 1 else f"{name}#{i}"
        for field, arr in run.trace.arrays().items():
            arrays[f"{key}/{field}"] = arr
        arrays[f"{key}/final_x"] = run.final_x
        arrays[f"{key}/average_regret_final"] = run.average_regret
        arrays[f"{key}/seeds"] = run.seeds
        arrays[f"{key}/bad_step"] = run.bad_step
    return arrays


def read_npz(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a trace file written by `adasim run --out`: arrays by key and the parsed `meta`."""
    p = Path(path)
    if not p.is_file():
        raise AdasimError(f"no such file: '{p}'")
    try:
        with np.load(p, allow_pickle=False) as data:
            out: dict[str, Any] = {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise AdasimError(f"'{p}' is not a readable adasim trace: {err}") from None
    if "meta.json" in out:
        out["meta"] = json.loads(str(out.pop("meta.json")))
    return out


def provenance() -> dict[str, Any]:
    """Where a result came from: adasim's version (and git commit, run from a checkout), the
    versions of numpy and numba, the command line, the run's id and the UTC time."""
    import datetime
    import subprocess
    import sys
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    commit = None
    root = Path(__file__).resolve().parents[1]
    if (root / ".git").exists():
        try:
            done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                  check=False)  # fmt: skip
            commit = done.stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            commit = None
    return {
        "adasim": ver("adasim"),
        "git_commit": commit,
        "numpy": np.__version__,
        "numba": ver("numba"),
        "python": sys.version.split()[0],
        "command": sys.argv,
        "run_id": RUN_ID,
        "utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def release_all() -> None:
    """Unlock every output folder this process locked (the command-line tool, after a command)."""
    for folder, fd in list(_LOCKS.items()):
        with contextlib.suppress(OSError):
            os.unlink(folder / LOCK_NAME)
        with contextlib.suppress(OSError):
            os.close(fd)
    _LOCKS.clear()
    _PREPARED.clear()
