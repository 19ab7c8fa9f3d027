"""ADOPT and AdaShift n = 1 are one algorithm in the limit, and runs of spikes defeat both.

Online problem with period d = 12 and k consecutive spikes C = 1.2·(d − k)/k (E g > 0: the optimum
is −1), β1 = 0. ADOPT without clipping equals AdaShift with n = 1 exactly at β2 = 0 and shares its
periodic steady state for every β2 (docs/REFERENCE.md §6). A shift decorrelates v_t from g_t only
when g_{t−n} is not in the same run of spikes as g_t: with k spikes in a row, every n < k leaves
the k−n later spikes scaled by a v that contains a spike. Left: the closed-form drift against n
(β2 = 0.1; n = 0 is Adam's v). Middle: x_t on k = 2 for Adam, ADOPT, AdaShift n = 1 and n = 2.
Right: per-phase net update factors of ADOPT and AdaShift n = 1 (closed form and measured)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adasim import ADOPT, Adam, AdaShift, Online, Schedule, simulate
from adasim.analysis import analytic_drift, empirical_nuf, periodic_nuf
from adasim.experiments import counter

NAME = "shift-spikes"
TITLE = "ADOPT = AdaShift(n = 1) in the limit, and runs of k spikes defeat every shift n < k"
SOURCE = ("adasim's own experiment; ADOPT: Taniguchi et al. 2024; AdaShift: Zhou et al. 2019; spike runs as in "
          "Shi et al. 2021's two-spike problem; docs/REFERENCE.md §6")  # fmt: skip

D = 12
BETA2 = 0.1


def _problem(k: int, domain: Any = None) -> Online:
    kw = {} if domain is None else {"domain": domain}
    return Online(C=1.2 * (D - k) / k, d=D, k=k, **kw)


def _shifted(n: int, beta2: float, **kw: Any) -> Any:
    if n == 0:
        return Adam(beta1=0.0, beta2=beta2, eps=0.0, bias_correction=False, **kw)
    return AdaShift(n=n, beta1=0.0, beta2=beta2, eps=0.0, phi="identity", **kw)


def _adopt(beta2: float, **kw: Any) -> ADOPT:
    return ADOPT(beta1=0.0, beta2=beta2, clip=False, eps=1e-300, **kw)


SPIKE_RUNS = (1, 2, 3)  # k of the left panel's problems


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the panels' units: the closed forms of each k, each run of the
    middle panel, each optimizer's factors on the right, and the identity check at β2 = 0."""
    steps = 5_000 if quick else 200_000
    schedule = {"lr": 0.5, "schedule": Schedule("inv-sqrt")}
    lines = {"adam": _shifted(0, BETA2, **schedule), "adopt, no clip": _adopt(BETA2, **schedule),
             "adashift n=1": _shifted(1, BETA2, **schedule), "adashift n=2": _shifted(2, BETA2, **schedule)}  # fmt: skip
    nuf_beta2 = 0.5
    compared = (("adopt, no clip", _adopt(nuf_beta2, lr=1e-3), "o"), ("adashift n=1", _shifted(1, nuf_beta2, lr=1e-3), "x"))
    tick = counter(progress, len(SPIKE_RUNS) + len(lines) + len(compared) + 1)
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    ax_n, ax_x, ax_k = fig.subplots(1, 3)
    numbers: dict[str, Any] = {"settings": {"d": D, "beta1": 0.0, "beta2": BETA2, "steps": steps}}
    shifts = np.arange(0, 9)
    drift: dict[str, Any] = {}
    for k, color in zip(SPIKE_RUNS, ("#1f77b4", "#d62728", "#2ca02c"), strict=True):
        problem = _problem(k)
        values = [analytic_drift(problem, _shifted(int(n), BETA2)) for n in shifts]
        ax_n.plot(shifts, values, "o-", color=color, ms=4, label=f"k = {k} (C = {problem.C:g})")
        adopt = analytic_drift(problem, _adopt(BETA2))
        ax_n.plot([1], [adopt], "*", color=color, ms=12, mfc="none")
        drift[f"k={k}"] = {"C": float(problem.C), "adashift_by_n": dict(zip(shifts.tolist(), values, strict=True)),
                           "adopt_no_clip": adopt}  # fmt: skip
        tick()
    ax_n.plot([], [], "*", color="black", mfc="none", ms=10, label="ADOPT, no clip (at n = 1)")
    ax_n.axhline(0.0, color="black", lw=0.8)
    ax_n.set_xlabel("shift n (0: Adam's own v)")
    ax_n.set_ylabel("closed-form drift E[Δx]/α per step\n(> 0: toward the worst point)")
    ax_n.set_title(f"drift against the shift, β2 = {BETA2}", fontsize=9)
    ax_n.legend(fontsize=8)
    ax_n.grid(alpha=0.3)
    numbers["closed_form_drift"] = drift

    problem = _problem(2)
    finals = {}
    for (label, opt), style in zip(lines.items(), ("-", "-", "--", "-"), strict=True):
        run_ = simulate(problem, opt, steps, x0=0.0)
        ax_x.plot(run_.trace.t, run_.trace.x[:, 0, 0], style, label=label, lw=1.3)
        finals[label] = float(run_.final_x[0, 0])
        tick()
    ax_x.axhline(-1.0, color="black", ls="--", lw=0.8)
    ax_x.set_xscale("log")
    ax_x.set_ylim(-1.05, 1.05)
    ax_x.set_xlabel("step t")
    ax_x.set_ylabel("x_t")
    ax_x.set_title(f"k = 2 spikes in a row, α_t = 0.5/√t, β2 = {BETA2}", fontsize=9)
    ax_x.legend(fontsize=8)
    ax_x.grid(alpha=0.3)
    numbers["final_x_k2"] = finals

    nuf_steps = 2_000 if quick else 20_000
    kappas = {}
    for label, opt, marker in compared:
        closed = periodic_nuf(problem, opt).kappa
        measured = np.array([g.mean for g in empirical_nuf(problem, opt, nuf_steps).groups])  # in units of α
        ax_k.plot(np.arange(D), closed, marker, ms=8 if marker == "o" else 10, mfc="none", label=f"{label}: closed form")
        ax_k.plot(np.arange(D), measured, ".", ms=4, label=f"{label}: measured")
        kappas[label] = {"closed": closed.tolist(), "measured": measured.tolist()}
        tick()
    ax_k.set_xlabel("phase j (j < 2: the spikes)")
    ax_k.set_ylabel("net update factor κ_j / α")
    ax_k.set_title(f"ADOPT and AdaShift n = 1 share their factors (k = 2, β2 = {nuf_beta2})", fontsize=9)
    ax_k.legend(fontsize=7)
    ax_k.grid(alpha=0.3)
    a = simulate(_problem(2, None), _adopt(0.0, lr=0.01), 1_000, stride=1).trace.x
    b = simulate(_problem(2, None), _shifted(1, 0.0, lr=0.01), 1_000, stride=1).trace.x
    numbers["identity_beta2_0_max_abs_dx"] = float(np.max(np.abs(a - b)))
    tick()
    numbers["nuf_beta2_0.5"] = kappas
    numbers["published"] = "none for spike runs; ADOPT's paper compares with AdaShift only in words"
    fig.suptitle(TITLE, fontsize=10)
    return {NAME: fig}, numbers
