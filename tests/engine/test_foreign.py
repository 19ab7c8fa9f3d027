"""The foreign executor's pieces that need no foreign library: a stepper written here in NumPy
(sign descent: u = α·sign(g), each lane on its own) run through StepperExecutor, alone and as
parts of a Joint run of several problems, which must give the same floats bit for bit."""

import numpy as np
import pytest

from adasim import SGD, AdasimError, Online, Schedule, Stochastic
from adasim.engine.foreign import Joint, StepperExecutor
from adasim.engine.layout import Layout
from adasim.engine.observers import feed
from adasim.engine.stream import iterate


class SignDescent:
    """x_t = Π(x_{t−1} − α_t sign(g_t)), lane by lane: a stepper whose lanes are independent."""

    block = 64

    def __init__(self, x0: np.ndarray) -> None:
        self.calls = 0

    def run_block(self, x, G, alpha, lo, hi, t0, gradient=None):
        self.calls += 1
        us, xs = np.empty_like(G), np.empty_like(G)
        here = np.array(x)
        for b in range(len(G)):
            us[b] = alpha[b] * np.sign(G[b])
            here = xs[b] = np.minimum(np.maximum(here - us[b], lo), hi)
        return us, xs


PROBLEMS = [Online(C=3.0), Stochastic(C=10.0, s=1.0, p=0.2), Online(C=10.0, d=5)]


def layouts():
    opt = SGD(lr=0.3, schedule=Schedule("inv-sqrt"))
    return [Layout.build(p, opt, np.arange(3 + i), 0.25 * i) for i, p in enumerate(PROBLEMS)], opt


def alone(layout, opt, steps):
    ex = StepperExecutor(layout, SignDescent(layout.x0), ("x", "step"), True, ("x",))
    return list(iterate(layout.problem, opt, steps, executor=ex, regret=True))


def test_a_joint_run_is_each_layout_run_alone_bit_for_bit():
    lays, opt = layouts()
    joint = Joint(lays, SignDescent)
    streams = [iterate(lay.problem, opt, 300, executor=StepperExecutor(lay, joint.part(i), ("x", "step"), True, ("x",)),
                       regret=True) for i, lay in enumerate(lays)]  # fmt: skip
    got = [[] for _ in lays]
    for blocks in zip(*streams, strict=True):
        for i, blk in enumerate(blocks):
            got[i].append(blk)
    assert joint.stepper.calls == 5  # 300 steps in blocks of 64: one stepper call per block for all three
    for i, lay in enumerate(lays):
        ref = alone(lay, opt, 300)
        assert len(ref) == len(got[i])
        for a, b in zip(ref, got[i], strict=True):
            np.testing.assert_array_equal(a.x, b.x)
            np.testing.assert_array_equal(a.step, b.step)
            np.testing.assert_array_equal(a.loss_end, b.loss_end)


def test_a_part_that_runs_ahead_is_an_error_and_a_dropped_one_is_not_waited_for():
    lays, opt = layouts()
    joint = Joint(lays, SignDescent)
    streams = [iterate(lay.problem, opt, 300, executor=StepperExecutor(lay, joint.part(i), ("x", "step"), True, ("x",)))
               for i, lay in enumerate(lays)]  # fmt: skip
    next(streams[0])
    with pytest.raises(AdasimError, match="before parts \\[1, 2\\] took the previous block"):
        next(streams[0])
    joint.drop(1)
    joint.drop(2)
    streams = [iterate(lay.problem, opt, 300, executor=StepperExecutor(lay, joint.part(i), ("x", "step"), True, ("x",)))
               for i, lay in enumerate(lays)]  # fmt: skip
    with pytest.raises(AdasimError, match="out of step"):  # a new stream of part 0 starts at step 1 again
        next(streams[0])


def test_a_joint_run_needs_one_dimension_and_x_independent_gradients():
    from adasim import Quadratic

    opt = SGD(lr=0.1)
    with pytest.raises(AdasimError, match="one dimension"):
        Joint([Layout.build(Online(C=3.0), opt, 0, 0.0), Layout.build(Quadratic(size=2), opt, 0, 0.0)], SignDescent)
    with pytest.raises(AdasimError, match="do not depend on x"):
        Joint([Layout.build(Quadratic(size=1), opt, 0, 0.0), Layout.build(Online(C=3.0), opt, 0, 0.0)], SignDescent)


def test_observers_are_fed_blocks_that_move_x():
    seen = []

    class Seen:
        def block(self, blk, t):
            seen.append(t)

    lays, opt = layouts()
    for blk in alone(lays[0], opt, 100):
        feed(blk, [Seen()])
    assert np.concatenate(seen).tolist() == list(range(1, 101))
