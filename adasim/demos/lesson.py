"""`adasim lesson`: a self-contained HTML page (figures embedded, no network) that walks a
student through the argument, with every figure and number computed live by adasim and the
command that reproduces it."""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from matplotlib.figure import Figure

from adasim import __version__
from adasim.analysis.drift import critical_value
from adasim.analysis.periodic import periodic_nuf
from adasim.analysis.report import correlation_report, nuf_report, per_shift
from adasim.analysis.stationary import stationary_nuf
from adasim.explorer.export import export, plan
from adasim.explorer.view import STEPS, Position, position_of
from adasim.io import atomic_file, write_record
from adasim.optimizers import make_optimizer
from adasim.plots.nuf import figure_correlation, figure_drift, figure_nuf
from adasim.plots.run import figure_run
from adasim.problems.online import Online
from adasim.problems.stochastic import Stochastic
from adasim.settings import RunSettings, number_text
from adasim.spec import build_spec

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; line-height: 1.5; color: #222; }
h1 { font-size: 1.7em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
code, pre { background: #f5f5f5; padding: 0.1em 0.3em; border-radius: 3px; }
pre { padding: 0.6em; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
.note { background: #fff8e1; padding: 0.6em 1em; border-left: 4px solid #f0b400; }
#self-check { color: #777; font-size: 0.85em; }
"""

# counts the images that loaded and the script errors, so a reader (or a test) can see the page is whole
CHECK = """
<script>
window.adasimErrors = 0;
window.addEventListener('error', function () { window.adasimErrors += 1; }, true);
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var el = document.getElementById('self-check');
  el.setAttribute('data-images', imgs.length);
  el.setAttribute('data-images-ok', ok);
  el.setAttribute('data-errors', window.adasimErrors);
  el.textContent = 'self-check: ' + ok + ' of ' + imgs.length + ' figures loaded, ' + window.adasimErrors + ' errors.';
});
</script>
"""


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


# each figure's page of the explorer (a static export next to the lesson): the β2 values its
# slider offers besides the figure's own, chosen to cross the figure's critical β2
EXPLORED = {
    "theorem1": (0.03, 0.06, 0.09, 0.1, 0.12, 0.2, 0.5),
    "correlation": (0.5, 0.99),
    "critical": (0.5, 0.55, 0.62, 0.63, 0.64, 0.66, 0.7, 0.8),
}


SECTIONS = 5  # the lesson's sections, each a unit of its progress


def explorer_page(figure: str) -> str:
    return f"explore-{figure}.html"


def lesson_files() -> list[str]:
    """The files write_lesson writes, in order: the page, each figure's explorer page, the numbers."""
    return ["lesson.html", *(explorer_page(figure) for figure in EXPLORED), "lesson.json"]


def _views(figure: str) -> int:
    """Views of a figure's explorer page: its own β2 and the slider's others (at most)."""
    return 1 + len(EXPLORED[figure])


def _link(figure: str, position: Position | None) -> str:
    if position is None:
        return ""
    where = html.escape(explorer_page(figure) + "#" + urlencode(position.query()))
    return f' <a href="{where}">Explore it</a> (β2 slider, {position.steps:,} steps).'


def _figure(fig: Figure, caption: str, command: str, explore: str = "") -> str:
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{_png(fig)}">'
        f"<figcaption>{html.escape(caption)} Reproduce: <code>{html.escape(command)}</code>{explore}</figcaption></figure>"
    )


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return html.escape(f"{v:.4g}" if isinstance(v, float) else str(v))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def build_lesson(steps: int = 100_000, progress: Callable[[int, int], None] | None = None) -> tuple[str, dict[str, Any]]:
    """The page and the numbers it shows; `progress(done, total)` is told of each of the SECTIONS
    sections as it is done."""
    numbers: dict[str, Any] = {}
    parts: list[str] = []

    def done() -> None:
        if progress is not None:
            progress(len(parts), SECTIONS)

    spec = build_spec("reddi-thm1", run=RunSettings(steps=steps))
    runs = spec.run()
    ends = {r.optimizer.name: r.summary() for r in runs}
    numbers["theorem1"] = {k: {"final_x": v["final_x"], "verdict": v["verdict"]} for k, v in ends.items()}
    commands = numbers["commands"] = {"theorem1": spec.command()}  # each figure's own settings, spelled out
    explored = {"theorem1": position_of(spec)}  # each figure's view in the explorer (numbers["explorer"])
    parts.append(
        "<h2>1. A convex problem where Adam goes the wrong way</h2>"
        "<p>Reddi, Kale &amp; Kumar (ICLR 2018, Theorem 1) take the linear losses f<sub>t</sub>(x) = g<sub>t</sub>·x on "
        "[−1, 1] with the gradient sequence 10, −1, −1, 10, −1, −1, … The average gradient is 8/3 &gt; 0, so the best "
        "point is x* = −1. With β1 = 0 and β2 = 1/(1+C²) = 1/101, and α<sub>t</sub> = 0.5/√t:</p>"
        + _table(["optimizer", "final x", "verdict"], [[k, v["final_x"], v["verdict"]] for k, v in ends.items()])
        + _figure(
            figure_run(runs, "Reddi et al. Theorem 1, C = 10"),
            "Adam climbs to the worst point +1; the others reach −1.",
            commands["theorem1"],
            _link("theorem1", explored["theorem1"]),
        )
    )
    done()

    problem = Online(C=10.0, d=3, k=1)
    adam = make_optimizer("adam", beta1=0.0, beta2=1 / 101, eps=0.0)
    closed = periodic_nuf(problem, adam)
    numbers["adam_factors"] = {"kappa": closed.kappa.tolist(), "drift": closed.drift}
    nuf_spec = build_spec("reddi-thm1", run=RunSettings(steps=min(steps, 30_000)))
    report = nuf_report(nuf_spec)
    numbers["nuf_measured"] = {r.optimizer.name: [g.mean for g in r.empirical.groups] for r in report.results}
    commands["nuf"] = nuf_spec.command("nuf")
    parts.append(
        "<h2>2. Net update factors</h2>"
        "<p>Every gradient g<sub>s</sub> moves x by k<sub>s</sub>·g<sub>s</sub> over the whole run: k<sub>s</sub>, its "
        "<em>net update factor</em>, is its accumulated step size. Adam divides g<sub>t</sub> by √v<sub>t</sub>, and "
        "v<sub>t</sub> contains (1−β2)·g<sub>t</sub>²: the big gradient divides itself. In units of α:</p>"
        + _table(
            ["phase", "gradient", "κ (closed form)", "κ × gradient"],
            [[j, c, k, c * k] for j, (c, k) in enumerate(zip(closed.c, closed.kappa, strict=True))],
        )
        + f"<p>The spike 10 moves x down by only {10 * closed.kappa[0]:.3f}·α, while the two −1 gradients move it up by "
        f"{closed.kappa[1] + closed.kappa[2]:.3f}·α: a net drift of {closed.drift:+.4f}·α per step, upwards, away from x* = −1.</p>"
        + _figure(
            figure_nuf(report, "net update factors, Reddi Theorem 1"),
            "Measured factors (bars) and closed forms (◇) per phase.",
            commands["nuf"],
            _link("theorem1", explored["theorem1"]),
        )
    )
    done()

    iid = Stochastic(C=10.0, s=1.0, p=0.2)
    corr_spec = build_spec(
        "stochastic", problem={"C": 10.0, "p": 0.2}, optimizers=["adam", "adashift", "adopt"], hyper={"beta2": 0.9}, run=RunSettings(steps=min(steps, 50_000), seeds=range(2)))  # fmt: skip
    corr = correlation_report(corr_spec, per_shift(corr_spec.optimizers, [0, 1, 2, 4]))
    commands["correlation"] = corr_spec.command("correlate", ["--shifts", "0,1,2,4"])
    explored["correlation"] = position_of(corr_spec)
    numbers["correlation"] = [{"optimizer": c.optimizer, "shift": c.shift, "pearson_g2_v": c.pearson_g2_v} for c in corr.results]
    parts.append(
        "<h2>3. The cause: v<sub>t</sub> is correlated with g<sub>t</sub></h2>"
        "<p>On a stochastic problem (g = 10 with probability 0.2, else −1) the correlation between g<sub>t</sub>² and the "
        "v<sub>t</sub> that scales it is √(1−β2²) for Adam — and zero once v is built from older gradients.</p>"
        + _table(
            ["optimizer", "shift n", "Pearson(g², v)", "closed form"],
            [
                [c.optimizer, c.shift, c.pearson_g2_v, "—" if c.analytic_pearson_g2_v is None else c.analytic_pearson_g2_v]
                for c in corr.results
            ],
        )
        + _figure(
            figure_correlation(corr),
            "Correlation of g² with v against the shift n.",
            commands["correlation"],
            _link("correlation", explored["correlation"]),
        )
    )
    done()

    shifted = periodic_nuf(problem, make_optimizer("adashift", n=1, beta1=0.0, beta2=1 / 101, eps=0.0))
    adam_iid = stationary_nuf(iid, make_optimizer("adam", beta1=0.0, beta2=0.9, eps=0.0))
    shift_iid = stationary_nuf(iid, make_optimizer("adashift", n=1, beta1=0.0, beta2=0.9, eps=0.0))
    numbers["adashift_factors"] = {"kappa": shifted.kappa.tolist(), "drift": shifted.drift}
    parts.append(
        "<h2>4. Temporal shifting (AdaShift)</h2>"
        "<p>AdaShift (Zhou et al., ICLR 2019) computes v<sub>t</sub> from g<sub>t−n</sub>, a gradient that is no longer in "
        "the update, so the scale cannot depend on the gradient it scales. On the same problem the factors become "
        + ", ".join(f"{k:.3f}" for k in shifted.kappa)
        + f" and the drift {shifted.drift:+.3f}·α: toward x* = −1. On the i.i.d. problem the expected factor given "
        f"g = 10 is {adam_iid.kappa[0]:.4f} for Adam against {adam_iid.kappa[1]:.4f} for g = −1, but "
        f"{shift_iid.kappa[0]:.4f} for both under AdaShift.</p>"
        '<p class="note">On a periodic problem a shift that is a multiple of the period sees the same phase again and '
        "re-correlates v with g: try <code>adasim correlate --shifts 0:6 --beta2 0.5</code>.</p>"
    )
    done()

    ams = periodic_nuf(problem, make_optimizer("amsgrad", beta1=0.0, beta2=1 / 101, eps=0.0))
    crit_spec = build_spec("shi-two-spike", optimizers=["rmsprop"], hyper={"eps": 0.0})
    crit = critical_value(crit_spec.problem, crit_spec.optimizers[0])
    commands["critical"] = crit_spec.command("critical", run=False)
    explored["critical"] = position_of(crit_spec)
    numbers["amsgrad_factor"] = float(ams.kappa[0])
    numbers["shi_critical_beta2"] = crit.critical
    parts.append(
        "<h2>5. Other fixes: AMSGrad and ADOPT, and when Adam is fine</h2>"
        f"<p>AMSGrad keeps the running maximum of v: every gradient gets the same factor ({ams.kappa[0]:.4f}), so the "
        "drift is the mean gradient's, in the right direction. ADOPT divides g<sub>t</sub> by √v<sub>t−1</sub> — a "
        "shift of one — before the momentum. And Adam itself converges when β2 is large enough: for RMSProp on Shi et "
        f"al.'s two-spike problem with C = 10 the drift changes sign at β2 = {crit.critical:.4f} (Shi et al. report a "
        "transition between 0.63 and 0.64).</p>"
        + _figure(
            figure_drift(crit, "rmsprop"),
            "Drift away from the optimum against 1 − β2.",
            commands["critical"],
            _link("critical", explored["critical"]),
        )
        + "<p>Ask adasim for a problem that defeats any optimizer: <code>adasim find-counterexample --beta1 0.9 --beta2 0.999</code>.</p>"
    )
    done()

    numbers["explorer"] = {figure: position.query() for figure, position in explored.items()}
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Why Adam can fail, and how shifting fixes it — adasim {__version__}</title><style>{STYLE}</style>{CHECK}</head><body>"
        "<h1>Why Adam can fail on a convex problem, and how temporal shifting fixes it</h1>"
        "<p>Every figure and number below was computed by adasim when this page was made; each says how to reproduce it.</p>"
        + "".join(parts)
        + f"<p id='self-check'>self-check did not run.</p><p><small>adasim {__version__}</small></p></body></html>"
    )
    return page, numbers


