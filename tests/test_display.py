"""Results show themselves briefly (repr) and as a small table in Jupyter, never their arrays."""

import functools
import re

import numpy as np
import pytest

from adasim import Adam, Online, Stochastic, simulate
from adasim.analysis import critical_value, empirical_nuf, measure_correlation, periodic_nuf, sign_drift, stationary_nuf
from adasim.display import short

P = Online()
A = Adam(beta1=0.0, beta2=0.01, lr=0.5)


@functools.cache
def results():
    run = simulate(P, A, 2000, seeds=np.arange(64))
    from adasim import Signum

    return {
        "run": run,
        "trace": run.trace,
        "periodic": periodic_nuf(P, A),
        "stationary": stationary_nuf(Stochastic(), Adam()),
        "empirical": empirical_nuf(P, A, 2000),
        "critical": critical_value(P, A),
        "correlation": measure_correlation(Stochastic(), Adam(), 2000),
        "sign": sign_drift(P, Signum()),
    }


@pytest.mark.parametrize("name", ["run", "trace", "periodic", "stationary", "empirical", "critical", "correlation", "sign"])
def test_repr_is_one_short_line_and_html_a_table(name):
    obj = results()[name]
    text = repr(obj)
    assert "\n" not in text
    assert len(text) < 400, text
    assert "array(" not in text
    page = obj._repr_html_()
    assert page.startswith("<table>")
    assert page.count("<tr>") >= 2


def test_the_repr_carries_the_numbers_that_matter():
    assert "kappa=[0.1005, 0.7107, 0.9951]" in repr(periodic_nuf(P, A))  # Reddi et al.'s factors, as in test_periodic
    assert re.search(r"<Run adam on online: steps=2000, lanes=64, .*verdict=", repr(simulate(P, A, 2000, seeds=np.arange(64))))


def test_short_shows_long_arrays_by_their_first_values():
    assert short(np.arange(100.0)) == "[0, 1, 2, 3, 4, 5, … (100 values)]"
    assert short(None) == "—"
    assert short(0.123456789) == "0.1235"
