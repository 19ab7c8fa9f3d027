"""The explorer's real page in headless Chromium (Debian's, driven by Playwright): the β2 slider
moved across the critical value by keyboard flips the displayed drift's sign, the displayed net
update factors are the closed forms to the shown precision, no console errors, a screenshot that
is not blank; the same on a static export opened from file:// with the network off."""

import io
import json
import math
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image

from adasim.explorer.view import BY_NAME, parse_position, phase, view

pytestmark = pytest.mark.slow

OPTIMIZERS = "adam,amsgrad,adashift,adopt"


def shown(value: float) -> float:
    """A number as the page shows it: four significant digits."""
    return float(f"{value:.4g}")


class Page:
    """The explorer page in one tab, and what it shows."""

    def __init__(self, browser, url, context_options=None, viewport=(1280, 1000)):
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **(context_options or {}))
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.page.wait_for_selector("table.drift-table")
        self.page.wait_for_selector("p.critical")

    def drawn(self) -> dict[str, str]:
        return dict(parse_qsl(self.page.get_attribute("#app", "data-drawn")))

    def press(self, control: str, key: str, times: int = 1) -> None:
        """Keys on a control, then wait until the page has drawn the view they lead to."""
        self.page.focus(f"#adasim-{control}")
        for _ in range(times):
            self.page.keyboard.press(key)
        want = self.page.evaluate(f"window.adasimExplorer.current()[{control!r}]")
        self.page.wait_for_function(
            f"new URLSearchParams(document.getElementById('app').dataset.drawn).get({control!r}) === {json.dumps(want)}"
        )

    def type(self, control: str, text: str, want: str | None = None) -> None:
        """Type a value in a slider's field and press Enter; wait until the page has drawn `want`."""
        self.page.fill(f"#adasim-{control}-value", text)
        self.page.press(f"#adasim-{control}-value", "Enter")
        self.wait_drawn(control, text if want is None else want)

    def wait_drawn(self, control: str, want: str) -> None:
        self.page.wait_for_function(
            f"new URLSearchParams(document.getElementById('app').dataset.drawn).get({control!r}) === {json.dumps(want)}"
        )

    def drift(self, name: str) -> tuple[str, str]:
        row = f"table.drift-table tr[data-optimizer={name}]"
        return self.page.text_content(f"{row} td.drift"), self.page.text_content(f"{row} td.verdict")

    def factors(self, name: str) -> list[tuple[float, float]]:
        cells = self.page.eval_on_selector_all(
            f"table.nuf tr[data-optimizer={name}]",
            "rows => rows.map(r => [r.querySelector('.measured').textContent, r.querySelector('.closed').textContent])",
        )
        return [(float(m), float(c)) for m, c in cells]

    def close(self) -> None:
        assert self.errors == []
        assert self.page.evaluate("window.adasimErrors") == 0
        self.context.close()


def not_blank(png: bytes) -> bool:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return pixels.std() > 10


def check_crossing(tab, stops_up_to_critical, critical):
    """Below the critical β2 Adam drifts away from x*, above it toward x*; what the page shows
    for κ is the closed form to its four digits (and for Adam, β1 = 0, the measured one too)."""
    sign, verdict = tab.drift("adam")
    assert float(tab.drawn()["beta2"]) < critical
    assert sign.startswith("+")
    assert verdict == "away from x*"
    tab.press("beta2", "ArrowRight", stops_up_to_critical)
    drawn = tab.drawn()
    assert float(drawn["beta2"]) > critical
    sign, verdict = tab.drift("adam")
    assert sign.startswith("−")
    assert verdict == "toward x*"
    want = view(parse_position({**drawn, "optimizers": "adam"}))["optimizers"][0]
    assert float(sign.replace("−", "-")) == shown(want["drift"]["closed"])
    factors = tab.factors("adam")
    assert [c for _, c in factors] == [shown(r["closed"]) for r in want["nuf"]]
    assert [m for m, _ in factors] == [c for _, c in factors]  # measured = closed form at the shown precision


