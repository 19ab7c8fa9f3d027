"""The grammar `adasim discover` searches: the genes of the scale rule (rule.py), how to draw
them, one canonical form per behaviour, the built-in optimizers as points of the grammar, and a
rule in words, in LaTeX and as an optimizer file (docs/REFERENCE.md §9).

A population is a `Genes` record: one array of P values per gene (and φ, a convention, one name
per candidate). The search runs it as P × seeds lanes of the one compiled step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.discover.rule import CHOICES, ScaleRule, ScaleRuleHyper
from adasim.errors import AdasimError, unknown_name

GENES = tuple(f for f in ScaleRuleHyper._fields if f not in ("eps",))
INTEGER = tuple(f for f in GENES if f in ScaleRule.integer_fields)
PHIS = ("identity", "mean", "max")

# how the search draws each gene (values, probabilities); the shift's and the span's values reach
# past the longest run of spikes in the battery (two) and past its shortest period (three)
DRAWS: dict[str, tuple[tuple[Any, ...], tuple[float, ...] | None]] = {
    "order": ((0, 1), (0.7, 0.3)),
    "window": ((0, 1, 2, 3, 4, 6, 8), (0.5, 0.1, 0.1, 0.1, 0.08, 0.06, 0.06)),
    "tail": ((0.0, 0.5, 1.0), (0.35, 0.15, 0.5)),
    "m_correct": ((0, 1), None),
    "clip": ((0, 1), None),
    "shift": ((0, 1, 2, 3, 4, 6, 8, 12, 16), (0.2, 0.15, 0.15, 0.1, 0.1, 0.08, 0.08, 0.07, 0.07)),
    "span": ((1, 2, 3, 4, 8), (0.6, 0.1, 0.1, 0.1, 0.1)),
    "pool": ((0, 1), None),
    "accumulator": ((0, 1, 2), (0.5, 0.25, 0.25)),
    "beta2": ((0.5, 0.9, 0.99, 0.999, 0.9999), None),
    "v_init": ((0, 1, 2), None),
    "keep_max": ((0, 1), (0.7, 0.3)),
    "refresh": ((1, 2, 3, 5, 10), (0.7, 0.075, 0.075, 0.075, 0.075)),
    "phi": (PHIS, (0.8, 0.1, 0.1)),
}
BETA1 = (0.0, 0.9)


@dataclass(frozen=True)
class Genes:
    """A population: each gene an array of P values (`phi` an array of names)."""

    values: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        sizes = {len(np.atleast_1d(v)) for v in self.values.values()}
        if len(sizes) != 1:
            raise AdasimError(f"a population's genes must have one length, got {sorted(sizes)}")
        missing = [g for g in (*GENES,) if g not in self.values]
        if missing:
            raise AdasimError(f"a population needs every gene: {', '.join(missing)} missing")

    def __len__(self) -> int:
        return len(self.values["beta1"])

    def __getitem__(self, pick: Any) -> Genes:
        return Genes({k: np.atleast_1d(v[pick]) for k, v in self.values.items()})

    def one(self, i: int) -> dict[str, Any]:
        """Candidate i's genes as plain numbers (and φ's name)."""
        out: dict[str, Any] = {}
        for k, v in self.values.items():
            x = v[i]
            out[k] = str(x) if k == "phi" else (int(x) if k in INTEGER else float(x))
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [self.one(i) for i in range(len(self))]

    @classmethod
    def of(cls, rows: Sequence[Mapping[str, Any]]) -> Genes:
        """A population from candidates given as dicts (missing genes take the rule's defaults)."""
        defaults = {**ScaleRuleHyper._field_defaults}
        cols: dict[str, list[Any]] = {g: [] for g in GENES}
        for row in rows:
            for key in row:
                if key not in GENES:
                    raise unknown_name("gene", key, GENES)
            for g in GENES:
                cols[g].append(row.get(g, defaults[g]))
        return cls({g: _array(g, v) for g, v in cols.items()})

    def concat(self, other: Genes) -> Genes:
        return Genes({k: np.concatenate([self.values[k], other.values[k]]) for k in self.values})

    def settings(self, pick: Any = slice(None)) -> dict[str, Any]:
        """The rule's numeric settings for these candidates (per-lane arrays), φ left out."""
        return {k: v[pick] for k, v in self.values.items() if k != "phi"}


def _array(gene: str, values: Iterable[Any]) -> np.ndarray:
    if gene == "phi":
        out = np.asarray(list(values), dtype=object).astype(str)
        bad = [p for p in out if p not in PHIS]
        if bad:
            raise unknown_name("φ", bad[0], PHIS)
        return out
    return np.asarray(list(values), dtype=np.int64 if gene in INTEGER else np.float64)


def parse_fixed(items: Sequence[str]) -> dict[str, Any]:
    """`gene=value` pairs (a choice gene by its name or number): the genes every candidate shares."""
    fixed: dict[str, Any] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not eq or not text.strip():
            raise AdasimError(f"--fix takes gene=value, got {item!r}")
        if name not in GENES:
            raise unknown_name("gene", name, GENES)
        text = text.strip()
        if name == "phi":
            if text not in PHIS:
                raise unknown_name("φ", text, PHIS)
            fixed[name] = text
        elif name in CHOICES:
            names = CHOICES[name]
            fixed[name] = names.index(text) if text in names else _number(name, text, int)
        else:
            fixed[name] = _number(name, text, int if name in INTEGER else float)
    if fixed:
        probe = {g: np.atleast_1d(v) for g, v in fixed.items() if g != "phi"}
        ScaleRule(**{k: v[0] for k, v in probe.items()}, **_compatible(fixed))  # one line if out of range
    return fixed


def _compatible(fixed: Mapping[str, Any]) -> dict[str, Any]:
    """Settings that make a partial fix valid on its own (the adopt order takes no window)."""
    out: dict[str, Any] = {}
    if fixed.get("order") == 1 and "window" not in fixed:
        out["window"] = 0
    if fixed.get("window") == 0 and "tail" not in fixed:
        out["tail"] = 1.0
    return {k: v for k, v in out.items() if k not in fixed}


def _number(name: str, text: str, kind: type) -> Any:
    try:
        value = float(text)
    except ValueError:
        raise AdasimError(f"--fix {name}: {text!r} is not a number") from None
    if kind is int:
        if value != math.floor(value):
            raise AdasimError(f"--fix {name}: must be a whole number, got {text}")
        return int(value)
    return value


def sample(rng: np.random.Generator, size: int, beta1: Sequence[float] = BETA1, fixed: Mapping[str, Any] | None = None) -> Genes:
    """`size` candidates drawn from DRAWS (β1 from `beta1`), the genes in `fixed` set, each put
    in its canonical form."""
    fixed = dict(fixed or {})
    cols: dict[str, np.ndarray] = {}
    for gene, (values, probs) in DRAWS.items():
        choice = rng.choice(len(values), size=size, p=probs)
        cols[gene] = _array(gene, [values[i] for i in choice])
    cols["beta1"] = _array("beta1", rng.choice(np.asarray(beta1, dtype=float), size=size))
    for gene, value in fixed.items():
        cols[gene] = _array(gene, [value] * size)
    return canonical(Genes(cols), fixed)


def canonical(genes: Genes, fixed: Mapping[str, Any] | None = None) -> Genes:
    """One form per behaviour: genes that cannot act are set to one value (a pool over one
    gradient, v_init and β2 where the accumulator ignores them, the clip outside the adopt order,
    the tail's weight when m has no window …), and the grammar's constraints are met (the adopt
    order has no window; m without a window keeps its tail)."""
    fixed = fixed or {}
    v = {k: np.array(a) for k, a in genes.values.items()}
    adopt = v["order"] == 1
    v["window"] = np.where(adopt, 0, v["window"])
    v["clip"] = np.where(adopt, v["clip"], 0)
    v["tail"] = np.where(v["window"] == 0, 1.0, v["tail"])
    v["beta1"] = np.where(v["beta1"] == 0.0, 0.0, v["beta1"])
    no_momentum = v["beta1"] == 0.0
    # with β1 = 0 only the newest gradient has weight: m = g_t, whatever the window and tail
    v["window"] = np.where(no_momentum & ~adopt, 0, v["window"])
    v["tail"] = np.where(no_momentum, 1.0, v["tail"])
    v["m_correct"] = np.where(no_momentum, 1, v["m_correct"])
    v["pool"] = np.where(v["span"] == 1, 0, v["pool"])
    ema = v["accumulator"] == 0
    v["v_init"] = np.where(ema, v["v_init"], 0)
    v["beta2"] = np.where(v["accumulator"] == 2, 0.0, v["beta2"])
    v["phi"] = np.array(v["phi"], dtype=object).astype(str)
    for gene, value in fixed.items():  # what the user fixed stays as given
        if gene in v:
            v[gene] = _array(gene, [value] * len(genes))
    return Genes(v)


def keys(genes: Genes) -> list[tuple]:
    """A hashable key per candidate (equal keys: the same rule)."""
    cols = [genes.values[g] for g in GENES]
    return [tuple(c[i].item() if hasattr(c[i], "item") else c[i] for c in cols) for i in range(len(genes))]


def unique(genes: Genes) -> Genes:
    """The distinct candidates, in order of first appearance."""
    seen: dict[tuple, int] = {}
    for i, k in enumerate(keys(genes)):
        seen.setdefault(k, i)
    return genes[np.array(sorted(seen.values()), dtype=np.int64)]


# -- the built-in optimizers as points of the grammar (tests hold each to its own definition) ----
BUILT_INS: dict[str, dict[str, Any]] = {
    "adam": {"beta1": 0.9, "beta2": 0.999},
    "reddi-adam": {"beta1": 0.9, "beta2": 0.999, "m_correct": 0, "v_init": 0},
    "rmsprop": {"beta1": 0.0, "beta2": 0.99, "v_init": 0},
    "amsgrad": {"beta1": 0.9, "beta2": 0.999, "m_correct": 0, "v_init": 0, "keep_max": 1},
    "adamnc": {"beta1": 0.9, "accumulator": 2, "m_correct": 0},
    "adashift": {"beta1": 0.9, "window": 10, "tail": 0.0, "shift": 10, "m_correct": 0},
    "adashift-max": {"beta1": 0.9, "window": 10, "tail": 0.0, "shift": 10, "m_correct": 0, "accumulator": 1},
    "adopt": {"beta1": 0.9, "beta2": 0.9999, "order": 1, "shift": 1, "clip": 1, "m_correct": 0, "v_init": 2},
    "adam-mini": {"beta1": 0.9, "beta2": 0.999, "phi": "mean"},
    "stale-rmsprop": {"beta1": 0.0, "beta2": 0.999, "v_init": 0, "refresh": 10},
}


def built_ins() -> tuple[list[str], Genes]:
    names = list(BUILT_INS)
    return names, canonical(Genes.of([BUILT_INS[n] for n in names]))


# -- a rule in words, in LaTeX, and as a file -------------------------------------------------
def _lags(n: int, r: int) -> str:
    return f"g_{{t-{n}}}" if r == 1 else f"g_{{t-{n}}},\\dots,g_{{t-{n + r - 1}}}"


def words(g: Mapping[str, Any]) -> str:
    """The rule in one sentence."""
    n, r = int(g["shift"]), int(g["span"])
    src = "g_t" if n == 0 and r == 1 else (f"g_(t−{n})" if r == 1 else f"g_(t−{n}..t−{n + r - 1})")
    pool = "" if r == 1 else f" ({CHOICES['pool'][int(g['pool'])]} of {r})"
    phi = "" if g.get("phi", "identity") == "identity" else f", φ = block {g['phi']}"
    acc = int(g["accumulator"])
    if acc == 0:
        init = {0: "", 1: ", bias-corrected", 2: ", seeded"}[int(g["v_init"])]
        v = f"v = EMA(β2 = {g['beta2']:g}) of {src}²{pool}{init}"
    elif acc == 1:
        v = f"v = max(β2 v, {src}²{pool}) (β2 = {g['beta2']:g})"
    else:
        v = f"v = mean of {src}²{pool}"
    v += phi
    if int(g["keep_max"]):
        v += ", running max"
    if int(g["refresh"]) > 1:
        v += f", refreshed every {int(g['refresh'])} steps"
    b1, w, tail = float(g["beta1"]), int(g["window"]), float(g["tail"])
    if b1 == 0.0:
        m = "m = g_t"
    elif w == 0:
        m = f"m = EMA(β1 = {b1:g})"
    elif tail == 0.0:
        m = f"m = window of {w} (β1 = {b1:g})"
    else:
        m = f"m = window of {w} + {tail:g}·older (β1 = {b1:g})"
    if b1 > 0 and not int(g["m_correct"]):
        m += ", uncorrected"
    if int(g["order"]) == 1:
        clip = ", clipped" if int(g["clip"]) else ""
        return f"{v}; normalise g_t by √v{clip}, then {m}"
    return f"{v}; {m}; step m/√v"


def latex(g: Mapping[str, Any]) -> str:
    """The rule's v_t and step in LaTeX."""
    n, r = int(g["shift"]), int(g["span"])
    u = f"{_lags(n, r)}" if r > 1 else ("g_t" if n == 0 else f"g_{{t-{n}}}")
    sq = f"\\{CHOICES['pool'][int(g['pool'])]}({u})^2" if r > 1 else f"{u}^2"
    if g.get("phi", "identity") != "identity":
        sq = f"\\phi_{{\\mathrm{{{g['phi']}}}}}({sq})"
    acc = int(g["accumulator"])
    b2 = f"{float(g['beta2']):g}"
    if acc == 0:
        v = f"v_t = {b2}\\,v_{{t-1}} + {1 - float(g['beta2']):.4g}\\,{sq}"
    elif acc == 1:
        v = f"v_t = \\max({b2}\\,v_{{t-1}}, {sq})"
    else:
        v = f"v_t = \\tfrac{{1}}{{t}}\\sum_{{s\\le t}} {sq.replace('t', 's')}"
    if int(g["keep_max"]):
        v += ",\\ \\hat v_t = \\max_{s\\le t} v_s"
    if int(g["order"]) == 1:
        step = "m_t = \\beta_1 m_{t-1} + (1-\\beta_1)\\,g_t/\\sqrt{v_t},\\ x \\leftarrow x - \\alpha_t m_t"
    else:
        step = "x \\leftarrow x - \\alpha_t\\, m_t/\\sqrt{\\hat v_t}"
    return f"${v};\\ {step}$"


def source_file(rules: Sequence[tuple[str, Mapping[str, Any], str]]) -> str:
    """A Python file that defines each rule as an adasim optimizer (`-o file.py:Name`)."""
    lines = [
        '"""Scale rules found by `adasim discover` (docs/REFERENCE.md §9). Use one as',
        '`adasim run -o found.py:Name` or `adasim check found.py:Name`."""',
        "",
        "import dataclasses",
        "",
        "from adasim.discover import ScaleRule",
        "",
    ]
    for name, genes, note in rules:
        settings = {k: genes[k] for k in GENES}
        shown = ", ".join(f"{k!r}: {v!r}" for k, v in settings.items())
        lines += [
            f"# {words(genes)}",
            *(f"# {line}" for line in note.splitlines()),
            f"{name} = dataclasses.replace(ScaleRule, name={name!r}, defaults={{{shown}}})",
            "",
        ]
    return "\n".join(lines)
