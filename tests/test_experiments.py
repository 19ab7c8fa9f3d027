"""Every reproduction runs with --quick, writes its files, and shows what the paper claims."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim.cli.app import app
from adasim.errors import AdasimError
from adasim.experiments import EXPERIMENTS, run_experiment

pytestmark = pytest.mark.slow  # every experiment's quick run

ROOT = Path(__file__).resolve().parents[1]


class _Runs(dict):
    """Each experiment's quick run, made on first use."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out

    def __missing__(self, name: str):
        figures: dict = {}
        told: list[tuple[int, int]] = []  # every progress(done, total) the experiment made
        numbers = run_experiment(name, self.out / name, quick=True, figures=figures, progress=lambda d, t: told.append((d, t)))
        self[name] = (numbers, self.out / name, figures, told)
        return self[name]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return _Runs(tmp_path_factory.mktemp("experiments"))


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_each_experiment_writes_its_files_shows_its_claims_and_a_referees_figure(results, name):
    """One test per experiment, so that its quick run is made once (pytest-xdist would send two
    tests of one experiment to two workers, each making it)."""
    numbers, folder, figures, told = results[name]
    assert (folder / f"{name}.png").exists()
    assert (folder / f"{name}.svg").exists()
    assert json.loads((folder / f"{name}.json").read_text())["experiment"] == name
    assert numbers["quick"] is True
    CLAIMS[name](results)
    referees_structure(figures)
    says_it_is_quick(figures)
    progress_reaches_its_total(name, told)


def says_it_is_quick(figures):
    """A quick figure says so above its title: the title states the full run's claim (reddi-fig1's
    '… AMSGrad to −1' stood over a quick AMSGrad ending near 0)."""
    assert figures
    for stem, fig in figures.items():
        assert fig._suptitle is not None, stem
        title = " ".join(fig._suptitle.get_text().split())
        assert title.startswith("quick version (fewer steps): see the full run, without --quick, for the claim"), (stem, title)


def progress_reaches_its_total(name, told):
    """The bar of `adasim experiment NAME` has an estimate: the experiment states one total up
    front and ticks up to it exactly — never past it, never stopping short, never backwards."""
    assert told, (name, "no progress: the bar pulses with no estimate")
    totals = {t for _, t in told}
    assert len(totals) == 1, (name, totals)
    (total,) = totals
    done = [d for d, _ in told]
    assert all(b > a for a, b in zip([0, *done[:-1]], done, strict=True)), (name, done)  # each tick adds work
    assert max(done) <= total, (name, done, total)
    assert done[-1] == total, (name, done, total)


def test_progress_check_fails_a_short_an_overshooting_and_a_pulsing_count():
    """progress_reaches_its_total can fail."""
    progress_reaches_its_total("fine", [(1, 3), (3, 3)])
    for told in ([], [(1, 3), (2, 3)], [(2, 3), (4, 3)], [(1, 2), (3, 3)], [(2, 3), (2, 3), (3, 3)]):
        with pytest.raises(AssertionError):
            progress_reaches_its_total("bad", told)


def _has_data(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.images or ax.patches)


def _labelled(ax, axis: str) -> bool:
    """The axes' own label, or that of an axes it shares this axis with (a grid labels one edge)."""
    get = f"get_{axis}label"
    shared = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    return any(getattr(a, get)() for a in shared.get_siblings(ax))


# Viénot, Brettel & Mollon 1999: dichromat vision simulated on linear RGB (protanope, deuteranope)
DICHROMATS = {
    "protan": np.array([[0.11238, 0.88762, 0.0], [0.11238, 0.88762, 0.0], [0.00401, -0.00401, 1.0]]),
    "deutan": np.array([[0.29275, 0.70725, 0.0], [0.29275, 0.70725, 0.0], [-0.02234, 0.02234, 1.0]]),
}