def test_the_live_page(browser, serving):
    with serving() as url:
        tab = Page(browser, url)
        critical = phase(parse_position({"optimizers": "adam"}))["optimizers"][0]["critical_beta2"]
        marker = tab.page.get_attribute(".markers .marker", "title")
        assert marker == f"critical β2 of adam: {shown(critical)}"
        start = BY_NAME["beta2"].stops.index(tab.drawn()["beta2"])
        after = next(i for i, s in enumerate(BY_NAME["beta2"].stops) if float(s) > critical)
        check_crossing(tab, after - start, critical)
        assert not_blank(tab.page.screenshot(full_page=True))

        # the command reproduces the view; the button copies it
        tab.context.grant_permissions(["clipboard-read", "clipboard-write"])
        tab.page.click("text=Copy command")
        command = tab.page.input_value("input.command")
        assert command.startswith("adasim run online --C 10")
        assert f"--beta2 {tab.drawn()['beta2']}" in command
        assert tab.page.evaluate("navigator.clipboard.readText()") == command

        # keyboard: Tab reaches every control; each has a label
        ids = tab.page.eval_on_selector_all(".controls input, .controls select", "xs => xs.map(x => x.id)")
        labelled = tab.page.eval_on_selector_all(".controls label[for]", "xs => xs.map(x => x.htmlFor)")
        assert set(ids) <= set(labelled)
        tab.page.focus("#adasim-family")
        reached = set()
        for _ in range(len(ids) + 5):
            reached.add(tab.page.evaluate("document.activeElement.id"))
            tab.page.keyboard.press("Tab")
        assert {"adasim-beta2", "adasim-C", "adasim-opt-adam"} <= reached

        # a bad request: the server's message in the page, no stack trace (the browser logs the 400 itself)
        assert tab.errors == []
        for name in OPTIMIZERS.split(","):
            tab.page.uncheck(f"#adasim-opt-{name}")
        tab.page.wait_for_function("document.querySelector('.error').textContent.length > 0")
        assert tab.page.text_content(".error") == "choose at least one optimizer"
        tab.page.check("#adasim-opt-adam")
        tab.page.wait_for_function("document.querySelector('.error').textContent === ''")
        assert tab.errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
        tab.errors.clear()

        # a projector and a phone
        small = tab.page.evaluate("parseFloat(getComputedStyle(document.getElementById('app')).fontSize)")
        tab.page.click("text=Large type")
        large = tab.page.evaluate("parseFloat(getComputedStyle(document.getElementById('app')).fontSize)")
        assert large >= 1.4 * small
        tab.page.set_viewport_size({"width": 390, "height": 800})
        tab.page.wait_for_timeout(200)
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= 392
        tab.close()


def test_two_tabs_keep_their_own_views(browser, serving):
    with serving() as url:
        one, two = Page(browser, url), Page(browser, url + "#C=3")
        one.press("beta2", "ArrowRight", 3)
        two.press("beta1", "ArrowRight", 2)
        assert one.drawn()["C"] == "10"
        assert two.drawn()["C"] == "3"
        assert two.drawn()["beta1"] == "0.02"
        assert one.drawn()["beta1"] == "0"
        for tab in (one, two):
            want = view(parse_position({**tab.drawn(), "optimizers": "adam"}))["optimizers"][0]["drift"]["closed"]
            assert float(tab.drift("adam")[0].replace("−", "-")) == shown(want)
            tab.close()


def test_the_static_export_offline_from_file(browser, tmp_path):
    from adasim.explorer.export import export, plan

    beta2 = ("0.0099", "0.03", "0.06", "0.09", "0.12", "0.2")
    done = export(tmp_path, plan({"C": ("10",), "beta1": ("0",), "beta2": beta2}, OPTIMIZERS.split(",")))
    assert done.views == 6
    assert done.bytes < 200_000
    requests = []
    tab = Page(browser, done.path.as_uri(), {"offline": True})
    tab.page.on("request", lambda r: requests.append(r.url))
    assert "static export: 6 precomputed views" in tab.page.text_content(".mode")
    critical = phase(parse_position({"optimizers": "adam"}))["optimizers"][0]["critical_beta2"]
    assert tab.drawn()["beta2"] == "0.0099"
    check_crossing(tab, sum(float(b) < critical for b in beta2), critical)
    assert not_blank(tab.page.screenshot(full_page=True))
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert not math.isnan(float(tab.page.get_attribute("#app", "data-redraw-ms")))
    tab.close()


