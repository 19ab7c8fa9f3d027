"""adasim's pytest plugin, registered through the `pytest11` entry point: an optimizer's own test
suite puts it through adasim's battery of Adam's counterexamples.

As a fixture::

    def test_battery(adasim_check):
        report = adasim_check("torch:mypkg.MyOpt", kwargs={"lr": 1e-3})
        assert report.passed, report

`adasim_check(optimizer, cases=None, **options)` is `adasim.check` (the same arguments: `kwargs`,
`quick`, `twins`, `jobs`, `timeout`) and returns its Report. From the command line::

    pytest --adasim-check torch:mypkg.MyOpt               # one test item per SPEC, the whole battery
    pytest --adasim-check mine.py:Mine --adasim-quick      # the quick cases
    pytest --adasim-check sgd --adasim-case reddi-thm1-C10

Each SPEC becomes one test item, `adasim-check[SPEC]`, that fails with the report's table (a case that
failed, errored, was inconclusive or could not exercise the optimizer) and passes only when every case
passed. Importing this module imports nothing of adasim: a test session that does not use it pays nothing.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("adasim", "adasim: the battery of Adam's counterexamples")
    group.addoption("--adasim-check", action="append", default=[], metavar="SPEC",
                    help="put SPEC (torch:pkg.Class, optax:pkg.fn, file.py:Name or a built-in name) through the battery, "
                         "as one test item; repeatable")  # fmt: skip
    group.addoption("--adasim-quick", action="store_true", default=False, help="run only the quick cases (adasim check --quick)")
    group.addoption("--adasim-case", action="append", default=[], metavar="NAME", help="run only this case; repeatable")


@pytest.fixture
def adasim_check() -> Any:
    """`adasim.check`: call it with a SPEC (and `cases`, `kwargs`, `quick`, ...) to get the Report."""
    from adasim.checks import check

    return check


class CheckFailedError(Exception):
    """The battery's report, for a failed `adasim-check[SPEC]` item."""


class CheckItem(pytest.Item):
    """One `--adasim-check SPEC`: the battery on SPEC; passes when every case passed."""

    def __init__(self, *, spec: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    def runtest(self) -> None:
        from adasim.checks import check
        from adasim.errors import AdasimError

        cases = self.config.getoption("adasim_case") or None
        quick = self.config.getoption("adasim_quick")
        try:
            report = check(self.spec, cases, quick=quick)
        except AdasimError as err:  # a SPEC that does not load, an unknown case: the one-line message
            raise CheckFailedError(f"adasim check {self.spec}: {err}") from None
        if not report.passed:
            raise CheckFailedError(str(report))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailedError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "adasim", None, f"adasim check {self.spec}"


def pytest_configure(config: pytest.Config) -> None:
    """A case name that does not exist, or --adasim-case with --adasim-quick, is a usage error of the
    whole run (one line, pytest's exit 4), not a failure of every item."""
    cases = config.getoption("adasim_case", default=None)
    if not cases or not config.getoption("adasim_check", default=None):
        return
    from adasim.checks.cases import get_cases
    from adasim.errors import AdasimError

    if config.getoption("adasim_quick"):
        raise pytest.UsageError("--adasim-case and --adasim-quick both choose the cases: give one of them")
    try:
        get_cases(list(cases))
    except AdasimError as err:
        raise pytest.UsageError(f"--adasim-case: {err}") from None


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    for spec in config.getoption("adasim_check"):
        items.append(CheckItem.from_parent(session, name=f"adasim-check[{spec}]", spec=spec))
