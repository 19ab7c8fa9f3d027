"""Figures a referee accepts, checked by structure (scales, labels, shared limits), not pixels."""

import numpy as np
import pytest

from adasim import Adam, Online, simulate
from adasim.analysis.report import correlation_report, nuf_report, per_shift
from adasim.plots import figure_run
from adasim.plots.nuf import figure_correlation, figure_drift, figure_nuf, figure_sweep, is_geometric
from adasim.settings import RunSettings
from adasim.spec import build_spec
from adasim.sweep import make_plan, run_sweep


def labelled(ax):
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def test_nuf_panels_share_one_y_axis_and_leave_no_empty_slot():
    report = nuf_report(build_spec("reddi-thm1", run=RunSettings(steps=3000)))  # adam 0–1, amsgrad 0–0.1: drawn to one scale
    fig = figure_nuf(report)
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(shown) == len(report.results)
    assert len({ax.get_ylim() for ax in shown}) == 1
    assert all(labelled(ax) for ax in shown[:1])


@pytest.fixture(scope="module")
def heat_map():
    plan = make_plan("reddi-thm1", ["C=log:3:100:6", "beta2=log:0.001:0.999:5"], optimizers=["adam", "amsgrad"], run=RunSettings(steps=500, engine="numpy"))  # fmt: skip
    return figure_sweep(run_sweep(plan, workers=1))


def test_a_log_spaced_grid_is_drawn_on_log_axes(heat_map):
    panels = [ax for ax in heat_map.axes if ax.get_title() in ("adam", "amsgrad")]
    assert [(ax.get_xscale(), ax.get_yscale()) for ax in panels] == [("log", "log")] * 2
    assert all(ax.get_xlabel() == "beta2" and ax.get_ylabel() == "C" for ax in panels)


