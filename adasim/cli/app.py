"""The Typer application and its entry point. Errors reach the user as one line and an exit code:
2 for bad input (usage, values, files), 3 when a run hit NaN or overflow, 1 for an internal error."""

import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from adasim.cli.console import EXIT_BAD_INPUT, EXIT_NUMERICAL, error_line, warning_line
from adasim.errors import AdasimError, AdasimWarning, NumericalError


class OneLineErrors(TyperGroup):
    """Turns usage errors, AdasimError and unwritable paths into `adasim: error: ...` and exit 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any) -> Any:
        standalone = extra.pop("standalone_mode", True)
        _flags_take_no_value(self)
        from adasim import signals
        from adasim.io import release_all

        previous = signals.install()
        _SEEN_WARNINGS.clear()
        try:
            _no_empty_values(list(sys.argv[1:] if args is None else args))
            with warnings.catch_warnings():
                warnings.showwarning = _one_line_warning
                code = super().main(args=args, prog_name=prog_name or "adasim", standalone_mode=False, **extra)
            if signals.received() is not None:  # typer turns KeyboardInterrupt into a silent exit 130
                code = _interrupted()
        except KeyboardInterrupt:
            code = _interrupted()
        except NumericalError as err:
            error_line(str(err))
            code = EXIT_NUMERICAL
        except AdasimError as err:
            error_line(str(err))
            code = EXIT_BAD_INPUT
        except Exception as err:  # click's usage errors carry their own message and exit code
            if hasattr(err, "format_message") and hasattr(err, "exit_code"):
                hint = ""
                ctx = getattr(err, "ctx", None)
                if ctx is not None and getattr(err, "exit_code", 1) == 2:
                    hint = f" (see '{ctx.command_path} --help')"
                error_line(err.format_message() + hint)
                code = err.exit_code
            elif type(err).__name__ == "Abort":  # click's form of KeyboardInterrupt
                code = _interrupted()
            elif isinstance(err, MemoryError):
                error_line(f"out of memory: {err} (use fewer seeds, steps or coordinates; adasim's estimate is bounded by "
                           "ADASIM_MEMORY_LIMIT)")  # fmt: skip
                code = EXIT_BAD_INPUT
            elif isinstance(err, OSError):
                error_line(f"{err.strerror or err}{': ' + str(err.filename) if getattr(err, 'filename', None) else ''}")
                code = EXIT_BAD_INPUT
            else:
                if os.environ.get("ADASIM_DEBUG"):
                    traceback.print_exc()
                error_line(f"internal error: {type(err).__name__}: {err} (set ADASIM_DEBUG=1 to see the traceback)")
                code = 1
        finally:
            release_all()
            signals.restore(previous)
        if not standalone:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _no_empty_values(args: list[str]) -> None:
    """An empty value ('--out ""', '--out=') is refused: a path option would turn it into '.' and
    write into the current folder; no option of adasim means anything by it."""
    for i, arg in enumerate(args):
        empty_next = arg.startswith("-") and i + 1 < len(args) and not args[i + 1].strip()
        if (arg.startswith("--") and arg.endswith("=")) or empty_next:
            name = arg.rstrip("=")
            raise AdasimError(f"{name} was given an empty value (for the current folder write '.')")
        if not arg.strip() and (i == 0 or not args[i - 1].startswith("-")):
            raise AdasimError("an empty argument was given")


def _flags_take_no_value(group: Any) -> None:
    """Help shows no `<bool>` value after a flag (--json, --help, --clip/--no-clip): they take none."""
    for command in [group, *group.commands.values()]:
        for param in command.params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        if getattr(command, "_adasim_help", False):
            continue
        make = command.get_help_option

        def help_option(ctx: Any, make: Any = make) -> Any:
            option = make(ctx)
            if option is not None:
                option.metavar = ""
            return option

        command.get_help_option = help_option
        command._adasim_help = True


def _interrupted() -> int:
    """Ctrl-C or SIGTERM: one line, exit 128 + the signal's number (130, 143)."""
    import signal

    from adasim import signals

    number = signals.received() or signal.SIGINT
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    kept = RESUMABLE.get(command)
    error_line(f"interrupted by {signal.Signals(number).name}; no half-written file is left"
               + (f" ({kept}: rerun it with --resume)" if kept else ""))  # fmt: skip
    return 128 + int(number)


# what an interrupted command keeps for --resume
RESUMABLE = {"sweep": "a sweep keeps its finished chunks", "discover": "discover keeps its finished generations and parts"}


_SEEN_WARNINGS: set[str] = set()


