"""What `adasim discover` reports: the top rules (collapsed by behaviour) with their battery,
held-out and real-task results, each placed beside the nearest built-in optimizer by a behavioural
fingerprint, closed-form certificates where a rule has a closed form, the answers to the known
questions, and the files (table, found.py, figure, JSON).

**Fingerprint.** A rule's value on each case of the search battery (progress toward x*, or its
drift toward x* in units of SGD's) and its drift −u/α over the second half in units of |ḡ|: the
same probe set for every rule. Rules whose fingerprints agree to 1e-9 behave identically on it and
are collapsed into one row (the report counts them); the nearest built-in is the built-in genome
(grammar.BUILT_INS) at the smallest RMS distance.

**Certificate.** For a rule with a closed form (its scale_limit is not `unknown`: an EMA, its
running maximum or the mean of g² n steps back, a plain EMA or window momentum), the closed-form
drift (adasim.analysis.analytic_drift: the periodic steady state or the i.i.d. stationary law,
docs/REFERENCE.md §3) on every periodic or i.i.d. case of the battery, beside the simulation's: the
sign is then exact, and the two must agree to CERTIFY_TOL of |ḡ|.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adasim.checks.cases import ALL_CASES
from adasim.discover.battery import HELD_OUT, PASS, SEARCH, STATUS, Scores, two_point
from adasim.discover.grammar import BUILT_INS, Genes, built_ins, keys, latex, source_file, words
from adasim.discover.rule import CHOICES, ScaleRule
from adasim.discover.search import Outcome, held_out
from adasim.errors import AdasimError

CERTIFY_TOL = 0.1
TOP = 10
REAL_POOL = 256  # the best rules by the battery that the real task orders


def fingerprints(scores: Scores) -> np.ndarray:
    """(P, 2·cases) the fingerprint of the module text, on the search battery."""
    cols = []
    for name in SEARCH:
        s = scores.by_case[name]
        g = abs(float(np.mean(ALL_CASES[name].problem.mean_gradient()))) or 1.0
        cols += [np.clip(np.nan_to_num(s.value, nan=-9.0), -9, 9), np.clip(np.nan_to_num(s.drift / g, nan=-9.0), -9, 9)]
    return np.stack(cols, axis=1)


@dataclass
class Row:
    """One rule of the table."""

    name: str
    genes: dict[str, Any]
    words: str
    latex: str
    battery: tuple[int, int]
    held_out: tuple[int, int]
    failed: list[str]
    held_out_failed: list[str]
    rounds: int
    real_loss: float
    adam_loss: float
    nearest: str
    distance: float
    equivalents: int = 1
    certificate: dict[str, Any] = field(default_factory=dict)
    built_in: bool = False

    @property
    def real_ratio(self) -> float:
        return self.real_loss / self.adam_loss if self.adam_loss > 0 else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rule": self.words, "latex": self.latex, "genes": self.genes,
                "battery_passed": list(self.battery), "held_out_passed": list(self.held_out), "failed": self.failed,
                "held_out_failed": self.held_out_failed, "rounds_survived": self.rounds,
                "real_task_loss": _num(self.real_loss), "adam_loss": _num(self.adam_loss),
                "real_task_vs_adam": _num(self.real_ratio), "nearest_built_in": self.nearest,
                "distance": _num(self.distance), "equivalent_rules": self.equivalents, "certificate": self.certificate,
                "built_in": self.built_in}  # fmt: skip


def _num(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def certificate(genes: dict[str, Any], scores: Scores, i: int) -> dict[str, Any]:
    """The closed-form drift beside the simulation's on each periodic or i.i.d. case (module text)."""
    from adasim.analysis.drift import analytic_drift, is_iid, is_periodic

    opt = ScaleRule(**{k: v for k, v in genes.items() if k != "phi"}, phi=genes["phi"])
    if opt.scale_limit().statistic in ("unknown", "custom"):
        return {"closed_form": False, "why": "no closed form for this rule (a span, a pool, a max-EMA or a stale scale)"}
    if int(genes["clip"]) and int(genes["order"]) == 1:
        return {"closed_form": False, "why": "the clip bound (t−1)^(1/4) still binds within the run; the closed form is its "
                "t → ∞ limit"}  # fmt: skip
    rows = []
    for name in SEARCH:
        case = ALL_CASES[name]
        if case.dim != 1 or not (is_periodic(case.problem) or is_iid(case.problem)):
            continue
        settle = 5.0 / max(1.0 - float(genes["beta2"]), 1e-12)  # five time constants of v
        if int(genes["accumulator"]) == 0 and int(genes["v_init"]) != 1 and case.steps // 2 < settle:
            rows.append({"case": name, "skipped": f"the uncorrected v (β2 = {genes['beta2']:g}) is still in its transient "
                         f"over the second half ({case.steps // 2} steps < 5/(1 − β2))"})  # fmt: skip
            continue
        g = float(np.mean(case.problem.mean_gradient()))
        try:
            up = analytic_drift(case.problem, opt)
        except AdasimError as err:
            rows.append({"case": name, "error": str(err)})
            continue
        s = scores.by_case[name]
        toward = -1.0  # x* = −1 below x_1 = 0 on every such case
        if case.expect == "drift" and two_point(case) is not None:
            simulated = float(s.value[i]) * abs(g) / toward  # back to the motion up, per α
        else:
            simulated = float(s.drift[i])
        rows.append({"case": name, "closed_form_drift": up, "simulated_drift": simulated,
                     "deviation": abs(up - simulated) / abs(g), "toward_x_star": bool(up * toward > 0)})  # fmt: skip
    devs = [r["deviation"] for r in rows if "deviation" in r]
    worst = max(devs) if devs else math.nan
    return {"closed_form": True, "cases": rows, "largest_deviation": _num(worst), "agrees": bool(devs) and worst <= CERTIFY_TOL,
            "toward_everywhere": bool(devs) and all(r["toward_x_star"] for r in rows if "deviation" in r)}  # fmt: skip


