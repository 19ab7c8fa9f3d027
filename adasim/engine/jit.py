"""numba for adasim: whether it is there, compiling the plain Python functions a step or a
problem's kernel is written as (`compiled_function`, recursively with the helpers they call by
name; `with_conventions` makes a step's conventions constants), an analysis's loops (`jit`), and
generated sources (`_generated`: written to the cache folder under a digest of everything they
inline, so that numba's disk cache keeps their machine code; `compile_once` compiles under a lock
file so that processes needing the same function compile it once)."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
import textwrap
import types
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from adasim.errors import AdasimError


@cache
def numba_module() -> Any:
    try:
        import numba
    except Exception as err:  # not installed, or broken (e.g. built for another NumPy)
        return err
    return numba


def available() -> bool:
    """True when numba imports (and ADASIM_ENGINE does not say `numpy`)."""
    if os.environ.get("ADASIM_ENGINE", "").strip().lower() == "numpy":
        return False
    return not isinstance(numba_module(), BaseException)


def unavailable_reason() -> str:
    err = numba_module()
    if os.environ.get("ADASIM_ENGINE", "").strip().lower() == "numpy":
        return "ADASIM_ENGINE=numpy"
    return "" if not isinstance(err, BaseException) else f"numba could not be imported ({type(err).__name__}: {err})"


def cache_dir() -> Path:
    """Where generated kernels (and numba's machine code beside them) are kept."""
    root = os.environ.get("ADASIM_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "adasim")
    path = Path(root) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".probe"
        probe.write_text("")
        probe.unlink()
        return path
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"adasim-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


# -- compiling the user's functions -------------------------------------------------------------


def _source_digest(fn: Any) -> str:
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        text = repr(fn.__code__.co_code) + repr(fn.__code__.co_consts)
    return text


_JITTED: dict[Any, tuple[Any, list[str]]] = {}
_REGISTERED: set[Any] = set()


def _helpers(fn: Any, sources: list[str]) -> None:
    """Make the plain Python functions `fn` calls by name callable from compiled code
    (numba's register_jitable), recursively, and collect their sources."""
    from numba.extending import register_jitable

    from adasim.engine.numba_ops import OVERLOADED

    for name in fn.__code__.co_names:
        obj = fn.__globals__.get(name)
        if isinstance(obj, types.FunctionType) and obj not in OVERLOADED and not _is_library(obj):
            sources.append(_source_digest(obj))
            if obj not in _REGISTERED:
                _REGISTERED.add(obj)
                register_jitable(inline="always")(obj)
            _helpers(obj, sources)


def compiled_function(fn: Any, parts: list[str]) -> Any:
    """numba's version of a step, tick or kernel. The plain Python functions it calls by name
    are compiled with it (recursively), so a helper needs no decorator. The sources of
    everything compiled are added to `parts`, for the cache digest."""
    numba = numba_module()
    if fn not in _JITTED:
        sources = [_source_digest(fn)]
        _helpers(fn, sources)
        _JITTED[fn] = (numba.njit(inline="always", error_model="numpy")(fn), sources)
    jitted, sources = _JITTED[fn]
    parts.extend(sources)
    return jitted


def jit(fn: Any) -> Any:
    """An analysis's inner loop, written once as loops over NumPy arrays: compiled by numba on
    its first call (cached on disk; the plain functions it calls by name are compiled with it),
    or left as Python when numba is not available. `.python` is the plain function."""
    compiled: list[Any] = []

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        if not compiled:
            if not available():
                compiled.append(fn)
                return fn(*args)
            _helpers(fn, [])
            jitted = numba_module().njit(cache=True, error_model="numpy", nogil=True)(fn)
            with compiling():  # the first call compiles it (or loads it from the disk cache)
                out = jitted(*args)
            compiled.append(jitted)
            return out
        return compiled[0](*args)

    call.python = fn  # type: ignore[attr-defined]
    return call


_SPECIALISED: dict[tuple[Any, tuple[tuple[str, Any], ...]], Any] = {}


def with_conventions(fn: Any, values: dict[str, Any]) -> Any:
    """`fn` (a step whose second parameter is the hyper-parameter record) with every read of a
    convention field, `hp.<field>`, replaced by its value — a constant to numba, whose dead-branch
    pruning then drops the other conventions' code before typing, so that no string comparison is
    left in the cell loop for LLVM to fold (it did not for AMSGrad or Adafactor, whose loops were
    not vectorised). `fn` itself when that cannot be done safely: no source, a closure, a
    decorator, or a step that rebinds or shadows the record's name."""
    key = (fn, tuple(sorted(values.items())))
    if key not in _SPECIALISED:
        _SPECIALISED[key] = _specialise(fn, values) or fn
    return _SPECIALISED[key]


def _specialise(fn: Any, values: dict[str, Any]) -> Any:
    if not values or fn.__code__.co_freevars:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    func = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(func, ast.FunctionDef) or func.name != fn.__name__ or func.decorator_list or len(func.args.args) < 2:
        return None
    hp = func.args.args[1].arg
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and node.id == hp and not isinstance(node.ctx, ast.Load):
            return None  # rebound: a later hp.<field> may not be the run's record
        if isinstance(node, ast.arg) and node.arg == hp and node is not func.args.args[1]:
            return None  # shadowed by an inner function's parameter

    class Constants(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> Any:
            reads = isinstance(node.value, ast.Name) and node.value.id == hp and isinstance(node.ctx, ast.Load)
            if reads and node.attr in values:
                return ast.copy_location(ast.Constant(values[node.attr]), node)
            return self.generic_visit(node)

    tree = ast.fix_missing_locations(Constants().visit(tree))
    ast.increment_lineno(tree, fn.__code__.co_firstlineno - 1)  # numba's messages keep the file's line numbers
    space = dict(fn.__globals__)  # a copy: the module's own names are not touched
    exec(compile(tree, fn.__code__.co_filename, "exec"), space)  # the step's own source, constants substituted
    return space[fn.__name__]


def _is_library(fn: Any) -> bool:
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] in ("numpy", "math", "numba", "cmath")


_COMPILED: dict[str, Any] = {}


@functools.lru_cache(maxsize=1)
def _inlined_sources() -> tuple[str, ...]:
    """The source of the modules every generated function inlines (read once per process)."""
    modules = ("adasim.ops", "adasim.elementary", "adasim.engine.numba_ops", "adasim.engine.jit", "adasim.engine.kernels")
    return tuple(Path(sys.modules[m].__file__).read_text() for m in modules)


def generated(kind: str, label: str, about: str, body: str, names: dict[str, Any], parts: list[str],
               inline: str = "never") -> Any:  # fmt: skip
    """Compile the function `kind` of generated source `body` (globals `names`): written to the
    cache folder under a digest of everything it inlines, so numba's disk cache can keep it.
    `inline="always"`: numba copies it into its callers (then nothing is cached for it alone)."""
    numba = numba_module()
    parts += [*_inlined_sources(), body, numba.__version__, np.__version__]
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]
    if digest in _COMPILED:
        return _COMPILED[digest]
    safe = "".join(ch if ch.isalnum() else "_" for ch in label)
    path = cache_dir() / f"{kind}_{safe}_{digest}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(f'"""Generated by adasim for {about}: do not edit."""\nimport numpy as np\n\n' + body)
        os.replace(tmp, path)
    module_name = f"adasim_{kind}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[module_name] = module  # numba's disk cache finds the function's globals through it
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    vars(module).update({"np": np, **names})
    try:
        jitted = numba.njit(cache=True, error_model="numpy", nogil=True, inline=inline)(getattr(module, kind))
    except Exception:
        jitted = numba.njit(cache=False, error_model="numpy", nogil=True, inline=inline)(getattr(module, kind))
    jitted.adasim_lock = path.with_suffix(".lock")  # compiled under this lock (see compile_once)
    _COMPILED[digest] = jitted
    return jitted


_COMPILE_HOOKS: list[Callable[[], AbstractContextManager[Any]]] = []


@contextmanager
def compile_hook(hook: Callable[[], AbstractContextManager[Any]]) -> Iterator[None]:
    """While this context is open, every first call of a kernel (numba compiles it, or loads it
    from its disk cache) runs inside `hook()`: how a front end shows "compiling" (the library
    itself prints nothing)."""
    _COMPILE_HOOKS.append(hook)
    try:
        yield
    finally:
        _COMPILE_HOOKS.remove(hook)


def compiling() -> AbstractContextManager[Any]:
    """The context a first call runs in: the innermost compile hook's, or nothing."""
    return _COMPILE_HOOKS[-1]() if _COMPILE_HOOKS else nullcontext()


def compile_once(function: Any, *args: Any) -> None:
    """Call a generated function for the first time — which compiles it — while holding its lock
    file, so that processes that need the same function at once (pytest workers, a sweep's pool)
    compile it once and the others load it from numba's disk cache."""
    lock = getattr(function, "adasim_lock", None)
    try:
        import fcntl
    except ImportError:  # not POSIX: compile without the lock
        fcntl = None  # type: ignore[assignment]
    with compiling():
        if lock is None or fcntl is None:
            function(*args)
            return
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                function(*args)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def need_numba() -> None:
    if isinstance(numba_module(), BaseException):
        raise AdasimError(f"the compiled engine needs numba: {unavailable_reason()} (use --engine numpy)")