def test_heat_maps_share_one_colour_scale_and_label_the_boundary(heat_map):
    from matplotlib.collections import QuadMesh

    meshes = [c for ax in heat_map.axes for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) >= 2  # the two panels (and their colour bars)
    assert len({m.get_clim() for m in meshes}) == 1
    assert meshes[0].cmap.name == "viridis"  # perceptually uniform and colour-blind safe
    legend = [t.get_text() for ax in heat_map.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert "drift = 0 (closed form)" in legend


def test_is_geometric():
    assert is_geometric(np.geomspace(1e-3, 0.999, 8))
    assert not is_geometric(np.linspace(0.1, 0.9, 8))
    assert not is_geometric(np.array([1.0, 2.0]))


def test_run_correlation_and_drift_figures_have_labelled_axes():
    runs = [simulate(Online(), Adam(), 500)]
    assert all(labelled(ax) for ax in figure_run(runs).axes)
    spec = build_spec("stochastic", optimizers=["adam", "adashift"], run=RunSettings(steps=2000))
    fig = figure_correlation(correlation_report(spec, per_shift(spec.optimizers, [0, 1, 2])))
    assert labelled(fig.axes[0])
    from adasim.analysis import critical_value

    assert labelled(figure_drift(critical_value(Online(), Adam(beta1=0.0)), "adam").axes[0])


def test_lines_that_end_together_are_named_at_their_ends():
    """Reddi Thm 1: AMSGrad, AdaShift and ADOPT all end at −1; each has its own style and its
    name at its line's end."""
    runs = build_spec("reddi-thm1", run=RunSettings(steps=2000)).run()
    fig = figure_run(runs)
    ax_x = fig.axes[0]
    styles = {ln.get_label(): ln.get_linestyle() for ln in ax_x.get_lines() if not ln.get_label().startswith("_")}
    named = [a.get_text() for a in ax_x.texts]
    assert {"adam", "amsgrad", "adashift", "adopt"} <= set(named)
    assert len({styles[n] for n in ("adam", "amsgrad", "adashift", "adopt")}) == 4
    ys = sorted(a.xy[1] for a in ax_x.texts if a.get_text() in ("amsgrad", "adashift", "adopt"))
    assert min(np.diff(ys)) >= 0.05  # moved apart, though the lines end at the same point


def test_the_dilution_figure_gives_every_quantity_its_own_labelled_axis():
    from adasim.analysis.dilution import dilution
    from adasim.plots.nuf import figure_dilution
    from adasim.problems.layered import Layered

    rows = dilution(
        Layered(base="stochastic", C=10.0, p=0.2), Adam(beta1=0.0, beta2=0.9, lr=0.01, phi="mean"), ks=(1, 4), steps=2000
    )
    fig = figure_dilution(rows, "adam", "mean")
    for ax in fig.axes:
        assert ax.get_ylabel(), ax.get_title()
    share, mean_x = fig.axes[2], fig.axes[3]
    assert share.get_ylim()[0] > -0.1
    assert mean_x.get_ylim() == (-1.05, 1.05)


def test_log_axes_of_narrow_ranges_read_as_plain_numbers():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from adasim.plots.run import plain_log_ticks

    fig = Figure()
    ax = fig.subplots()
    ax.plot([1, 2], [2.5, 40])
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    FigureCanvasAgg(fig).draw()
    shown = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert shown
    assert all("times" not in t and "^" not in t for t in shown)
    assert {"5", "10", "20"} <= set(shown)


# -- a referee's structure: no text over text or data, labelled axes, no empty axes ------------------


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _data(ax) -> list:
    """The axes' data artists (lines, patches, collections, images), not its background or spines."""
    return [a for a in (*ax.lines, *ax.patches, *ax.collections, *ax.images) if a.get_visible()]


def _panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def _texts(fig, panels: list) -> list:
    """The figure's text artists: its title, each panel's titles, axis labels and texts (tick labels left out)."""
    texts = [t for t in (fig._suptitle, *fig.texts) if t is not None]
    for ax in panels:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
    return list({id(t): t for t in texts if t.get_visible() and t.get_text().strip()}.values())


def _overlap(a, b, slack: float = 1.0) -> bool:
    """Whether two display boxes share more than `slack` pixels in both directions."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > slack and min(a.y1, b.y1) - max(a.y0, b.y0) > slack


def _labelled_axis(ax, axis: str) -> bool:
    """The axes' own label, or that of an axes it shares this axis with."""
    shared = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    return any(getattr(a, f"get_{axis}label")() for a in shared.get_siblings(ax))


def referee(fig, panels: list | None = None) -> None:
    """No text cut off by the figure's edge, no two texts overlap, every panel with data names both
    axes (or shares a named one), no panel is empty (neither data nor a note). `panels`: the axes to judge (default: all but colour bars)."""
    renderer = _renderer(fig)
    panels = _panels(fig) if panels is None else panels
    texts = _texts(fig, panels)
    boxes = [t.get_window_extent(renderer) for t in texts]
    page = fig.bbox
    for text, box in zip(texts, boxes, strict=True):  # nothing cut off at the figure's edges
        assert page.x0 - 1 <= box.x0, text.get_text()
        assert box.x1 <= page.x1 + 1, text.get_text()
        assert page.y0 - 1 <= box.y0, text.get_text()
        assert box.y1 <= page.y1 + 1, text.get_text()
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            assert not _overlap(boxes[i], boxes[j]), (texts[i].get_text(), texts[j].get_text())
    for ax in panels:
        assert _data(ax) or ax.texts, f"empty axes: {ax.get_title()!r}"
        if _data(ax) and ax.axison:
            assert _labelled_axis(ax, "x"), ax.get_title()
            assert _labelled_axis(ax, "y"), ax.get_title()


def test_points_on_scale_are_even_on_the_axis_and_span_it():
    from matplotlib.figure import Figure

    from adasim.plots.nuf import points_on_scale

    ax = Figure().subplots()
    ax.set_xscale("log")
    np.testing.assert_allclose(
        points_on_scale(ax.xaxis, 1e-3, 0.999, 4), [1e-3, 1e-2 * 0.999 ** (1 / 3), 0.1 * 0.999 ** (2 / 3), 0.999]
    )
    np.testing.assert_allclose(points_on_scale(ax.yaxis, 0.0, 0.9, 4), [0.0, 0.3, 0.6, 0.9])


@pytest.fixture(scope="module")
def beta_map():
    """reddi-thm1's four optimizers over β1 × β2 (β2 log-spaced down to 10⁻³)."""
    plan = make_plan("reddi-thm1", ["beta1=0:0.9:4", "beta2=log:0.001:0.999:5"], run=RunSettings(steps=300, engine="numpy"))
    return figure_sweep(run_sweep(plan, workers=1))


def test_beta1_sqrt_beta2_is_drawn_from_points_even_on_the_log_axis(beta_map):
    """A line from linearly spaced β2 bent into a flat step below β2 ≈ 5·10⁻³ on the log axis."""
    panels = [ax for ax in _panels(beta_map)]
    assert len(panels) == 4
    for ax in panels:
        assert (ax.get_xscale(), ax.get_xlabel(), ax.get_ylabel()) == ("log", "beta2", "beta1")
        (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "β1 = √β2"]
        beta2, beta1 = (np.asarray(v, dtype=float) for v in line.get_data())
        np.testing.assert_allclose(beta1, np.sqrt(beta2))
        shown = ax.transData.transform(np.column_stack([beta2, beta1]))[:, 0]  # display x of each point
        steps = np.diff(shown)
        np.testing.assert_allclose(steps, steps[0], rtol=1e-6)
        lo, hi = ax.transData.transform([(ax.get_xlim()[0], 0.5), (ax.get_xlim()[1], 0.5)])[:, 0]
        assert (shown[0], shown[-1]) == pytest.approx((lo, hi))  # covers the axis


def test_panels_on_one_colour_scale_share_one_colour_bar_in_a_sensible_width(beta_map):
    from matplotlib.collections import QuadMesh

    colour_bars = [ax for ax in beta_map.axes if ax.get_label() == "<colorbar>"]
    assert len(colour_bars) == 1  # was one per panel, four identical ones
    meshes = [c for ax in _panels(beta_map) for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 4
    assert len({m.get_clim() for m in meshes}) == 1
    assert beta_map.get_figwidth() * 110 <= 1600  # sweep.png is written at 110 dpi: was 2 288 px wide
    rows = {round(ax.get_position().y0, 3) for ax in _panels(beta_map)}
    assert len(rows) == 2  # wrapped to 2 × 2
    referee(beta_map)


def test_a_note_on_a_missing_closed_form_stays_clear_of_the_data():
    """AMSGrad on the i.i.d. problem has no closed form: the note said so across its violins."""
    spec = build_spec("stochastic", optimizers=["adam", "amsgrad"], run=RunSettings(steps=20_000))
    fig = figure_nuf(nuf_report(spec))
    renderer = _renderer(fig)
    notes = [t for ax in fig.axes for t in ax.texts if "no closed form" in t.get_text()]
    assert len(notes) == 1
    box = notes[0].get_window_extent(renderer)
    for ax in _panels(fig):
        assert not _overlap(box, ax.bbox)  # outside every panel's data area
        for artist in _data(ax):
            assert not _overlap(box, artist.get_window_extent(renderer)), artist
    referee(fig)


def test_nuf_panels_of_one_quantity_share_their_y_axis():
    report = nuf_report(build_spec("reddi-thm1", run=RunSettings(steps=3000)))
    fig = figure_nuf(report)
    panels = _panels(fig)
    assert len(panels) == len(report.results) == 4  # the fifth and sixth slots are removed, not hidden
    assert all(panels[0].get_shared_y_axes().joined(panels[0], ax) for ax in panels[1:])
    referee(fig)


def _unbounded_runs():
    """Reddi's stochastic problem without a domain (the AdaShift paper's setting): no regret is defined."""
    spec = build_spec("stochastic", problem={"C": 101.0, "delta": 0.02}, optimizers=["adam", "amsgrad"], domain="none",
                      run=RunSettings(steps=2000))  # fmt: skip
    return spec.run()


def test_an_unbounded_run_has_no_empty_regret_panel():
    runs = _unbounded_runs()
    assert not any(np.isfinite(r.trace.average_regret).any() for r in runs)  # no regret to draw
    fig = figure_run(runs)
    assert len(_panels(fig)) == 1
    assert "regret" in fig.axes[0].get_title()  # the title says why there is no second panel
    referee(fig)
    bounded = figure_run(build_spec("reddi-thm1", run=RunSettings(steps=2000)).run())
    assert [ax.get_ylabel() for ax in _panels(bounded)] == ["x_t", "R_t / t"]
    referee(bounded)


def test_cells_not_computed_are_grey_and_named_not_white_as_rho_0():
    from types import SimpleNamespace

    from matplotlib.collections import QuadMesh

    from adasim.plots.nuf import figure_wrong_way

    periods, C = np.geomspace(2.0, 200.0, 6), np.geomspace(1.0, 1e5, 6)
    ratio = np.full((6, 6), 1e-4)  # ρ ≈ 0: white
    ratio[0], ratio[1:, 0], ratio[5, 5] = np.nan, -0.5, 0.9  # d = 2 not computed; toward x* at small C
    cx = SimpleNamespace(problem=None, optimizer=SimpleNamespace(name="adam"))
    fig = figure_wrong_way(cx, {"periods": periods, "C": C, "ratio": ratio, "k": 2})
    renderer = _renderer(fig)
    ax = fig.axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    pixels = np.asarray(renderer.buffer_rgba())[..., :3].astype(float)

    def colour(d, c):
        x, y = ax.transData.transform((d, c))
        return pixels[round(fig.bbox.height - y), round(x)]

    blank, zero = colour(periods[0], C[3]), colour(periods[3], C[3])
    assert np.abs(blank - zero).max() > 60  # not computed is told apart from ρ = 0 on the rendered figure
    assert np.ptp(blank) < 10  # grey: no hue of its own
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("not computed") for t in legend)
    assert mesh.cmap.get_bad()[:3] != pytest.approx(mesh.cmap(mesh.norm(0.0))[:3], abs=0.2)
    referee(fig)


def test_every_time_series_of_the_demo_names_its_x_axis():
    from matplotlib.figure import Figure

    from adasim.demos.explorer import Explorer

    explorer = Explorer(Figure(figsize=(13, 8)), steps=300)
    panels = (explorer.ax_x, explorer.ax_v, explorer.ax_k)
    assert explorer.ax_x.get_xlabel() == "step t"  # x_t had none
    for ax in panels:
        assert ax.get_xlabel(), ax.get_title()
        assert ax.get_ylabel(), ax.get_title()
    referee(explorer.fig, list(panels))  # the sliders' and toggles' axes are widgets


@pytest.mark.parametrize("which", ["run", "nuf-iid", "correlation", "drift", "dilution", "sweep-1d", "sweep-2d"])
def test_the_main_figures_pass_a_referees_structure(which, heat_map):
    """No text over another text, every panel with data labelled on both axes, no empty panel."""
    from adasim.analysis import critical_value

    if which == "run":
        fig = figure_run([simulate(Online(), Adam(), 500)])
    elif which == "nuf-iid":
        fig = figure_nuf(nuf_report(build_spec("stochastic", optimizers=["adam", "adashift", "adopt", "amsgrad"],
                                               run=RunSettings(steps=5000))))  # fmt: skip
    elif which == "correlation":
        spec = build_spec("stochastic", optimizers=["adam", "adashift"], run=RunSettings(steps=2000))
        fig = figure_correlation(correlation_report(spec, per_shift(spec.optimizers, [0, 1, 2])), "Pearson against n")
    elif which == "drift":
        fig = figure_drift(critical_value(Online(), Adam(beta1=0.0)), "adam")
    elif which == "dilution":
        from adasim.analysis.dilution import dilution
        from adasim.plots.nuf import figure_dilution
        from adasim.problems.layered import Layered

        opt = Adam(beta1=0.0, beta2=0.9, lr=0.01, phi="mean")
        fig = figure_dilution(dilution(Layered(base="stochastic", C=10.0, p=0.2), opt, ks=(1, 4), steps=1000), "adam", "mean")
    elif which == "sweep-1d":
        plan = make_plan("reddi-thm1", ["beta2=log:0.001:0.999:4"], optimizers=["adam", "amsgrad"], run=RunSettings(steps=200, engine="numpy"))  # fmt: skip
        fig = figure_sweep(run_sweep(plan, workers=1), "a one-axis sweep")
    else:
        fig = heat_map
    referee(fig)


# -- a new user's figures (issue #32): cells as the axes were given, titles that say what varies --------


def _cell_sizes(ax, mesh) -> tuple[np.ndarray, np.ndarray]:
    """The display widths and heights of a heat map's cells (one row and one column of them)."""
    corners = np.asarray(np.ma.getdata(mesh.get_coordinates()), dtype=float)  # (rows + 1, columns + 1, 2), data coordinates
    shown = ax.transData.transform(corners.reshape(-1, 2)).reshape(corners.shape)
    return np.diff(shown[0, :, 0]), np.diff(shown[:, 0, 1])


def _heat_panels(fig) -> list:
    from matplotlib.collections import QuadMesh

    return [(ax, next(c for c in ax.collections if isinstance(c, QuadMesh))) for ax in _panels(fig)]


def _shown_ticks(axis) -> list[str]:
    """The tick labels inside the axis's view."""
    lo, hi = sorted(axis.get_view_interval())
    return [t.get_text() for t, v in zip(axis.get_ticklabels(), axis.get_ticklocs(), strict=True) if lo <= v <= hi]


def test_listed_values_get_one_equal_cell_each_ticked_with_the_values():
    """-g beta2=0.9,0.99,0.999 -g C=10,101: the C axis ran from −25 to 145, β2 to 1.003, and the 0.9
    cell was 16× taller than the 0.999 one (cells at the arithmetic midpoints)."""
    plan = make_plan("stochastic", ["beta2=0.9,0.99,0.999", "C=10,101"], optimizers=["adam", "amsgrad"],
                     run=RunSettings(steps=200, engine="numpy"))  # fmt: skip
    fig = figure_sweep(run_sweep(plan, workers=1))
    _renderer(fig)
    for ax, mesh in _heat_panels(fig):
        widths, heights = _cell_sizes(ax, mesh)
        assert len(widths) == 2
        assert len(heights) == 3
        np.testing.assert_allclose(widths, widths[0], rtol=1e-9)
        np.testing.assert_allclose(heights, heights[0], rtol=1e-9)
        assert _shown_ticks(ax.xaxis) == ["10", "101"]  # the values, nothing else (no −25, no 145)
        assert _shown_ticks(ax.yaxis) == ["0.9", "0.99", "0.999"]
        assert not [t for t in ax.get_yticklabels(which="minor") if t.get_text()]
        box = ax.get_window_extent()
        for tick, loc in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True):  # each value names its own cell's middle
            x = ax.transData.transform((loc, 0))[0]
            assert box.x0 < x < box.x1, tick.get_text()
    referee(fig)


