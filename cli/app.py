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

from adasim.cli import check, correlate, counterexample, critical, dilution, experiment, explore, listing, nuf, run, sweep, teach
from adasim.cli.console import EXIT_BAD_INPUT, EXIT_NUMERICAL, error_line, warning_line
from adasim.engine import AdasimWarning
from adasim.errors import AdasimError, NumericalError


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
    error_line(f"interrupted by {signal.Signals(number).name}; no half-written file is left (a sweep keeps its finished "
               "chunks: rerun it with --resume)")  # fmt: skip
    return 128 + int(number)


_SEEN_WARNINGS: set[str] = set()


def _one_line_warning(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    """Every warning (adasim's, NumPy's, matplotlib's) as one `adasim: warning:` line, once."""
    text = str(message)
    if not issubclass(category, AdasimWarning):
        text = f"{category.__name__}: {text}"
    if text not in _SEEN_WARNINGS:
        _SEEN_WARNINGS.add(text)
        warning_line(text)


app = typer.Typer(
    cls=OneLineErrors,
    name="adasim",
    help="Counterexample convergence simulator for adaptive optimizers: watch Adam fail and AdaShift, AMSGrad and ADOPT fix it.",
    no_args_is_help=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
def _version(value: bool) -> None:
    if value:
        from adasim import __version__

        print(f"adasim {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print adasim's version and exit."),
) -> None:
    """Counterexample convergence simulator for adaptive optimizers: watch Adam fail and AdaShift, AMSGrad and ADOPT fix it."""


app.command("run")(run.run)
app.command("nuf")(nuf.nuf)
app.command("correlate")(correlate.correlate)
app.command("critical")(critical.critical)
app.command("find-counterexample")(counterexample.find)
app.command("dilution")(dilution.dilution_command)
app.command("sweep")(sweep.sweep)
app.command("experiment")(experiment.experiment)
app.command("demo")(teach.demo)
app.command("animate")(teach.animate)
app.command("lesson")(teach.lesson)
app.command("explore")(explore.explore)
app.command("list")(listing.list_all)
app.command("check")(check.check_command)


def main() -> None:
    """Console-script entry point."""
    app()
