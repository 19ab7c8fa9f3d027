"""The explorer driven through its widgets on the Agg backend: the drawn data follow the mathematics."""

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from adasim import Online, make_optimizer
from adasim.analysis.periodic import periodic_nuf
from adasim.demos.explorer import OPTIMIZERS, Explorer


@pytest.fixture
def explorer():
    fig = Figure(figsize=(13, 8))
    FigureCanvasAgg(fig)
    return Explorer(fig, steps=4000)


def bar_heights(ex):
    return np.array([p.get_height() for p in ex.ax_k.patches])


def test_starts_on_reddi_theorem1(explorer):
    assert explorer.data["adam"]["final_x"] > 0.95  # worst point
    for name in ("amsgrad", "adashift", "adopt"):
        assert explorer.data[name]["final_x"] < -0.95
    # the bars drawn are the measured factors, the diamonds the closed forms
    drawn = bar_heights(explorer).reshape(len(OPTIMIZERS), 3)
    np.testing.assert_allclose(drawn, [explorer.data[n]["kappa"] for n in OPTIMIZERS])
    beta2 = explorer.params()["beta2"]  # the slider's step rounds 1/101 to 0.010
    expected = periodic_nuf(Online(C=10.0, d=3, k=1), make_optimizer("adam", beta1=0.0, beta2=beta2, eps=1e-12)).kappa
    np.testing.assert_allclose(explorer.data["adam"]["closed"], expected, rtol=1e-5)  # the view's 6 significant digits
    np.testing.assert_allclose(explorer.data["adam"]["kappa"], expected, rtol=1e-3)


def test_raising_beta2_rescues_adam(explorer):
    explorer.sliders["beta2"].set_val(0.9)
    assert explorer.params()["beta2"] == pytest.approx(0.9)
    assert explorer.data["adam"]["drift"] < 0
    assert explorer.data["adam"]["final_x"] < -0.95
    # the spike's factor is no longer the smallest by far
    k = explorer.data["adam"]["closed"]
    assert k[0] > 0.5 * k[1:].min()


def test_a_shift_equal_to_the_period_recorrelates_adashift(explorer):
    explorer.sliders["n"].set_val(3)  # d = 3: AdaShift's v sees the same phase as Adam's
    beta2 = explorer.params()["beta2"]
    adam = periodic_nuf(Online(C=10.0, d=3, k=1), make_optimizer("adam", beta1=0.0, beta2=beta2, eps=1e-12))
    np.testing.assert_allclose(explorer.data["adashift"]["closed"], adam.kappa, rtol=1e-5)
    assert explorer.data["adashift"]["drift"] > 0
    explorer.sliders["d"].set_val(4)  # now n = 3 is not a multiple of d = 4
    assert explorer.data["adashift"]["drift"] < 0
    assert len(explorer.data["adashift"]["closed"]) == 4


def test_toggles_remove_an_optimizer(explorer):
    explorer.checks.set_active(0)  # adam off
    assert "adam" not in explorer.data
    assert len(bar_heights(explorer)) == 3 * 3
    shown = [line.get_label() for line in explorer.ax_x.get_lines() if line.get_visible()]
    assert not any(label.startswith("adam") for label in shown)
    legend = [t.get_text() for t in explorer.ax_x.get_legend().get_texts()]
    assert [t.split(":")[0] for t in legend] == ["amsgrad", "adashift", "adopt"]


def test_each_update_records_its_time(explorer):
    explorer.sliders["C"].set_val(20.0)
    assert 0 < explorer.seconds < 5  # measured, not a speed claim: see benchmarks/bench_demo.py


def test_the_v_panel_is_labelled_and_each_toggle_wears_its_optimizers_colour(explorer):
    from matplotlib.colors import to_hex

    from adasim.explorer.style import styles
    from adasim.plots.run import COLORS

    assert explorer.ax_v.get_ylabel().startswith("v_t")
    assert [to_hex(t.get_color()) for t in explorer.checks.labels] == [styles()[n].color for n in OPTIMIZERS]
    assert [to_hex(t.get_color()) for t in explorer.checks.labels] == [COLORS[n] for n in OPTIMIZERS]  # the static figures' too


def test_lines_and_points_are_drawn_in_the_browser_explorers_styles(explorer):
    """One definition of each optimizer's look (adasim.explorer.style) for both explorers."""
    from matplotlib.colors import to_hex
    from matplotlib.lines import Line2D

    from adasim.explorer.style import styles

    for name in OPTIMIZERS:
        want = styles()[name]
        line, points = explorer.lines[f"x:{name}"], explorer.lines[f"v:{name}"]
        assert to_hex(line.get_color()) == to_hex(points.get_color()) == want.color
        reference = Line2D([], [], ls=want.linestyle(), lw=line.get_linewidth())
        assert line.get_linestyle() == reference.get_linestyle()
        assert points.get_marker() == want.marker
