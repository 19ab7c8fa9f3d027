"""The examples in the docstrings and the README run and say what they claim."""

import doctest
import re
from pathlib import Path

import numpy as np

import adasim
import adasim.analysis

README = Path(__file__).resolve().parents[1] / "README.md"


def test_package_docstring_examples():
    for module in (adasim, adasim.analysis):
        result = doctest.testmod(module, verbose=False)
        assert result.attempted > 0
        assert result.failed == 0


def test_readme_python_example_runs():
    block = re.search(r"### From Python\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    block = block.replace("steps=10**6", "steps=10**4")  # same code, shorter
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["run"].final_x[0, 0] > 0.99
    assert scope["sweep"].lanes == 4
    assert np.all(scope["sweep"].ok)


def test_readme_starts_with_the_two_commands():
    lines = README.read_text().splitlines()
    fence = lines.index("```bash")
    assert lines[fence + 1].startswith("pip install -e . && adasim run")
    assert lines[fence + 2].startswith('pip install -e ".[test]" && pytest')


def test_readme_nuf_example_runs():
    block = re.search(r"From Python:\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    np.testing.assert_allclose([g.mean for g in scope["measured"].groups], scope["closed"].kappa, rtol=1e-9)
    assert scope["closed"].drift > 0