def test_an_optimizer_without_factors_is_drawn_and_its_factor_panel_says_so(browser, serving):
    """Issue: choosing Lion beside Adam made the server answer 400 and Adam's plot vanish. Now
    Lion's x_t is drawn and its row of the factor table says "no closed form"; ε = 0 from the
    menu draws Adam, AMSGrad and AdaShift and says why ADOPT is not drawn."""
    with serving() as url:
        tab = Page(browser, url + "#optimizers=adam,lion")
        assert tab.page.text_content(".error") == ""
        for name in ("adam", "lion"):
            assert tab.page.query_selector(f"path.line[data-optimizer={name}]") is not None
        assert tab.drift("lion")[1] == "no closed form"
        assert tab.drift("adam")[1] == "away from x*"
        cell = tab.page.text_content("table.nuf tr[data-optimizer=lion] td.no-closed-form")
        assert cell.startswith("no closed form")
        assert "not a sum of its gradients times factors" in tab.page.text_content("p.no-closed-form[data-optimizer=lion]")
        assert len(tab.factors("adam")) == 3
        tab.close()

        tab = Page(browser, url + "#eps=0")
        assert tab.page.text_content(".error") == ""
        assert "adopt: eps must lie in (0, inf)" in tab.page.text_content("p.trouble")
        for name in ("adam", "amsgrad", "adashift"):
            assert tab.page.query_selector(f"path.line[data-optimizer={name}]") is not None
        tab.close()


# -- a user's reading of the page (issue #32) ---------------------------------------------------------
SIX = "adam,amsgrad,adashift,adopt,cautious-adam,adabelief"
# where each table's last column ends, beside its scroll box, the page's main column and the viewport
TABLES = """() => [...document.querySelectorAll('table.nuf, table.drift-table')].map(t => {
  const head = t.rows[0].cells, last = head[head.length - 1].getBoundingClientRect(), box = t.closest('.scroll') || t;
  const wrap = box.parentElement, cue = wrap.querySelector('.scroll-cue');
  return {table: t.className, last: last.right, box: box.getBoundingClientRect().right, main: document.querySelector('main').getBoundingClientRect().right,
          viewport: document.documentElement.clientWidth, overflowing: wrap.classList.contains('overflowing') && box.scrollWidth > box.clientWidth,
          cue: cue !== null && cue.offsetHeight > 0}; })"""


def whole(table: dict) -> bool:
    """Every column of the table in sight: its last column ends inside its box, the page's main column and the viewport."""
    return table["last"] <= min(table["box"], table["main"], table["viewport"]) + 0.5 and not table["overflowing"]


def test_the_factor_and_drift_tables_are_whole_at_1280_px(browser, serving):
    """Issue #32: at a 1 280 px-wide viewport the κ table's last column was cut off."""
    with serving() as url:
        for optimizers in (OPTIMIZERS, SIX):
            tab = Page(browser, f"{url}#optimizers={optimizers}", viewport=(1280, 800))
            tables = tab.page.evaluate(TABLES)
            assert {t["table"] for t in tables} == {"nuf", "drift-table"}
            assert all(whole(t) for t in tables), tables
            assert not any(t["cue"] for t in tables)
            assert tab.page.evaluate("document.documentElement.scrollWidth") <= 1280
            tab.close()


def test_a_phone_needs_no_sideways_swipe_and_a_table_too_wide_says_it_scrolls(browser, serving):
    """Issue #32: at 390 × 844 two columns of the tables needed an unannounced sideways swipe.
    One column (the settings above the figures), tables that fit; in Large type, a table that no
    longer fits scrolls inside its own box and shows the cue, and the page itself never scrolls sideways."""
    with serving() as url:
        tab = Page(browser, url, viewport=(390, 844))
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= 390
        controls = tab.page.eval_on_selector(".controls", "e => e.getBoundingClientRect().bottom")
        assert tab.page.eval_on_selector("main", "e => e.getBoundingClientRect().top") >= controls
        tables = tab.page.evaluate(TABLES)
        assert len(tables) == 2
        assert all(whole(t) for t in tables), tables
        tab.page.click("text=Large type")
        tab.page.wait_for_function("document.querySelector('.table-box.overflowing') !== null")
        tables = tab.page.evaluate(TABLES)
        assert any(t["overflowing"] for t in tables)
        assert all(whole(t) or (t["overflowing"] and t["cue"] and t["box"] <= t["viewport"]) for t in tables), tables
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= 390
        tab.close()