def _one_line_warning(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    """Every warning (adasim's, NumPy's, matplotlib's) as one `adasim: warning:` line, once."""
    text = str(message)
    if not issubclass(category, AdasimWarning):
        text = f"{category.__name__}: {text}"
    if text not in _SEEN_WARNINGS:
        _SEEN_WARNINGS.add(text)
        warning_line(text)


def _typer() -> typer.Typer:
    app = typer.Typer(
        cls=OneLineErrors,
        name="adasim",
        help=_root.__doc__,
        no_args_is_help=False,
        add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    return app


def _version(value: bool) -> None:
    if value:
        from adasim import __version__

        print(f"adasim {__version__}")
        raise typer.Exit(0)


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print adasim's version and exit."),
) -> None:
    """Counterexample convergence simulator for adaptive optimizers: watch Adam fail and AdaShift, AMSGrad and ADOPT fix it."""


# Each command: the module and function that define it, and the first paragraph of its help, which
# `adasim --help` lists without importing the module (a test holds the two the same).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("run", "run", "Run PROBLEM (default: Reddi et al.'s Theorem 1 with C = 10) with each optimizer."),
    "nuf": ("nuf", "nuf", "Net update factors κ = k_s/α_s of every gradient: measured on the run and in closed form."),
    "correlate": ("correlate", "correlate",
                  "Pearson and Spearman correlation of g_t (and g_t²) with v_t and 1/√v_t, with 95 % intervals."),
    "critical": ("critical", "critical",
                 "Where the closed-form drift of one optimizer (-o, default adam) changes sign as β2 or C varies."),
    "find-counterexample": ("counterexample", "find",
                            "Find a problem on which the optimizer (-o, default adam) moves away from the optimum."),
    "discover": ("discover", "discover", "Search a typed grammar of v_t rules against the battery, attack survivors with "
                 "counterexamples, judge on held-out families."),
    "dilution": ("dilution", "dilution_command", "For each k, share v over a block of k independent copies of the layered "
                 "problem's base (φ from --phi, mean here)."),
    "sweep": ("sweep", "sweep", "Sweep PROBLEM over a grid of settings (and seeds): final x, distance to x*, regret, "
              "converged, closed-form drift per cell."),
    "experiment": ("experiment", "experiment", "Run one reproduction of a published figure (or list them), writing its "
                   "figures and every number it shows."),
    "demo": ("teach", "demo", "An interactive window: sliders for β1, β2, C, d, the shift n and α, toggles for the optimizers."),
    "animate": ("teach", "animate", "Animate x_t of one run together with each step's net contribution −α_s κ_s g_s."),
    "lesson": ("teach", "lesson", "Write a self-contained HTML lesson on why Adam fails and how shifting fixes it."),
    "explore": ("explore", "explore",
                "The explorer in the browser: sliders for β1, β2, C, d, k, p, the shift n, α and the schedule."),
    "list": ("listing", "list_all", "List problems, presets, optimizers (with defaults) and the named conventions."),
    "probe": ("probe", "probe_command", "Show what adasim.probe measured in a training run: per layer, v's correlation with g² "
              "beside its i.i.d. and shifted\nvalues."),
    "check": ("check", "check_command", "Put any optimizer through Adam's counterexamples: pass/fail, where x ends, the drift, "
              "and the\nmechanism measured without its internals (model-free net update factors, the correlation of its\n"
              "effective scale with g²)."),
}  # fmt: skip


def build(names: Sequence[str] | None = None, stubs: bool = False) -> typer.Typer:
    """The application with the commands named (default: all), each imported from its module; with
    `stubs`, commands that only carry their help (the listing of `adasim --help`: no module imported)."""
    import importlib

    app = _typer()
    for name in COMMANDS if names is None else names:
        module, function, short = COMMANDS[name]
        if stubs:

            def stub() -> None:
                raise typer.Exit(2)

            app.command(name, help=short)(stub)
        else:
            command = getattr(importlib.import_module(f"adasim.cli.{module}"), function)
            app.command(name)(command if name in NO_COMPILE_STATUS else _with_compile_status(command))
    return app


NO_COMPILE_STATUS = {"explore", "demo"}  # a server and a window: their kernels compile while they answer


def _with_compile_status(command: Any) -> Any:
    """The command with adasim.engine.jit's compile hook set to console.compile_status (not with
    --json: stderr then carries errors and warnings only); installed when the command runs, not
    when its help is shown, so that help loads no NumPy."""
    import functools

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("json_out"):
            return command(*args, **kwargs)
        from adasim.cli.console import compile_status
        from adasim.engine.jit import compile_hook

        with compile_hook(compile_status):
            return command(*args, **kwargs)

    return run


def __getattr__(name: str) -> Any:
    """`app`: the whole application (every command imported), for CliRunner and Python callers."""
    if name == "app":
        whole = build()
        globals()["app"] = whole
        return whole
    raise AttributeError(f"module 'adasim.cli.app' has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: imports only the command asked for, so that `adasim --help` and
    a command's own help start without loading every command (and NumPy) first."""
    args = sys.argv[1:]
    first = next((a for a in args if not a.startswith("-")), None)
    if first in COMMANDS:
        build([first])()
    elif first is None and not any(v.startswith("_ADASIM_COMPLETE") or v == "_TYPER_COMPLETE_ARGS" for v in os.environ):
        build(stubs=True)()  # the root's help, --version, or a usage error: names and help lines only
    else:
        build()()