@dataclass
class Report:
    outcome: Outcome
    rows: list[Row]
    built_in_rows: list[Row]
    answers: dict[str, Any]
    adam_loss: float

    def as_dict(self) -> dict[str, Any]:
        o = self.outcome
        return {"plan": {**o.plan.__dict__, "fixed": dict(o.plan.fixed)}, "search_battery": list(SEARCH),
                "held_out": list(HELD_OUT), "counterexamples_per_round": o.counterexamples,
                "candidates": len(o.genes), "generations": [{"index": g.index, "candidates": len(g.genes),
                "battery": g.battery, "survivors": len(g.survived)} for g in o.generations],
                "top": [r.as_dict() for r in self.rows], "built_ins": [r.as_dict() for r in self.built_in_rows],
                "answers": self.answers, "adam_real_task_loss": self.adam_loss}  # fmt: skip


def build_report(outcome: Outcome, top: int = TOP, engine: str = "auto", workers: int = 1, scheduler: str | None = None,
                 real_task: bool = True, progress: Callable[[int], None] | None = None,
                 stage: Callable[[str, int], None] | None = None) -> Report:  # fmt: skip
    """The top rules (collapsed by fingerprint), the built-ins, their held-out and real-task results.
    `stage(name, units)` is told of each stage of report_units as it begins, `progress` of its units done:
    rules on the real task, (rule, case) runs held out and of the paired maximum."""
    from adasim.discover import realtask

    gens = [g for g in outcome.generations if g.index < 100]
    where: dict[tuple, tuple[Any, int]] = {}  # each candidate's latest generation and its index there
    prints: dict[int, np.ndarray] = {}
    for gen in gens:
        prints[gen.index] = fingerprints(gen.scores)
        for i, k in enumerate(keys(gen.genes)):
            where[k] = (gen, i)

    def fp(k: tuple) -> np.ndarray:
        gen, i = where[k]
        return prints[gen.index][i]

    share = outcome.battery_passed / np.maximum(outcome.battery_total, 1)
    order = np.lexsort((-outcome.rounds, -share))
    key_of = {k: j for j, k in enumerate(keys(outcome.genes))}
    built_names, built = built_ins()
    built_keys = keys(built)
    built_prints = np.stack([fp(k) for k in built_keys])
    # the best REAL_POOL rules by the battery and the rounds go to the real task, which orders the ties
    pool = [int(j) for j in order if keys(outcome.genes[j : j + 1])[0] not in set(built_keys)][:REAL_POOL]
    pooled = built.concat(outcome.genes[np.array(pool, dtype=np.int64)]) if pool else built
    _stage(stage, "real task", len(pooled) if real_task else 0)
    losses_all = realtask.rule_losses(pooled) if real_task else np.full(len(pooled), np.nan)
    adam = realtask.adam_loss() if real_task else math.nan
    if real_task and progress is not None:
        progress(len(pooled))
    loss_of = {k: float(x) for k, x in zip(keys(pooled), losses_all, strict=True)}

    def rank_key(j: int) -> tuple[float, float, float]:
        real = loss_of[keys(outcome.genes[j : j + 1])[0]]
        return -share[j], -outcome.rounds[j], real if math.isfinite(real) else math.inf

    pool.sort(key=rank_key)
    reps: list[int] = []
    counts: dict[int, int] = {}
    seen_fp: dict[bytes, int] = {}
    for j in pool:
        f = np.round(fp(keys(outcome.genes[j : j + 1])[0]), 9).tobytes()
        if f in seen_fp:
            counts[seen_fp[f]] += 1
            continue
        if len(reps) < top:
            seen_fp[f] = j
            counts[j] = 1
            reps.append(j)
    chosen = outcome.genes[np.array(reps, dtype=np.int64)] if reps else None
    everyone = built if chosen is None else built.concat(chosen)
    _stage(stage, "held-out", len(everyone) * len(HELD_OUT))
    held = held_out(everyone, engine, workers, scheduler, progress)
    losses = np.array([loss_of[k] for k in keys(everyone)])

    def row(idx: int, name: str, is_built: bool, j: int | None) -> Row:
        g = everyone.one(idx)
        k = keys(everyone[idx : idx + 1])[0]
        if j is None:
            j = key_of[k]
        gen, i = where[k]
        failed = [n for n in gen.battery if gen.scores.by_case[n].status[i] != PASS]
        hfail = [n for n in HELD_OUT if held.by_case[n].status[idx] != PASS]
        dist = np.sqrt(np.mean((built_prints - fp(k)) ** 2, axis=1))
        if is_built:
            dist[built_names.index(name)] = np.inf
        near = int(np.argmin(dist))
        return Row(name, g, words(g), latex(g), (len(gen.battery) - len(failed), len(gen.battery)),
                   (len(HELD_OUT) - len(hfail), len(HELD_OUT)), failed, hfail, int(outcome.rounds[j]), float(losses[idx]),
                   adam, built_names[near], float(dist[near]), counts.get(j, 1), certificate(g, gen.scores, i),
                   is_built)  # fmt: skip

    built_rows = [row(i, n, True, None) for i, n in enumerate(built_names)]
    rows = [row(len(built_names) + r, f"Found{r + 1}", False, j) for r, j in enumerate(reps)]
    found = answers(outcome, built_rows)
    found["amsgrad_type_max"]["paired"] = paired_max(outcome, engine, workers, scheduler, progress, stage)
    return Report(outcome, rows, built_rows, found, adam)