def test_the_toggles_say_their_limit_and_refuse_a_seventh(browser, serving):
    """Issue #32: 6 of the toggles may be on at once, and the user learnt it only after the 7th."""
    with serving() as url:
        tab = Page(browser, url)
        assert tab.page.text_content(".optimizers legend") == "optimizers: pick up to 6 (4 chosen)"
        boxes = "xs => xs.filter(x => x.disabled).map(x => x.value)"
        assert tab.page.eval_on_selector_all(".optimizers input", boxes) == []
        tab.page.check("#adasim-opt-lion")
        tab.page.check("#adasim-opt-yogi")
        tab.wait_drawn("optimizers", f"{OPTIMIZERS},lion,yogi")
        assert tab.page.text_content(".optimizers legend") == "optimizers: pick up to 6 (6 chosen)"
        every = tab.page.eval_on_selector_all(".optimizers input", "xs => xs.map(x => x.value)")
        chosen = {*OPTIMIZERS.split(","), "lion", "yogi"}
        assert set(tab.page.eval_on_selector_all(".optimizers input", boxes)) == set(every) - chosen
        assert (
            tab.page.get_attribute("label[for=adasim-opt-sgd]", "title")
            == "at most 6 optimizers at once: untick one to choose sgd"
        )
        assert tab.page.get_attribute("#adasim-opt-sgd", "title") == "at most 6 optimizers at once: untick one to choose sgd"
        assert tab.page.get_attribute("label[for=adasim-opt-lion]", "title") is None
        assert tab.page.text_content(".error") == ""
        tab.page.uncheck("#adasim-opt-yogi")
        tab.wait_drawn("optimizers", f"{OPTIMIZERS},lion")
        assert tab.page.eval_on_selector_all(".optimizers input", boxes) == []
        assert tab.page.get_attribute("label[for=adasim-opt-sgd]", "title") is None
        tab.close()


def test_every_optimizer_is_drawn_in_its_own_colour_and_dash(browser, serving):
    """Issue #32: about 10 colours for 24 optimizers (lion, yogi and sf-adamw shared one)."""
    from adasim.explorer.style import styles

    with serving() as url:
        tab = Page(browser, url + "#optimizers=adam,lion,yogi,sf-adamw,nadam")
        keys = tab.page.eval_on_selector_all(
            ".optimizers label",
            "ls => ls.map(l => [l.textContent, l.querySelector('.swatch').dataset.color, l.querySelector('.swatch').dataset.dash])",
        )
        assert len(keys) >= 24
        assert len({(color, dash) for _, color, dash in keys}) == len(keys)
        want = styles()
        assert all((color, dash) == (want[n].color, " ".join(f"{v:g}" for v in want[n].dash)) for n, color, dash in keys)
        lines = tab.page.eval_on_selector_all(
            "path.line",
            "ps => ps.map(p => [p.dataset.optimizer, p.getAttribute('stroke'), p.getAttribute('stroke-dasharray'), +p.getAttribute('stroke-width')])",
        )
        assert sorted(n for n, *_ in lines) == ["adam", "lion", "nadam", "sf-adamw", "yogi"]
        drawn = {n: (color, tuple(round(float(v) / width, 2) for v in (dash or "").split())) for n, color, dash, width in lines}
        assert drawn == {n: (want[n].color, want[n].dash) for n in drawn}  # the dash in line widths, as matplotlib's
        assert len(set(drawn.values())) == 5
        markers = dict(
            tab.page.eval_on_selector_all("g[data-marker]", "gs => gs.map(g => [g.dataset.optimizer, g.dataset.marker])")
        )
        assert markers == {n: want[n].marker for n in markers}
        tab.close()