def test_listed_values_spaced_by_a_ratio_get_a_log_axis_with_geometric_cells():
    plan = make_plan(
        "reddi-thm1", ["C=10,100,1000", "beta1=0,0.5"], optimizers=["adam"], run=RunSettings(steps=200, engine="numpy")
    )
    fig = figure_sweep(run_sweep(plan, workers=1))
    _renderer(fig)
    ((ax, mesh),) = _heat_panels(fig)
    assert ax.get_yscale() == "log"
    widths, heights = _cell_sizes(ax, mesh)
    np.testing.assert_allclose(heights, heights[0], rtol=1e-9)
    np.testing.assert_allclose(widths, widths[0], rtol=1e-9)
    assert _shown_ticks(ax.yaxis) == ["10", "100", "1000"]
    assert _shown_ticks(ax.xaxis) == ["0", "0.5"]


def test_ranges_keep_their_cells_and_show_no_impossible_values(heat_map, beta_map):
    """log:lo:hi:count: equal cells on the log axis; lo:hi:count: equal linear cells; neither axis shows
    a β2 above 1 or a β1 or C below 0 (β2 = log:0.001:0.999:5 reached 1.4 with its half cell)."""
    _renderer(heat_map)
    _renderer(beta_map)
    for fig in (heat_map, beta_map):
        for ax, mesh in _heat_panels(fig):
            widths, heights = _cell_sizes(ax, mesh)
            np.testing.assert_allclose(widths, widths[0], rtol=1e-9)
            np.testing.assert_allclose(heights, heights[0], rtol=1e-9)
            assert ax.get_xlabel() == "beta2"
            assert ax.get_xlim()[1] <= 1.0
            assert min(ax.get_ylim()) >= 0.0
    ax = _panels(beta_map)[0]
    assert ax.get_ylim() == pytest.approx((0.0, 1.0))  # β1 = 0:0.9:4: cells of 0.3 from −0.15, shown from 0 to 1


