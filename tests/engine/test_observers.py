"""The observers of adasim.engine.observers: health read lane by lane against a hand-made table,
the trace made once (rows given) against the trace joined from copies, and the regret's end value
with and without the running sums at the recorded rows."""

import numpy as np
import pytest

from adasim import Adam, AdasimError, Online, Stochastic
from adasim.engine.layout import Layout
from adasim.engine.observers import Regret, Trace, health, observe
from adasim.engine.stream import iterate, make_executor


class Last:
    def __init__(self, bad_step, bad_nan):
        self.bad_step, self.bad_nan = np.array(bad_step, float), np.array(bad_nan, float)


@pytest.mark.parametrize(
    ("bad_step", "bad_nan", "status", "first"),
    [
        ([[0, 0]], [[0, 0]], ["ok"], [0]),
        ([[5, 0]], [[1, 0]], ["nan"], [5]),
        ([[5, 3]], [[1, 0]], ["overflow"], [3]),  # the first step decides: coordinate 2 overflowed at 3
        ([[4, 4]], [[0, 1]], ["nan"], [4]),  # same step: NaN in either coordinate makes it NaN
        ([[0, 7], [2, 0], [0, 0]], [[0, 0], [0, 1], [0, 0]], ["overflow", "overflow", "ok"], [7, 2, 0]),
    ],
)
def test_health_per_lane(bad_step, bad_nan, status, first):
    got_status, got_first = health(Last(bad_step, bad_nan))
    assert got_status.tolist() == status
    assert got_first.tolist() == first
    assert got_first.dtype == np.int64


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_a_trace_made_once_is_the_trace_joined_from_copies(engine):
    problem, opt = Stochastic(C=10.0, s=1.0, p=0.2), Adam(lr=0.1)
    rows = np.array([1, 2, 3, 50, 299, 300, 301, 999, 1000])
    traces = []
    for made_once in (False, True):
        layout = Layout.build(problem, opt, np.arange(4), 0.0)
        regret = Regret(layout)
        trace = Trace(("x", "v", "average_regret"), regret, rows=len(rows) if made_once else None)
        ex = make_executor(layout, engine, (), regret=True, record=("x", "v"))
        observe(iterate(problem, opt, 1000, executor=ex, record=rows, regret=True, block=128), [regret, trace])
        traces.append(trace.arrays(("x", "v", "average_regret")))
    for name in ("t", "x", "v", "average_regret"):
        np.testing.assert_array_equal(traces[0][name], traces[1][name])
    assert traces[0]["t"].tolist() == rows.tolist()


def test_a_trace_told_more_rows_than_it_was_given_says_so():
    trace = Trace(("x",), rows=5)
    with pytest.raises(AdasimError, match="expected 5 rows and was given 0"):
        trace.arrays(("x",))


@pytest.mark.parametrize("engine", ["compiled", "numpy", "python"])
def test_the_regret_without_its_rows_ends_the_same(engine):
    problem, opt = Online(C=10.0), Adam(lr=0.1)
    ends = []
    for rows in (True, False):
        layout = Layout.build(problem, opt, np.arange(3), 0.0)
        ex = make_executor(layout, engine, (), regret=True, record=("x",), regret_rows=rows)
        blocks = list(iterate(problem, opt, 600, executor=ex, record=np.array([10, 600]), regret=True))
        assert all((b.loss_rows is not None) == (rows and b.rows.size > 0) for b in blocks)
        ends.append(Regret(layout).average(blocks[-1], 600))
    np.testing.assert_array_equal(ends[0], ends[1])


def test_the_factors_as_an_observer_beside_others_are_empirical_nuf_s():
    """NUFObserver on a pass it shares (here with the trace, fields beyond its own) gives what
    empirical_nuf's own pass gives, up to the order of its sums over blocks."""
    from adasim.analysis.empirical import NUF_FIELDS, NUFObserver, empirical_nuf

    problem, opt = Stochastic(C=10.0, s=1.0, p=0.2), Adam(beta1=0.9, beta2=0.99, lr=0.01)
    alone = empirical_nuf(problem, opt, 3000, np.arange(3), burn_in=500, samples=0)
    nuf, trace = NUFObserver(problem, opt, 3000, burn_in=500, samples=0), Trace(("x",), rows=3)
    observe(iterate(problem, opt, 3000, np.arange(3), fields=(*NUF_FIELDS, "v", "x"), min_block=nuf.min_block,
                    record=np.array([1, 2, 3000])), [nuf, trace])  # fmt: skip
    shared = nuf.result()
    assert shared.steps_counted == alone.steps_counted
    np.testing.assert_allclose([g.mean for g in shared.groups], [g.mean for g in alone.groups], rtol=1e-13)
    np.testing.assert_allclose(shared.drift, alone.drift, rtol=1e-12)
    assert trace.arrays(("x",))["x"].shape == (3, 3, 1)


def test_an_observer_gets_warm_up_blocks_only_when_it_asks():
    seen = {"all": [], "main": []}

    class All:
        warmup = True

        def block(self, blk, t):
            seen["all"].append(t)

    class Main:
        def block(self, blk, t):
            seen["main"].append(t)

    problem, opt = Online(C=3.0), Adam(lr=0.1)
    observe(iterate(problem, opt, 100, warmup=50, block=64), [All(), Main()], warmup=50)
    assert np.concatenate(seen["all"]).tolist() == list(range(-49, 101))
    assert np.concatenate(seen["main"]).tolist() == list(range(1, 101))


def test_prefetched_blocks_keep_their_recorded_rows_while_the_next_one_runs():
    """The compiled executor reuses its recorded-row buffers; with prefetch the next block runs while
    this one is read: its rows must still be this block's (two sets of buffers, in turn)."""
    from adasim.engine import jit

    if not jit.available():
        pytest.skip(f"the compiled engine is not available: {jit.unavailable_reason()}")
    problem, opt = Stochastic(C=10.0, s=1.0, p=0.2), Adam(lr=0.1)
    rows = np.arange(1, 2001)
    plain = [np.array(b.recorded["x"]) for b in iterate(problem, opt, 2000, np.arange(2), record=rows, block=100,
                                                        engine="compiled")]  # fmt: skip
    seen = []
    for blk in iterate(problem, opt, 2000, np.arange(2), record=rows, block=100, engine="compiled", prefetch=True):
        import time

        time.sleep(0.002)  # the next block is computed meanwhile
        seen.append(np.array(blk.recorded["x"]))
    for a, b in zip(plain, seen, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_prefetched_stream_stopped_early_closes_quietly(recwarn):
    problem, opt = Online(C=3.0), Adam(lr=0.1)
    stream = iterate(problem, opt, 10_000, block=100, prefetch=True)
    next(stream)
    stream.close()
    assert not [w for w in recwarn.list if "Context" in str(w.message)]