def _lab(rgb) -> np.ndarray:
    """CIE L*a*b* (D65) of an sRGB colour."""
    c = np.asarray(rgb, dtype=float)[:3]
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    f = np.where(
        xyz / [0.95047, 1.0, 1.08883] > 0.008856,
        np.cbrt(xyz / [0.95047, 1.0, 1.08883]),
        7.787 * xyz / [0.95047, 1.0, 1.08883] + 16 / 116,
    )
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def dichromat_contrast(c0, c1) -> float:
    """The smaller CIE76 distance between two colours as a protanope and a deuteranope see them."""
    to_lin = lambda c: np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)  # noqa: E731
    to_srgb = lambda v: np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.clip(v, 0, 1) ** (1 / 2.4) - 0.055)  # noqa: E731
    seen = [[to_srgb(np.clip(m @ to_lin(np.asarray(c, dtype=float)[:3]), 0, 1)) for c in (c0, c1)] for m in DICHROMATS.values()]
    return min(float(np.linalg.norm(_lab(a) - _lab(b))) for a, b in seen)


def test_dichromat_contrast_tells_red_green_from_colour_blind_safe_maps():
    from matplotlib import colormaps

    ends = {name: (colormaps[name](0.0), colormaps[name](1.0)) for name in ("RdYlGn", "RdYlGn_r", "viridis", "cividis", "PuOr_r")}
    assert max(dichromat_contrast(*ends[n]) for n in ("RdYlGn", "RdYlGn_r")) < 30
    assert min(dichromat_contrast(*ends[n]) for n in ("viridis", "cividis", "PuOr_r")) > 30


def _texts_overlap(fig, renderer) -> list:
    """Pairs of texts (figure title, panel titles, axis labels, panel texts) whose boxes overlap."""
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
    texts = list({id(t): t for t in texts if t.get_visible() and t.get_text().strip()}.values())
    boxes = [t.get_window_extent(renderer) for t in texts]
    return [
        (texts[i].get_text(), texts[j].get_text())
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
        if min(boxes[i].x1, boxes[j].x1) - max(boxes[i].x0, boxes[j].x0) > 1
        and min(boxes[i].y1, boxes[j].y1) - max(boxes[i].y0, boxes[j].y0) > 1
    ]


