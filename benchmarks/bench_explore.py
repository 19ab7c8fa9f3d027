"""How long one change in `adasim explore` takes from the request to the drawn update, at 10^4
steps × 4 optimizers, against baselines measured in the same run: the view computed in this
process (no server, no browser) and the matplotlib `adasim demo`'s move.

    python benchmarks/bench_explore.py [--steps 10000] [--moves 30]

Drives the real page in headless Chromium (Debian's `chromium`, through Playwright: extra
`adasim[browser]`) served by the real server (extra `adasim[explore]`) on 127.0.0.1. A move is a
key press on the β2 slider (the (β1, β2) map and the critical β2 are cached: they depend on
neither β2 nor α) or on the C slider (they are computed again, in a second request that follows
the drawn update). The page stamps each drawn update with the time since the key's input event.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from adasim.explorer.server import in_thread
from adasim.explorer.view import parse_position, phase, view


def moves(page, control: str, key: str, n: int) -> list[float]:
    """n presses of `key` on a control, each waited for; the page's request→drawn times (ms)."""
    out = []
    for _ in range(n):
        views = int(page.get_attribute("#app", "data-views"))
        page.focus(f"#adasim-{control}")
        page.keyboard.press(key)
        page.wait_for_function(f"Number(document.getElementById('app').dataset.views) > {views}")
        out.append(float(page.get_attribute("#app", "data-redraw-ms")))
        page.wait_for_selector("p.critical")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--moves", type=int, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    start = parse_position({}, steps=args.steps)
    view(start), phase(start)  # compile and warm, as `adasim explore` does before it serves

    in_process = []
    for i in range(args.moves):
        p = parse_position({"beta2": f"{0.01 + 0.001 * i:.4g}"}, steps=args.steps)
        began = time.perf_counter()
        view(p)
        in_process.append(1000 * (time.perf_counter() - began))

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from adasim.demos.explorer import Explorer

    fig = Figure(figsize=(13, 8))
    canvas = FigureCanvasAgg(fig)
    demo = Explorer(fig, steps=args.steps)
    canvas.draw()
    pending = []
    canvas.draw_idle = lambda *a, **k: pending.append(1)  # a GUI renders once per event (as bench_demo.py)
    demo_times = []
    for i in range(min(args.moves, 10)):
        began = time.perf_counter()
        demo.sliders["beta2"].set_val(0.01 + 0.01 * i)
        if pending:
            canvas.draw()
            pending.clear()
        demo_times.append(1000 * (time.perf_counter() - began))

    with in_thread(steps=args.steps) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium") or "chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        page.wait_for_selector("p.critical")
        beta2 = moves(page, "beta2", "ArrowRight", args.moves)
        C = moves(page, "C", "ArrowRight", max(args.moves // 3, 3))
        browser.close()

    med = statistics.median
    base = med(in_process)
    print(f"steps per view: {args.steps:,}, optimizers: 4, moves: {args.moves} (β2) and {max(args.moves // 3, 3)} (C)")
    print(f"  view computed in-process (baseline):        median {base:6.1f} ms")
    print(f"  browser, β2 key → drawn update:              median {med(beta2):6.1f} ms  max {max(beta2):6.1f}  "
          f"({med(beta2) / base:4.2f}x the in-process view, {med(beta2) / 100:4.2f}x the 100 ms budget)")  # fmt: skip
    print(f"  browser, C key → drawn update:               median {med(C):6.1f} ms  max {max(C):6.1f}  "
          f"({med(C) / base:4.2f}x, {med(C) / 100:4.2f}x the budget; the map follows in its own request)")  # fmt: skip
    print(f"  matplotlib `adasim demo` move (Agg render): median {med(demo_times):6.1f} ms  "
          f"(the browser's β2 move is {med(beta2) / med(demo_times):4.2f}x of it)")  # fmt: skip


if __name__ == "__main__":
    main()