def test_the_sweep_title_says_what_is_swept_what_follows_it_and_the_fixed_settings():
    """shi-two-spike over C and β2: the title said d=10 while d = C in every cell; over C alone it left
    out the fixed β2 = 0.6; with seeds it read 'seeds swept; swept: …'."""
    from adasim.cli.sweep import sweep_title

    plan = make_plan("shi-two-spike", ["C=log:3:100:4", "beta2=0.3:0.99:3"], run=RunSettings(steps=200, engine="numpy"))
    result = run_sweep(plan, workers=1)
    np.testing.assert_array_equal(result.table["d"], np.round(result.table["C"]))  # d follows C, cell by cell
    fig = figure_sweep(result, sweep_title(plan))
    title = " ".join(fig._suptitle.get_text().split())  # wrapped to the figure's width
    assert "d=10" not in title
    assert "d = 10" not in title
    assert "C 3…100 (4, log-spaced; d = C)" in title
    assert "beta2 0.3…0.99 (3, linear)" in title
    assert "β2 = 0.6" not in title  # swept, so not fixed
    assert "β1 = 0" in title
    one = sweep_title(make_plan("shi-two-spike", ["C=log:3:100:32"]))
    assert "β2 = 0.6" in one
    assert "β1 = 0" in one
    assert "d = C" in one
    assert "d=10" not in one
    fixed_c = sweep_title(make_plan("shi-two-spike", ["beta2=0.3:0.99:32"]))
    assert "d=10" in fixed_c
    assert "d = C" not in fixed_c
    seeds = sweep_title(make_plan("reddi-thm1", ["C=10,20"], optimizers=["adam"], run=RunSettings(seeds=[0, 1, 2])))
    assert "swept; swept" not in seeds
    assert "medians over 3 seeds" in seeds
    assert "C ∈ {10, 20} (β2 = 1/(1+C²))" in seeds
    referee(fig)


