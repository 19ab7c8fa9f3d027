"""Every public name has an example that runs (issue #32): the API reference renders these docstrings.

A class or function is documented by its docstring; a built-in optimizer (a `Definition` instance,
such as `adasim.Adam`) by the string right below its assignment, the attribute docstring that the
documentation's generator (griffe) reads; a registry or module (ENGINES, ops, ...) by the examples of
adasim's own docstring. Every example runs in a fresh namespace, so it imports what it uses.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import re
from pathlib import Path

import pytest

import adasim
from adasim.optimizers.base import Definition

NAMES = list(adasim.__all__)
CONSTANTS = [n for n in NAMES if inspect.ismodule(getattr(adasim, n)) or not callable(getattr(adasim, n))]
CALLABLES = [n for n in NAMES if n not in CONSTANTS]
NEEDS = {"probe": "adasim[torch]", "explore": "adasim[notebooks]"}  # the only examples that may be skipped
NEEDS_TORCH = {"as_torch"}  # runs for real when torch is installed


def attribute_docstring(module_name: str, name: str) -> str | None:
    """The string literal right after `name = ...` at the top level of the module's source."""
    tree = ast.parse(Path(importlib.import_module(module_name).__file__).read_text())
    for node, after in zip(tree.body, tree.body[1:], strict=False):
        targets = node.targets if isinstance(node, ast.Assign) else []
        named = any(isinstance(t, ast.Name) and t.id == name for t in targets)
        if named and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
            return inspect.cleandoc(after.value.value)
    return None


def docstring(name: str) -> str:
    """The text the API reference shows for a public callable."""
    obj = getattr(adasim, name)
    if not isinstance(obj, Definition):
        return inspect.getdoc(obj) or ""
    package = importlib.import_module("adasim.optimizers")
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        module_name = f"adasim.optimizers.{path.stem}"
        if getattr(importlib.import_module(module_name), name, None) is obj:
            found = attribute_docstring(module_name, name)
            if found is not None:
                return found
    return ""


def example_lines(text: str) -> list[str]:
    return [line.strip()[4:] for line in text.splitlines() if line.strip().startswith((">>> ", "... "))]


def run_examples(text: str, name: str) -> doctest.TestResults:
    """Run the examples of `text` in an empty namespace; the report of any failure goes in the assertion."""
    test = doctest.DocTestParser().get_doctest(text, {"__name__": "example"}, name, None, 0)
    runner = doctest.DocTestRunner(verbose=False)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    return doctest.TestResults(runner.failures, runner.tries)


def test_the_public_names_split_into_callables_and_constants():
    assert set(CONSTANTS) == {"ENGINES", "OPTIMIZERS", "PRESETS", "PROBLEMS", "ops"}
    assert len(CALLABLES) + len(CONSTANTS) == len(NAMES) == 66


def test_an_optimizer_definition_is_documented_by_its_own_text_not_the_class():
    text = docstring("Adam")
    assert text != inspect.getdoc(Definition)
    assert "m̂_t/(√v̂_t + ε)" in text  # the update rule
    assert docstring("RMSProp") != text  # two definitions in one module, each its own
    assert attribute_docstring("adasim.optimizers.adam", "COMMON") is None


@pytest.mark.parametrize("name", CALLABLES)
def test_a_callable_has_an_examples_section_that_uses_it(name):
    text = docstring(name)
    assert re.search(r"^Examples\n-{8}\n", text, re.M), f"{name}: no numpy-style Examples section"
    lines = example_lines(text)
    assert lines, f"{name}: no >>> examples"
    assert any(re.search(rf"\b{name}\b", line) for line in lines), f"{name}: its examples do not use it"


@pytest.mark.parametrize("name", CALLABLES)
def test_the_examples_of_a_callable_run(name):
    if name in NEEDS_TORCH:
        pytest.importorskip("torch", reason=f"{name}'s example needs torch (adasim[torch])")
    text = docstring(name)
    skipped = "doctest: +SKIP" in text
    assert not skipped or name in NEEDS, f"{name}: an example is skipped, but {name} needs no extra"
    if skipped:
        assert NEEDS[name] in text, f"{name}: the skipped example does not say it needs {NEEDS[name]}"
    result = run_examples(text, name)
    assert result.attempted > 0


@pytest.mark.parametrize("name", CONSTANTS)
def test_a_constant_is_used_by_the_package_examples(name):
    assert any(re.search(rf"\b{name}\b", line) for line in example_lines(adasim.__doc__)), name


def test_the_package_examples_run():
    assert run_examples(adasim.__doc__, "adasim").attempted >= 6


def test_a_failing_example_would_be_reported():
    with pytest.raises(AssertionError, match=r"Expected:\s+3\s+Got:\s+2"):
        run_examples(">>> 1 + 1\n3\n", "wrong")
