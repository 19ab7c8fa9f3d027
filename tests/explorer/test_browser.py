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

    def __init__(self, browser, url, context_options=None):
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000}, **(context_options or {}))
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
