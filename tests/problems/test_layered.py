"""Multi-dimensional problems and block-wise scales."""

import numpy as np
import pytest

from adasim import Adam, AdaShift, AdasimError, ops, simulate
from adasim.problems.layered import Layered, Quadratic, parse_blocks
from adasim.spec import build_spec


def test_layered_coordinates_are_independent_copies_with_block_scales():
    p = Layered(blocks=((3, 1.0), (2, 1e-3)), base="stochastic", C=10.0, p=0.2)
    g = p.gradients(np.arange(1, 20_001), np.array([0]))[:, 0, :]
    assert g.shape == (20_000, 5)
    assert set(np.unique(g[:, 0])) == {10.0, -1.0}
    assert set(np.unique(g[:, 4])) == {0.01, -0.001}
    assert abs(np.corrcoef(g[:, 0], g[:, 1])[0, 1]) < 0.03  # independent streams
    np.testing.assert_allclose((g[:, :3] > 0).mean(axis=0), 0.2, atol=0.02)
    assert p.dim == 5
    assert p.block_sizes() == (3, 2)
    online = Layered(blocks=((3, 1.0),), base="online", C=5.0, d=3)
    go = online.gradients(np.arange(1, 7), np.array([0]))[:, 0, :]
    np.testing.assert_array_equal(go[:, 0], [5, -1, -1, 5, -1, -1])
    np.testing.assert_array_equal(go[:, 1], [-1, -1, 5, -1, -1, 5])  # phase shifted by one


def test_blocks_parsing_and_errors():
    assert parse_blocks("4:1,2:1e-3") == ((4, 1.0), (2, 0.001))
    assert Layered(blocks="2:1,2:0.5").block_sizes() == (2, 2)
    with pytest.raises(AdasimError, match="size:scale"):
        parse_blocks("a:b")
    with pytest.raises(AdasimError, match="scale > 0"):
        Layered(blocks=((2, 0.0),))
    with pytest.raises(AdasimError, match="unknown base"):
        Layered(base="periodic")


def test_phi_reductions_by_hand():
    g2 = np.array([[[1.0, 4.0, 9.0, 16.0]]])
    np.testing.assert_array_equal(ops.reduce(g2, "identity", (4,)), g2)
    np.testing.assert_array_equal(ops.reduce(g2, "mean", (4,)), [[[7.5, 7.5, 7.5, 7.5]]])
    np.testing.assert_array_equal(ops.reduce(g2, "max", (2, 2)), [[[4.0, 4.0, 16.0, 16.0]]])
    np.testing.assert_array_equal(ops.reduce(g2, "norm", (1, 3)), [[[1.0, 29.0, 29.0, 29.0]]])
    with pytest.raises(AdasimError, match="add up to 3"):
        simulate(Layered(blocks=((4, 1.0),)), Adam(phi="mean", blocks=(1, 2)), 10)
    with pytest.raises(AdasimError, match="block sizes"):
        Adam(phi="mean", blocks=(0, 2))


def test_block_wise_adam_shares_v_within_blocks():
    p = Layered(blocks=((2, 1.0), (2, 1e-2)))
    run = simulate(p, Adam(beta1=0.0, beta2=0.9, phi="mean", blocks=(2, 2)), 200, stride=1)
    v = run.trace.v[:, 0, :]
    np.testing.assert_array_equal(v[:, 0], v[:, 1])
    np.testing.assert_array_equal(v[:, 2], v[:, 3])
    assert np.all(v[:, 0] != v[:, 2])


def test_spec_gives_the_problems_blocks_to_the_optimizers():
    spec = build_spec("layered", problem={"blocks": "3:1,5:1e-3"}, hyper={"phi": "mean"})
    assert all(o.blocks == (3, 5) for o in spec.optimizers)
    assert spec.problem.dim == 8


def test_quadratic_takes_the_general_path():
    q = Quadratic(size=4, condition=100.0)
    assert not q.x_independent
    x = np.array([[1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(q.gradient(x, 1, np.array([0])), [[1.0, 100 ** (-1 / 3), 100 ** (-2 / 3), 0.01]])
    run = simulate(q, AdaShift(n=1, beta1=0.0, beta2=0.9, lr=0.01), 3000, x0=1.0)
    assert np.all(np.abs(run.final_x) < 0.05)
    assert run.summary()["verdict"] == "optimum"
    noisy = Quadratic(size=3, noise=0.1)
    g1 = noisy.gradient(np.zeros((2, 3)), 5, np.array([0, 1]))
    assert g1.shape == (2, 3)
    assert not np.array_equal(g1[0], g1[1])
    np.testing.assert_array_equal(g1, noisy.gradient(np.zeros((2, 3)), 5, np.array([0, 1])))
