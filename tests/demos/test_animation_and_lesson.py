"""Animations (GIF without system tools, MP4 only with ffmpeg) and the lesson page, rendered in
headless Chromium (Debian's package, which .ci/run installs; the `chromium` fixture is in conftest.py)."""

import os
import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from helpers import made_once
from PIL import Image

from adasim import AdasimError, Online, Schedule, make_optimizer
from adasim.demos.animation import build_animation, check_target, save_animation
from adasim.demos.lesson import write_lesson


def test_gif_animation(tmp_path):
    opt = make_optimizer("adam", beta1=0.0, beta2=1 / 101, lr=0.5, schedule=Schedule("inv-sqrt"))
    anim = build_animation(Online(C=10.0), opt, 60, frames=5, window=20)
    path = save_animation(anim, tmp_path / "run.gif")
    with Image.open(path) as im:
        assert im.n_frames == 5
    assert sorted(os.listdir(tmp_path)) == ["run.gif"]


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")  # its figure is inspected, not saved
def test_the_animation_names_its_optimizer_and_explains_its_bars():
    opt = make_optimizer("adashift", n=1, beta1=0.0, beta2=1 / 101, lr=0.5, schedule=Schedule("inv-sqrt"))
    anim = build_animation(Online(C=10.0), opt, 60, frames=3, window=20, title="online C = 10")
    ax_x, ax_c = anim._fig.axes
    assert ax_x.get_title().startswith("adashift: ")
    assert " ".join(ax_x.get_title().split()).endswith("online C = 10")
    assert "each bar" in ax_c.get_title()
    (key,) = _keys_and_texts(anim._fig)[0]
    assert [t.get_text() for t in key.get_texts()] == ["x* = -1", "moves x up", "moves x down"]


def _keys_and_texts(fig):
    """Every legend of the figure (its own, its subfigures', its axes') and every free text (not a
    title, axis label or tick label)."""
    from matplotlib.legend import Legend

    legends = fig.findobj(match=Legend)
    texts = [t for holder in (fig, *fig.subfigs, *fig.axes) for t in holder.texts]
    return legends, texts


def _covered_data(box, fig, renderer) -> list[str]:
    """What of the axes' bars and lines (x_t, its dot, x*, the zero line) lies under `box` (display pixels)."""
    from matplotlib.transforms import Bbox

    covered = []
    for ax in fig.axes:
        region = Bbox.intersection(box, ax.bbox)  # data outside its axes is clipped away: not drawn
        if region is None or region.width <= 1 or region.height <= 1:
            continue
        covered += [f"bar at s = {bar.get_x():g}" for bar in ax.patches if bar.get_window_extent(renderer).overlaps(region)]
        for line in ax.lines:
            path = line.get_transform().transform_path(line.get_path())
            (x0, y0), (x1, y1) = region.get_points()
            x, y = path.vertices.T
            inside = (x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1)  # a marker's lone point too
            if inside.any() or (len(x) > 1 and path.intersects_bbox(region, filled=False)):
                covered.append(f"line {line.get_label()!r}")
    return covered


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")  # its figure is inspected, not saved
def test_the_animation_s_key_and_running_sum_cover_no_bar_or_line():
    """The bars' legend and the running sum were drawn inside the bars' axes, over the bars (and
    x*'s legend inside x_t's): on a few frames, no legend or text box overlaps a bar or a line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    opt = make_optimizer("adam", beta1=0.0, beta2=1 / 101, lr=0.5, schedule=Schedule("inv-sqrt"))
    anim = build_animation(Online(C=10.0), opt, 120, frames=6, window=40, title="online C = 10")
    fig = anim._fig
    canvas = FigureCanvasAgg(fig)
    for i in (0, 3, 5):
        anim._func(i)
        canvas.draw()
        renderer = canvas.get_renderer()
        assert [len(ax.patches) for ax in fig.axes][1] > 0  # the bars are drawn
        legends, texts = _keys_and_texts(fig)
        assert any("moves x up" in [t.get_text() for t in key.get_texts()] for key in legends)
        assert any(t.get_text().startswith("sum of contributions so far") for t in texts)
        for artist in (*legends, *texts):
            box = artist.get_window_extent(renderer)
            assert _covered_data(box, fig, renderer) == [], (i, artist)
            assert fig.bbox.x0 <= box.x0  # inside the figure: not cut off
            assert box.x1 <= fig.bbox.x1
            assert fig.bbox.y0 <= box.y0
            assert box.y1 <= fig.bbox.y1


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")  # its figure is drawn, not its frames
def test_the_animation_title_fits_inside_the_figure():
    """`adasim animate`'s title names the run's settings: a long line was cut off at both sides."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    opt = make_optimizer("adam", beta1=0.0, beta2=1 / 101, lr=0.5, schedule=Schedule("inv-sqrt"))
    settings = "reddi-thm1: C=10, s=1, d=3, k=1, domain [-1, 1]; α_t = 0.5/√t; T = 300, seed 0"  # describe(...) of the default
    anim = build_animation(Online(C=10.0), opt, 60, frames=3, window=20, title=settings)
    fig = anim._fig
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax_x = fig.axes[0]
    box = ax_x.title.get_window_extent(canvas.get_renderer())
    assert fig.bbox.x0 <= box.x0  # the line ran past both sides of the 800 px figure
    assert box.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= box.y0
    assert box.y1 <= fig.bbox.y1
    assert " ".join(ax_x.title.get_text().split()).endswith(settings)  # wrapped, not shortened
    assert ax_x.get_xlabel() == "step t"