def write_lesson(
    out_dir: str | os.PathLike[str], steps: int = 100_000, progress: Callable[[int, int], None] | None = None
) -> Path:
    """lesson.html, the explorer page of each of its figures (static exports whose β2 slider
    crosses the figure's critical value) and lesson.json, written last (lesson_files() names them).
    `progress(done, total)` counts the sections of the page, then the views of each explorer page."""
    out = Path(out_dir)
    total = SECTIONS + sum(_views(figure) for figure in EXPLORED)  # at most; exact once the plans are made
    page, numbers = build_lesson(steps, None if progress is None else lambda done, _: progress(done, total))
    with atomic_file(out / "lesson.html", "w") as fh:
        fh.write(page)
    plans = {}
    for figure, query in numbers["explorer"].items():
        grid = {k: (v,) for k, v in query.items() if k != "optimizers"}
        grid["beta2"] = (query["beta2"], *(number_text(b) for b in EXPLORED[figure]))
        plans[figure] = plan(grid, query["optimizers"].split(","), STEPS)
    total = SECTIONS + sum(len(todo.positions) for todo in plans.values())
    start = SECTIONS
    for figure, todo in plans.items():
        tick = None if progress is None else (lambda done, _, start=start: progress(start + done, total))
        export(out, todo, explorer_page(figure), progress=tick)
        start += len(todo.positions)
    write_record(out, "lesson.json", numbers)
    return out / "lesson.html"