def referees_structure(figures):
    """Not pixels: every panel with data names both axes (or shares a labelled one) and has a
    title, the figure has a title, no two texts overlap, no panel is empty, every colour map's ends
    stay apart for red–green colour blindness, a log axis drops no data (no value ≤ 0 on it), and
    no tick reads like 2×10⁰."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for stem, fig in figures.items():
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        assert _texts_overlap(fig, renderer) == [], stem
        for ax in fig.axes:  # a label longer than its panel runs into the titles above it
            assert ax.yaxis.label.get_window_extent(renderer).height <= ax.bbox.height + 2, (stem, ax.get_ylabel())
            assert ax.xaxis.label.get_window_extent(renderer).width <= ax.bbox.width + 2, (stem, ax.get_xlabel())
        assert all(_has_data(ax) or ax.texts for ax in fig.axes if ax.get_visible()), (stem, "an empty panel")
        mappables = (c for ax in fig.axes for c in (*ax.collections, *ax.images) if c.get_array() is not None)
        for mappable in (m for m in mappables if m.cmap.N > 1):  # a contour drawn in one colour has a map of one
            assert dichromat_contrast(mappable.cmap(0.0), mappable.cmap(1.0)) > 30, (stem, mappable.cmap.name)
        panels = [ax for ax in fig.axes if _has_data(ax) and ax.get_label() != "<colorbar>"]
        titled = fig._suptitle is not None and fig._suptitle.get_text()
        for ax in panels:
            assert _labelled(ax, "x"), (stem, ax.get_title())
            assert _labelled(ax, "y"), (stem, ax.get_title())
            # a panel's title, or its twin's (the same box), or the figure's for a single panel
            assert any(o.get_title() for o in fig.axes if o.bbox.bounds == ax.bbox.bounds) or (titled and len(panels) <= 2), stem
            for line in (ln for ln in ax.lines if ln.get_transform() is ax.transData):  # axhline/axvline span the axes
                x, y = (np.asarray(v, dtype=float) for v in line.get_data())
                if ax.get_yscale() == "log":
                    assert not np.any(y[np.isfinite(y)] <= 0), (stem, line.get_label(), "values ≤ 0 on a log axis")
                if ax.get_xscale() == "log":
                    assert not np.any(x[np.isfinite(x)] <= 0), (stem, line.get_label())
            ticks = [t.get_text() for t in (*ax.get_xticklabels(which="both"), *ax.get_yticklabels(which="both"))]
            assert not [t for t in ticks if "times10^{0}" in t.replace("\\", "")], (stem, ticks)


def claims_adashift_stochastic(results):
    left = results["adashift-stochastic"][0]["left"]
    assert left["adam"]["median"] > 0 > left["adashift"]["median"]
    assert left["amsgrad"]["median"] < 0
    right = results["adashift-stochastic"][0]["right"]
    assert right["0.9,0.999"]["median"] > 0 > right["0.9,0.9999"]["median"]


def claims_reddi_fig1(results):
    numbers = results["reddi-fig1"][0]
    regret = results["reddi-fig1"][2]["reddi-fig1"].axes[0]
    assert regret.get_yscale() == "symlog"  # R_t/t of AdaShift and AMSGrad turns negative: a log axis would drop it
    assert numbers["online"]["adam"]["final_x"] > 0.9
    assert numbers["online"]["amsgrad"]["final_x"] < -0.9
    assert numbers["stochastic"]["adam"]["median_final_x"] > 0.9
    assert numbers["stochastic"]["adashift"]["median_final_x"] < 0


def claims_shi_phase(results):
    numbers = results["shi-phase"][0]
    (mesh,) = results["shi-phase"][2]["shi-phase"].axes[0].collections[:1]
    assert dichromat_contrast(mesh.cmap(0.0), mesh.cmap(1.0)) > 30  # was red/green (RdYlGn): one colour to a deuteranope
    assert 0.63 < numbers["critical_beta2_C10"] < 0.64  # Shi et al. 2021: between 0.63 and 0.64
    row = numbers["converged"][numbers["settings"]["C"].index(10.0)]
    b2 = numbers["settings"]["beta2"]
    assert all(c == 0.0 for c, b in zip(row, b2, strict=True) if b < 0.6)
    # near the boundary the drift is small: Shi's strict rule (mean log10 distance < −2) is not met there
    # within 10^5 steps; with α_t = 1/√t the distance at β2 > 0.8 is ≈ 0.013 after 2·10^4 steps, 0.006 after 10^5
    assert all(c == 1.0 for c, b in zip(row, b2, strict=True) if b > 0.8)
    shi_phase_map_names_what_was_not_simulated(results["shi-phase"][2]["shi-phase"], b2)


def shi_phase_map_names_what_was_not_simulated(fig, b2):
    """β2 < 0.3 was not simulated: it was white, like the background (and like nothing). It is a
    named, hatched grey region from β2 = 0 to the first simulated cell; the closed-form boundary,
    which runs to β2 = 0, shows whole; the legend sits outside the axes, over no data."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgb

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    (ax,) = fig.axes
    mesh = ax.collections[0]
    first_cell = float(mesh.get_coordinates()[..., 0].min())
    assert first_cell == pytest.approx(b2[0] - (b2[1] - b2[0]) / 2)  # the simulated map starts half a cell before β2 = 0.3
    assert ax.get_xlim() == (0.0, 1.0)
    skipped = [p for p in ax.patches if p.get_label().startswith("not simulated")]
    assert len(skipped) == 1
    (span,) = skipped
    corners = span.get_transform().transform(span.get_path().vertices)  # display coordinates
    lo, hi = ax.transData.inverted().transform([[corners[:, 0].min(), 0], [corners[:, 0].max(), 0]])[:, 0]
    assert lo == pytest.approx(0.0, abs=1e-9)
    assert hi == pytest.approx(first_cell)
    grey = to_rgb(span.get_facecolor())
    assert span.get_hatch()
    assert min(abs(a - b) for a, b in zip(grey, to_rgb(fig.get_facecolor()), strict=True)) > 0.05  # not the background's white
    assert min(dichromat_contrast(grey, mesh.cmap(v)) for v in (0.0, 1.0)) > 30  # nor either outcome
    boundary = next(line for line in ax.lines if line.get_label() == "closed form: drift = 0")
    assert min(boundary.get_xdata()) == pytest.approx(0.0, abs=1e-9)  # the curve runs to β2 = 0 and the axis shows it
    assert ax.get_xlim()[0] <= min(boundary.get_xdata())
    assert ax.get_legend() is None
    (legend,) = fig.legends
    assert any(t.get_text().startswith("not simulated") for t in legend.get_texts())
    box, area = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.y1 < area.y0 or box.x0 > area.x1 or box.x1 < area.x0 or box.y0 > area.y1, (box, area)  # clear of the map
    assert fig.bbox.x0 <= box.x0  # not cut off
    assert box.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= box.y0