def test_animation_targets():
    with pytest.raises(AdasimError, match=r"\.gif or \.mp4"):
        check_target("out.avi")
    with pytest.raises(AdasimError, match="cannot write"):
        check_target("/nonexistent-folder/x.gif")
    if shutil.which("ffmpeg") is None:
        with pytest.raises(AdasimError, match="ffmpeg"):
            check_target("out.mp4")


@pytest.fixture(scope="session")
def lesson(tmp_path_factory):
    """The lesson written once for this module's tests, whichever pytest-xdist worker runs them
    (3 000 steps): its folder, page and numbers."""
    import json

    def make(out):
        told = []
        write_lesson(out, steps=3000, progress=lambda done, total: told.append([done, total]))
        (out / ".progress").write_text(json.dumps(told))  # what the bar was told, for the test below

    folder = made_once(tmp_path_factory, "lesson", make)
    return folder, (folder / "lesson.html").read_text(), json.loads((folder / "lesson.json").read_text())


def test_the_lesson_ticks_per_section_and_view_up_to_its_total_and_writes_the_files_it_names(lesson):
    """`adasim lesson` showed the compile spinner, then 14 s of silence: the lesson now tells its
    progress per section and per view of its explorer pages; lesson_files() names what it writes."""
    import json

    from adasim.demos.lesson import EXPLORED, SECTIONS, lesson_files

    folder = lesson[0]
    told = json.loads((folder / ".progress").read_text())
    done = [d for d, _ in told]
    total = told[-1][1]
    assert done == list(range(1, total + 1))  # one tick per unit, none skipped or repeated
    assert {t for _, t in told} == {total}  # the total is known from the first tick
    assert total == SECTIONS + sum(1 + len(b) for b in EXPLORED.values())
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(lesson_files())
    assert len(lesson_files()) == 5


def test_lesson_numbers_tell_the_story(lesson):
    _, page, numbers = lesson
    assert numbers["theorem1"]["adam"]["verdict"] == "worst point"
    assert numbers["adam_factors"]["drift"] > 0 > numbers["adashift_factors"]["drift"]
    assert 0.63 < numbers["shi_critical_beta2"] < 0.64
    assert "http://" not in page
    assert "https://" not in page
    assert page.count("data:image/png;base64,") == 4


CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.slow
def test_lesson_renders_in_headless_chromium(chromium, tmp_path, lesson):
    url = (lesson[0] / "lesson.html").resolve().as_uri()
    profile = tempfile.mkdtemp()
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [chromium, *CHROME_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--window-size=1100,2000", f"--screenshot={shot}", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert shot.exists(), result.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10  # not a blank page
    console_errors = [
        line for line in result.stderr.splitlines() if "CONSOLE" in line and ("Error" in line or "Uncaught" in line)
    ]
    assert console_errors == []
    dom = subprocess.run(
        [chromium, *CHROME_FLAGS, f"--user-data-dir={tempfile.mkdtemp()}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False,
    ).stdout  # fmt: skip
    check = re.search(r'id="self-check" data-images="(\d+)" data-images-ok="(\d+)" data-errors="(\d+)"', dom)
    assert check, dom[-500:]
    images, ok, errors = (int(v) for v in check.groups())
    assert images == ok == 4
    assert errors == 0


def test_every_reproduce_command_of_the_lesson_gives_its_numbers(lesson):
    """Each figure's caption names the command with that figure's own steps and seeds: run, it
    prints the numbers the page shows (the newcomer issue: they used to differ)."""
    import json
    import shlex

    from typer.testing import CliRunner

    from adasim.cli.app import app

    _, page, numbers = lesson
    commands = numbers["commands"]
    for command in commands.values():
        assert command in page.replace("&#x27;", "'")

    def run(name):
        args = [*shlex.split(commands[name])[1:], "--json"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    ends = {r["optimizer"]: r["final_x"] for r in run("theorem1")["results"]}
    assert ends == {k: v["final_x"] for k, v in numbers["theorem1"].items()}
    nuf = {r["optimizer"]: [row["empirical"] for row in r["nuf"]] for r in run("nuf")["results"]}
    assert nuf == numbers["nuf_measured"]
    corr = [(r["optimizer"], r["shift"], r["pearson_g2_v"]) for r in run("correlation")["results"]]
    assert corr == [(c["optimizer"], c["shift"], c["pearson_g2_v"]) for c in numbers["correlation"]]
    assert run("critical")["critical"] == numbers["shi_critical_beta2"]


@pytest.mark.slow
def test_the_lesson_links_each_figure_to_its_explorer_view(lesson):
    """Each figure's caption links a static explorer page beside the lesson, opened at that
    figure's settings (checked equal by position_of), whose β2 slider crosses the critical value."""
    import json
    from urllib.parse import parse_qsl, unquote

    from adasim.explorer.view import parse_position, view

    folder, page, _ = lesson
    links = sorted(set(re.findall(r'href="(explore-[a-z0-9]+\.html)#([^"]+)"', page)))
    assert [name for name, _ in links] == ["explore-correlation.html", "explore-critical.html", "explore-theorem1.html"]
    for name, fragment in links:
        query = dict(parse_qsl(unquote(fragment.replace("&amp;", "&"))))
        exported = (folder / name).read_text()
        assert "https://" not in exported
        data = json.loads(re.search(r'id="adasim-data">(.*?)</script>', exported, re.S).group(1))
        key = "&".join(f"{k}={query[k]}" for k in data["keys"])
        assert data["views"][key] == json.loads(json.dumps(view(parse_position(query))))
    theorem1 = dict(parse_qsl(unquote(links[2][1].replace("&amp;", "&"))))
    assert float(theorem1["beta2"]) == 1 / 101
    assert theorem1["C"] == "10"