PAIRS = 512


def report_units(top: int, real_task: bool = True) -> list[tuple[str, int]]:
    """build_report's stages (after the search's), each with at most how many units it is told of."""
    built = len(built_ins()[1])
    return [("real task", built + REAL_POOL if real_task else 0), ("held-out", (built + top) * len(HELD_OUT)),
            ("report", PAIRS * len(SEARCH))]  # fmt: skip


def _stage(stage: Callable[[str, int], None] | None, name: str, units: int) -> None:
    if stage is not None:
        stage(name, units)


def paired_max(outcome: Outcome, engine: str = "auto", workers: int = 1, scheduler: str | None = None,
               progress: Callable[[int], None] | None = None,
               stage: Callable[[str, int], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """AMSGrad's fix, isolated: up to PAIRS rules of the screen with an EMA v and no running maximum,
    each run again with the running maximum added (every other gene the same) on the search battery
    (the "report" stage: `progress` is told of (rule, case) runs)."""
    from adasim.discover.grammar import canonical
    from adasim.discover.search import evaluate

    gen = outcome.generations[0]
    v = gen.genes.values
    pick = np.flatnonzero((v["accumulator"] == 0) & (v["keep_max"] == 0))[:PAIRS]
    _stage(stage, "report", len(pick) * len(SEARCH))
    if not len(pick):
        return {"pairs": 0}
    base = gen.genes[pick]
    twin = canonical(Genes({k: (np.ones_like(a) if k == "keep_max" else a) for k, a in base.values.items()}))
    cases = [ALL_CASES[n] for n in SEARCH]
    after = evaluate(twin, cases, engine, workers, scheduler, progress).passed([c.name for c in cases]) == len(cases)
    before = gen.scores.passed(SEARCH)[pick] == len(SEARCH)
    out: dict[str, Any] = {"pairs": len(pick)}
    init = base.values["v_init"]
    for code, name in enumerate(CHOICES["v_init"]):  # the maximum of a bias-corrected v̂ is another rule than of v
        m = init == code
        out[f"v_init {name}"] = {"pairs": int(m.sum()), "failing_before": int((m & ~before).sum()),
                                 "fixed_by_the_max": int((m & ~before & after).sum()), "passing_before": int((m & before).sum()),
                                 "broken_by_the_max": int((m & before & ~after).sum())}  # fmt: skip
    return out


def answers(outcome: Outcome, built_rows: list[Row]) -> dict[str, Any]:
    """The known answers the search must give, and the AdaShift post's open question, in numbers
    (from the screen: generation 0, every rule drawn)."""
    gen = outcome.generations[0]
    v = gen.genes.values
    passes = gen.scores.passed(SEARCH) == len(SEARCH)
    consecutive = gen.scores.by_case["consecutive-spikes"].passed
    # pure shift rules where Adam's own v fails: an EMA of g²_{t−n} with β2 ≤ 0.99, nothing else
    pure = ((v["accumulator"] == 0) & (v["beta2"] <= 0.99) & (v["keep_max"] == 0) & (v["refresh"] == 1) & (v["span"] == 1)
            & (v["order"] == 0))  # fmt: skip
    by_shift = {}
    for n in np.unique(v["shift"][pure]):
        pick = pure & (v["shift"] == n)
        by_shift[int(n)] = {"rules": int(pick.sum()), "pass_consecutive_spikes": float(consecutive[pick].mean())}
    keep = v["keep_max"] == 1
    band = (v["beta1"] == 0.9) & (v["order"] == 0) & (v["window"] >= 1) & (v["tail"] > 0) & (v["shift"] > v["window"])
    band_plain = band & (v["accumulator"] == 0) & (v["keep_max"] == 0) & (v["refresh"] == 1)
    by_name = {r.name: r for r in built_rows}

    def share(mask: np.ndarray) -> dict[str, Any]:
        return {"rules": int(mask.sum()), "pass_all": int((passes & mask).sum()),
                "share": float((passes & mask).mean()) if mask.any() else None}  # fmt: skip

    adam = by_name["adam"]
    best_band = None
    if band_plain.any():
        idx = np.flatnonzero(band_plain)
        got = gen.scores.passed(SEARCH)[idx]
        b = int(idx[np.argmax(got)])
        best_band = {"rule": words(gen.genes.one(b)), "passed": int(gen.scores.passed(SEARCH)[b]), "of": len(SEARCH),
                     "failed": [n for n in SEARCH if gen.scores.by_case[n].status[b] != PASS]}  # fmt: skip
    return {
        "shift_vs_runs_of_spikes": {
            "about": "consecutive-spikes has runs of k = 2 spikes: pure shift rules (an EMA of g²_{t−n} with β2 ≤ 0.99, the "
            "adam order, no maximum, no staleness) should pass it only with n ≥ k",
            "by_shift": by_shift,
            "smallest_shift_that_passes": min((n for n, r in by_shift.items() if r["pass_consecutive_spikes"] > 0), default=None),
        },
        "amsgrad_type_max": {"with_running_max": share(keep), "without": share(~keep)},
        "adam_rejected": {"battery_passed": list(adam.battery), "failed": adam.failed},
        "multi_step_shift_beta1_0.9": {
            "about": "the AdaShift post's open question: shift v by n, keep a window of w < n gradients in m and a moving "
            "average (tail τ > 0) of the left-out band and older gradients, β1 = 0.9",
            "any_accumulator": share(band),
            "ema_of_g2_n_back": share(band_plain),
            "best_of_ema": best_band,
            "best_passing": next((words(gen.genes.one(int(i))) for i in np.flatnonzero(band & passes)), None),
        },
    }


LEGEND = (
    "battery: cases passed of the final battery (the search cases and the rounds' counterexamples); held out: of the "
    "four families the search never saw; rounds: attacks survived; digits loss ÷ Adam's: the real task (< 1 is faster); "
    "nearest built-in: by the fingerprint's RMS distance; (+k alike): k more rules with the same fingerprint; "
    'certificate: the closed-form drift beside the simulated one ("no case settled": a closed form exists, but v\'s '
    "time constant is too long for the battery's runs to reach it)."
)


def summary(report: Report) -> list[str]:
    """The answers in sentences (printed by the command and written under the table)."""
    a = report.answers
    shift = a["shift_vs_runs_of_spikes"]
    by = ", ".join(f"n={n}: {r['pass_consecutive_spikes']:.0%} of {r['rules']}" for n, r in shift["by_shift"].items())
    lines = [f"Runs of 2 spikes: the smallest shift drawn whose pure-shift rules pass consecutive-spikes is "
             f"{shift['smallest_shift_that_passes']} (by shift: {by})."]  # fmt: skip
    paired = a["amsgrad_type_max"].get("paired", {})
    zero = paired.get("v_init zero")
    if zero:
        fixed, broken = zero["fixed_by_the_max"], zero["broken_by_the_max"]
        lines.append(f"AMSGrad's maximum added to {paired['pairs']} EMA rules: over an uncorrected v it fixes {fixed} of "
                     f"{zero['failing_before']} failing rules and breaks {broken} of {zero['passing_before']} passing "
                     "ones.")  # fmt: skip
    q = a["multi_step_shift_beta1_0.9"]
    lines.append(f"The post's multi-step shift with a moving average of the left-out band, β1 = 0.9: "
                 f"{q['any_accumulator']['pass_all']} of {q['any_accumulator']['rules']} such rules pass the whole search battery"
                 + (f"; the best of them: {q['best_passing']}." if q.get("best_passing") else "."))  # fmt: skip
    lines.append(f"Adam's v: the grammar's Adam fails {', '.join(a['adam_rejected']['failed']) or 'nothing'}.")
    return lines


def table_markdown(report: Report) -> str:
    head = ("| rank | rule | battery | held out | rounds | digits loss ÷ Adam's | nearest built-in | certificate |\n"
            "|---:|---|---:|---:|---:|---:|---|---|")  # fmt: skip
    lines = [head]
    for i, r in enumerate(report.rows, 1):
        lines.append(_md_row(str(i), r))
    lines.append("|  | **built-ins, as points of the grammar** |  |  |  |  |  |  |")
    for r in report.built_in_rows:
        lines.append(_md_row("", r))
    return "\n".join(lines)


def _cert(r: Row) -> str:
    c = r.certificate
    if not c.get("closed_form"):
        return "no closed form" if "clip" not in c.get("why", "") else "clip binds: none"
    if c.get("largest_deviation") is None:
        return "closed form, no case settled"
    dev = c.get("largest_deviation")
    where = "toward x* on every case" if c.get("toward_everywhere") else "away on some case"
    return f"{'agrees' if c.get('agrees') else 'DISAGREES'} ({dev:.2g}·|ḡ|), {where}" if dev is not None else where


def _md_row(rank: str, r: Row) -> str:
    eq = f" (+{r.equivalents - 1} alike)" if r.equivalents > 1 else ""
    ratio = f"{r.real_ratio:.3f}" if math.isfinite(r.real_ratio) else "—"
    name = f"**{r.name}**: " if not r.built_in else f"{r.name}: "
    return (f"| {rank} | {name}{r.words}{eq} | {r.battery[0]}/{r.battery[1]} | {r.held_out[0]}/{r.held_out[1]} | "
            f"{r.rounds} | {ratio} | {r.nearest} ({r.distance:.2g}) | {_cert(r)} |")  # fmt: skip


def figure(report: Report) -> Any:
    """Robustness (share of the battery and the held-out cases passed) against the real task's loss
    relative to Adam's, the found rules beside the built-ins."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 5.4), layout="constrained")
    ax = fig.add_subplot()

    def point(r: Row) -> tuple[float, float]:
        return r.real_ratio, (r.battery[0] + r.held_out[0]) / (r.battery[1] + r.held_out[1])

    everything = [point(r) for r in (*report.rows, *report.built_in_rows) if math.isfinite(r.real_ratio)]
    styles = ((report.rows, dict(color="C0", marker="o"), "found by adasim discover"),
              (report.built_in_rows, dict(color="C3", marker="s"), "built-in, in the grammar"))  # fmt: skip
    drawn = []
    for rows, style, label in styles:
        pts = [(r.name, *point(r)) for r in rows if math.isfinite(r.real_ratio)]
        if pts:
            ax.scatter([p[1] for p in pts], [p[2] for p in pts], label=label, zorder=3, **style)
            drawn.append((pts, style))
    ax.axvline(1.0, color="0.6", lw=0.8, ls="--")
    ax.set_ylim(-0.05, 1.05)  # shares: the labels of points at 0 and 1 stay inside
    ax.margins(x=0.06)
    ax.autoscale_view()
    labels = []
    for pts, style in drawn:
        for (x, y), names in _clusters(pts, everything).items():
            text = ", ".join(names) if len(names) <= 2 else f"{names[0]} … {names[-1]} ({len(names)})"
            place = _label_place(ax, x, y, style["marker"] == "o")
            labels.append(ax.annotate(text, (x, y), fontsize=7, color=style["color"], **place))
    ax.set_xlabel("digits loss after the budget ÷ Adam's (lower is faster)")
    ax.set_ylabel("share of battery + held-out cases passed")
    ax.set_title("Discovered scale rules: robustness against speed", fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    _separate(fig, labels)
    return fig


def _separate(fig: Any, labels: list[Any]) -> None:
    """Labels of the two groups (found, built-in) that print over each other: each one that overlaps
    an earlier one moves a line further from its point (down below a point, up above one) until it
    overlaps none (at most 12 lines)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # the constrained layout first: the boxes below are the drawn ones
    renderer = canvas.get_renderer()
    placed: list[Any] = []
    for label in labels:
        box = label.get_window_extent(renderer)
        step = (box.height * 72.0 / fig.dpi + 1.0) * (-1.0 if label.get_va() == "top" else 1.0)
        for _ in range(12):
            if not any(box.overlaps(other) for other in placed):
                break
            x, y = label.xyann
            label.xyann = (x, y + step)
            box = label.get_window_extent(renderer)
        placed.append(box)


def _label_place(ax: Any, x: float, y: float, below: bool) -> dict[str, Any]:
    """Where a point's label goes so that it stays inside the axes: toward the axes' middle (left of
    points in the right half, right of those in the left half; below a point in the upper half,
    above one in the lower half), `below` choosing for points in the middle band."""
    fx, fy = ax.transAxes.inverted().transform(ax.transData.transform((x, y)))
    right = fx < 0.5
    down = fy > 0.6 or (below and fy > 0.4)
    return {"textcoords": "offset points", "xytext": (5 if right else -5, -4 if down else 4),
            "ha": "left" if right else "right", "va": "top" if down else "bottom"}  # fmt: skip


def _clusters(pts: list[tuple[str, float, float]], everything: list[tuple[float, float]]) -> dict[tuple[float, float], list[str]]:
    """Points whose labels would print over each other (within 8 % of the x range and 3 % of the y
    range of every point drawn), grouped under the first one's position."""
    xs = [p[0] for p in everything] or [0.0]
    ys = [p[1] for p in everything] or [0.0]
    dx, dy = 0.08 * (max(xs) - min(xs) or 1.0), 0.03 * (max(ys) - min(ys) or 1.0)
    groups: dict[tuple[float, float], list[str]] = {}
    for name, x, y in pts:
        anchor = next((a for a in groups if abs(a[0] - x) < dx and abs(a[1] - y) < dy), (x, y))
        groups.setdefault(anchor, []).append(name)
    return groups


def write(report: Report, out_dir: Path) -> dict[str, str]:
    """discover.json, discover.md, found.py and discover.png in out_dir (each written atomically)."""
    from adasim.io import atomic_file, write_figure, write_json

    files = {}
    files["json"] = str(write_json(out_dir / "discover.json", report.as_dict()))
    with atomic_file(out_dir / "discover.md", "w") as fh:
        fh.write("# adasim discover\n\n" + table_markdown(report) + "\n\n" + LEGEND + "\n\n"
                 + "\n".join(f"- {line}" for line in summary(report)) + "\n")  # fmt: skip
    files["table"] = str(out_dir / "discover.md")
    notes = [(r.name, r.genes, f"battery {r.battery[0]}/{r.battery[1]}, held out {r.held_out[0]}/{r.held_out[1]}, "
              f"rounds {r.rounds}, nearest built-in {r.nearest}") for r in report.rows]  # fmt: skip
    with atomic_file(out_dir / "found.py", "w") as fh:
        fh.write(source_file(notes))
    files["rules"] = str(out_dir / "found.py")
    if any(math.isfinite(r.real_ratio) for r in (*report.rows, *report.built_in_rows)):  # its x axis is the real task
        files["figure"] = str(write_figure(out_dir / "discover.png", figure(report), dpi=130))
    return files


__all__ = ["BUILT_INS", "STATUS", "Report", "build_report", "figure", "table_markdown", "write"]