def _raw_tex(text: str) -> bool:
    """Whether `text` has a TeX subscript in braces outside $…$ mathtext (drawn as the literal '_{')."""
    import re

    return "_{" in re.sub(r"(?<!\\)\$.*?(?<!\\)\$", "", text)


def test_raw_tex_is_found_outside_mathtext_only():
    assert _raw_tex("built from g_{t−n} and older")
    assert not _raw_tex("built from $g_{t-n}$ and older")
    assert _raw_tex("$v_t$ from g_{t-n}")
    assert not _raw_tex("R_t / t")


@pytest.mark.parametrize("which", ["correlation", "nuf", "sweep", "run"])
def test_no_label_or_title_shows_tex_braces(which, heat_map):
    """correlation.png's x label read 'built from g_{t−n} and older', braces and all."""
    if which == "correlation":
        spec = build_spec("stochastic", optimizers=["adam", "adashift"], run=RunSettings(steps=2000))
        fig = figure_correlation(correlation_report(spec, per_shift(spec.optimizers, [0, 1, 2])))
    elif which == "nuf":
        fig = figure_nuf(nuf_report(build_spec("reddi-thm1", run=RunSettings(steps=3000))))
    elif which == "sweep":
        fig = heat_map
    else:
        fig = figure_run([simulate(Online(), Adam(), 500)])
    texts = _texts(fig, _panels(fig))
    assert texts
    assert not [t.get_text() for t in texts if _raw_tex(t.get_text())]
    _renderer(fig)  # the mathtext parses