def test_a_link_carries_and_shows_the_exact_value(browser, serving):
    """Issue #32: a link with β2 = 0.3 showed 0.298 and simulated 0.298 (the slider's nearest stop)."""
    with serving() as url:
        tab = Page(browser, url + "#beta2=0.3&optimizers=adam")
        assert tab.drawn()["beta2"] == "0.3"
        assert tab.page.input_value("#adasim-beta2-value") == "0.3"
        assert tab.page.evaluate("window.adasimExplorer.view.position.beta2") == "0.3"
        assert " --beta2 0.3 " in tab.page.input_value("input.command") + " "
        want = view(parse_position({"beta2": "0.3", "optimizers": "adam"}))["optimizers"][0]["drift"]["closed"]
        assert float(tab.drift("adam")[0].replace("−", "-")) == shown(want)
        # the slider holds 0.3 among its stops: a step to each side and back returns to it
        tab.press("beta2", "ArrowRight")
        tab.press("beta2", "ArrowLeft")
        assert tab.drawn()["beta2"] == "0.3"
        # a value that is no number is refused where it was typed, and nothing is asked of the server
        drawn = tab.page.get_attribute("#app", "data-drawn")
        tab.page.fill("#adasim-C-value", "ten")
        tab.page.press("#adasim-C-value", "Enter")
        tab.page.wait_for_function("document.querySelector('.error').textContent.length > 0")
        assert tab.page.text_content(".error") == 'C must be a number, got "ten"'
        assert tab.page.get_attribute("#adasim-C-value", "aria-invalid") == "true"
        assert tab.page.get_attribute("#app", "data-drawn") == drawn
        tab.close()
        # a link's value that is no number: the default, and the page says so
        tab = Page(browser, url + "#beta2=abc&optimizers=adam")
        assert tab.drawn()["beta2"] == "0.0099"
        assert tab.page.text_content("p.snapped") == "not a number, shown at the default: β2 = abc → 0.0099"
        tab.close()


def test_a_link_reproduces_every_setting_exactly(browser, serving):
    """Set every control (typed values off the sliders' stops among them), take the page's link,
    open it in a new tab: the same settings, the same view."""
    with serving() as url:
        tab = Page(browser, url)
        tab.type("C", "7.25")
        tab.type("beta2", "0.3")
        tab.type("lr", "0.123")
        tab.press("d", "ArrowRight", 2)
        tab.press("k", "ArrowRight")
        tab.press("beta1", "ArrowRight", 3)
        tab.press("n", "ArrowRight")
        tab.page.select_option("#adasim-schedule", "constant")
        tab.wait_drawn("schedule", "constant")
        tab.page.select_option("#adasim-eps", "1e-08")
        tab.wait_drawn("eps", "1e-08")
        tab.page.uncheck("#adasim-opt-adopt")
        tab.page.check("#adasim-opt-lion")
        tab.wait_drawn("optimizers", "adam,amsgrad,adashift,lion")
        settings = tab.page.evaluate("window.adasimExplorer.current()")
        assert settings == {
            **tab.drawn(),
            "C": "7.25",
            "beta2": "0.3",
            "lr": "0.123",
            "d": "5",
            "k": "2",
            "beta1": "0.03",
            "n": "2",
        }
        link = tab.page.url
        again = Page(browser, link)
        assert again.page.evaluate("window.adasimExplorer.current()") == settings
        assert again.drawn() == tab.drawn()
        assert again.page.input_value("input.command") == tab.page.input_value("input.command")
        for name in ("adam", "lion"):
            assert again.drift(name) == tab.drift(name)
        for control in ("C", "beta2", "lr"):
            assert again.page.input_value(f"#adasim-{control}-value") == settings[control]
        again.close()
        tab.close()


def test_a_static_export_says_when_a_link_is_off_its_grid(browser, tmp_path):
    """A static export's sliders hold its grid only: a link's value off the grid is shown at the
    nearest value of the grid, and the page says so."""
    from adasim.explorer.export import export, plan

    done = export(tmp_path, plan({"C": ("10",), "beta1": ("0",), "beta2": ("0.0099", "0.06", "0.2")}, ["adam"]))
    tab = Page(browser, done.path.as_uri() + "#beta2=0.05", {"offline": True})
    assert tab.drawn()["beta2"] == "0.06"
    assert tab.page.text_content("p.snapped") == "not on this export's grid, shown at the nearest value: β2 = 0.05 → 0.06"
    assert tab.page.get_attribute("#adasim-beta2-value", "readonly") is not None
    tab.close()