def claims_nuf_correlation(results):
    numbers = results["nuf-correlation"][0]
    rows = {r["optimizer"]: {x["gradient"]: x for x in r["nuf"]} for r in numbers["nuf"]}
    assert rows["adam"][10.0]["analytic"] < rows["adam"][-1.0]["analytic"]
    assert rows["adashift"][10.0]["analytic"] == pytest.approx(rows["adashift"][-1.0]["analytic"])
    shift0 = next(c for c in numbers["correlation"] if c["optimizer"] == "adam")
    assert shift0["pearson_g2_v_ci"][0] <= shift0["analytic_pearson_g2_v"] <= shift0["pearson_g2_v_ci"][1]


def test_script_and_cli_entry_points(tmp_path):
    script = subprocess.run([sys.executable, str(ROOT / "experiments" / "reddi_fig1.py"), "--quick", "--out", str(tmp_path / "s")],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert script.returncode == 0, script.stderr
    assert (tmp_path / "s" / "reddi-fig1.json").exists()
    listing = CliRunner().invoke(app, ["experiment"])
    assert all(name in listing.stdout for name in EXPERIMENTS)
    bad = CliRunner().invoke(app, ["experiment", "reddi-fig2"])
    assert bad.exit_code == 2
    assert "did you mean 'reddi-fig1'" in bad.stderr
    with pytest.raises(AdasimError):
        run_experiment("nope", tmp_path)


def claims_adopt_toy(results):
    numbers = results["adopt-toy"][0]
    for beta2 in (0.1, 0.5):
        for k in (10, 50):
            cell = numbers[f"k={k},beta2={beta2}"]
            assert cell["adam"]["median_final_x"] > 0.9  # Adam fails for small β2
            assert cell["adopt, no clip"]["median_final_x"] < 0  # ADOPT without the clip heads for x* = −1
    # the official clip (t−1)^(1/4) truncates the rare spikes early: at k = 50 it fails too (docs/REFERENCE.md §2)
    assert numbers["k=50,beta2=0.1"]["adopt"]["median_final_x"] > 0.9
    # the title says what the panels show, no more (it once said "ADOPT converges for every β2")
    title = " ".join(results["adopt-toy"][2]["adopt-toy"]._suptitle.get_text().split())  # wrapped to the figure's width
    for label in ("adam", "amsgrad", "adopt", "adopt, no clip"):
        reached = [key for key, cell in numbers.items() if key.startswith("k=") and cell[label]["median_final_x"] < -0.5]
        said = title.split(f"; {label} reaches x* in " if label != "adam" else f"{label} reaches x* in ")[1].split(";")[0]
        assert said == (
            "nowhere"
            if not reached
            else "every panel"
            if len(reached) == 6
            else ", ".join(k.replace("beta2", "β2").replace(",", " ") for k in reached)
        ), (label, said)


def claims_critical_c(results):
    numbers = results["critical-c"][0]
    seq = numbers["sequential"]["0.0"]
    assert seq == sorted(seq, reverse=True)  # larger β2: Adam survives smaller spikes only below a lower C
    assert seq[1] == pytest.approx(9.868, rel=1e-3)  # β2 = 0.1 (also the `adasim critical` test)
    assert all(c is not None and c > 1.0 for c in numbers["stochastic"]["0.0"])


def claims_zhang_heatmap(results):
    distance = results["zhang-heatmap"][0]["n=10"]["distance"]
    assert distance[0][0] == pytest.approx(2.0, abs=0.05)  # β2 = 0.5: Adam sits at the worst point
    assert distance[0][-1] < 1.5  # β2 close to 1: it leaves it


def claims_sign_methods(results):
    numbers = results["sign-methods"][0]
    skew = numbers["skewed-noise"]
    assert skew["signsgd"]["median_final_x"] > 0.5  # follows the median
    assert skew["sgd"]["median_final_x"] < 0
    assert skew["adam"]["median_final_x"] < 0
    for problem in numbers["closed_form"].values():
        intervals = dict(zip(problem["beta"], problem["drift_interval"], strict=True))
        for m in problem["measured"]:
            lo, hi = intervals[m["beta"]]  # every measured β is on the closed form's grid
            assert lo - 5 * m["stderr"] <= m["drift"] <= hi + 5 * m["stderr"]


def claims_block_scales(results):
    numbers = results["block-scales"][0]
    fig = results["block-scales"][2]["block-scales"]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    assert _texts_overlap(fig, renderer) == []
    for ax in fig.axes:  # its y labels, longer than the panels, ran into the titles (in the full run)
        assert ax.yaxis.label.get_window_extent(renderer).height <= ax.bbox.height
    assert fig.axes[1].get_shared_y_axes().joined(fig.axes[1], fig.axes[2])  # both show the median x_T
    closed = numbers["closed_form_pearson"]
    rows = numbers["C = 30, p = 0.05"]["results"]
    for name, expected in (("adam", closed["adam"]), ("adam-mini", closed["block of 8"]), ("adashift n=1, φ=mean", 0.0)):
        for lo, hi in rows[name]["pearson_g2_v_ci_per_layer"]:
            assert lo - 0.02 <= expected <= hi + 0.02, name
    assert min(rows["adam"]["median_final_x_per_layer"]) > 0.5  # Adam fails, dilution rescues Adam-mini
    assert max(rows["adam-mini"]["median_final_x_per_layer"]) < -0.5


def claims_shift_spikes(results):
    numbers = results["shift-spikes"][0]
    assert numbers["identity_beta2_0_max_abs_dx"] < 1e-12
    k2 = numbers["closed_form_drift"]["k=2"]
    by_n = {int(n): v for n, v in k2["adashift_by_n"].items()}
    assert k2["adopt_no_clip"] == pytest.approx(by_n[1], rel=1e-12)
    assert by_n[1] > 0 > by_n[2]  # two spikes in a row defeat n = 1 (and ADOPT), not n = 2
    for label in ("adopt, no clip", "adashift n=1"):
        kap = numbers["nuf_beta2_0.5"][label]
        np.testing.assert_allclose(kap["measured"], kap["closed"], rtol=1e-6)


def claims_batch_phase(results):
    numbers = results["batch-phase"][0]
    converged = [numbers[f"b={b}"]["cells_below_0"] for b in numbers["settings"]["batches"]]
    assert converged == sorted(converged)
    assert converged[-1] > converged[0]


def claims_staleness(results):
    """drift(k) = drift_Adam/k + (1 − 1/k)·drift_AdaShift(n=1): Adam drifts the wrong way (up),
    AdaShift n = 1 the right way, the crossing k* ≈ 4; each measured drift within 3 se + 0.01 of
    the mix, up at k = 1 and down at k = 8."""
    numbers = results["staleness"][0]
    assert numbers["adam"] > 0 > numbers["adashift_n1"]
    assert 3.0 < numbers["k_star"] < 5.0
    for k, row in numbers["by_k"].items():
        assert abs(row["measured"] - row["closed_form"]) < 3 * row["se"] + 0.01, k
    assert numbers["by_k"]["1"]["measured"] > 0 > numbers["by_k"]["8"]["measured"]


CLAIMS = {
    "adashift-stochastic": claims_adashift_stochastic,
    "reddi-fig1": claims_reddi_fig1,
    "shi-phase": claims_shi_phase,
    "nuf-correlation": claims_nuf_correlation,
    "adopt-toy": claims_adopt_toy,
    "critical-c": claims_critical_c,
    "zhang-heatmap": claims_zhang_heatmap,
    "sign-methods": claims_sign_methods,
    "block-scales": claims_block_scales,
    "shift-spikes": claims_shift_spikes,
    "batch-phase": claims_batch_phase,
    "staleness": claims_staleness,
}