def _probe_report(layers: int = 3, windows: int = 4):
    """A synthetic probe report (adasim.probe's JSON layout): no torch needed to draw it."""
    from adasim.training_probe import ProbeReport

    rng = np.random.default_rng(0)
    names = [f"encoder.block{i}" for i in range(layers)]
    stats = lambda: {  # noqa: E731
        "pearson_g2_v": float(rng.uniform(-0.6, 0.2)), "pearson_g2_v_shifted": float(rng.uniform(-0.6, 0.2)),
        "kappa_abs_g": float(rng.uniform(-0.4, 0.4)), "cosine_shifted_step": 0.99, "step_difference": 0.003,
        "decoupled": 0.0, "spikes": 0.05, "autocorrelation": [0.98],
    }  # fmt: skip
    tensors = [{"tensor": f"{n}.weight", "layer": n, "sampled": 128, **stats()} for n in names]
    rows = [{"layer": n, **stats(), "sampled": 128} for n in names]
    wins = [{"step": 50 * (k + 1), "tensors": {t["tensor"]: stats() for t in tensors}} for k in range(windows)]
    settings = {"optimizer": "Adam", "steps": 50 * windows, "sample": 1024, "window": 50, "shift": 1, "kappa": 16,
                "beta1": 0.9, "beta2": 0.999, "iid_pearson": 0.0447}  # fmt: skip
    return ProbeReport(settings, tensors, rows, wins)


def test_the_probe_figure_is_readable_and_names_every_axis(tmp_path):
    """probe.png was 225 px tall, its layer axis unnamed with 7-point names, panels 1 and 2 without an x
    label and panel 3 without a y label."""
    from adasim.plots.probe import probe_figure
    from adasim.training_probe import ProbeReport

    path = _probe_report().write(tmp_path / "probe.json")
    fig = probe_figure(ProbeReport.read(path))  # from the JSON, as `adasim probe probe.json` draws it
    assert fig.get_figheight() * fig.dpi >= 400
    renderer = _renderer(fig)
    panels = _panels(fig)
    assert len(panels) == 3
    for ax in panels:
        assert ax.get_xlabel(), ax.get_title()
        assert _labelled_axis(ax, "y"), ax.get_title()
        assert all(t.get_fontsize() >= 8 for t in (*ax.get_xticklabels(), *ax.get_yticklabels()) if t.get_text())
    layers, kappa, windows = panels
    assert layers.get_ylabel() == "layer"
    assert [t.get_text() for t in layers.get_yticklabels()] == [f"encoder.block{i}" for i in range(3)]
    assert kappa.get_shared_y_axes().joined(kappa, layers)  # the rows of a layer line up
    assert windows.get_ylabel()
    assert max(t.get_window_extent(renderer).height for t in layers.get_yticklabels()) >= 8  # pixels at 100 dpi
    referee(fig)


def test_a_quick_figure_says_quick_above_the_full_runs_claim():
    """`adasim experiment reddi-fig1 --quick` drew the full run's title ('… AMSGrad to −1') over numbers
    that need not show it."""
    from matplotlib.figure import Figure

    from adasim.experiments import QUICK_NOTE, mark_quick

    fig = Figure(figsize=(6.5, 4), layout="constrained")
    fig.subplots().plot([0, 1], [0, 1])
    fig.suptitle("Reddi et al. Fig. 1: Adam goes to +1, AMSGrad to −1", fontsize=9)
    mark_quick(fig)
    taller = fig.get_figheight()
    assert taller > 4  # the note's line is added, not taken from the panels
    mark_quick(fig)  # once only
    assert fig.get_figheight() == taller
    text = " ".join(fig._suptitle.get_text().split())
    assert text.startswith(QUICK_NOTE)
    assert text.count("quick version") == 1
    assert text.endswith("AMSGrad to −1")
    assert fig._suptitle.get_fontsize() == 9
    bare = Figure(figsize=(6.5, 4), layout="constrained")
    bare.subplots().plot([0, 1], [0, 1])
    mark_quick(bare)
    assert "quick version" in bare._suptitle.get_text()
    for f in (fig, bare):
        f.axes[0].set(xlabel="t", ylabel="x", title="panel")
        referee(f)  # the note is not cut off by the figure's narrow width
