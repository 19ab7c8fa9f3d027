"""The discovery loop (docs/REFERENCE.md §9):

1. **Screen.** `budget` rules drawn from the grammar (and the built-in optimizers, as points of it)
   run the search battery (battery.SEARCH) as lanes; the rules that pass every case survive.
2. **Counterexample-guided rounds.** The survivors are attacked: find-counterexample's screen of
   the online and stochastic families (adasim.analysis.synthesis: periods, runs of spikes, spike
   sizes, spike probabilities), every survivor as lanes of one run per problem. Every problem that
   defeats a survivor joins the battery; the next generation — the survivors and mutants of them —
   runs the whole grown battery, and its survivors are attacked again. A rule's `rounds` is the
   number of attacks it came through.
3. **Held out.** The families chosen before the search (battery.HELD_OUT) give the final verdict.

Generations are written to OUT/generations as they finish (atomically, with the plan's digest), so
an interrupted search keeps them and `--resume` continues from the last one; the draws of
generation k come from the seed and k alone, so a resumed search is the search that was not
interrupted.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adasim.checks.cases import Case
from adasim.discover.battery import (
    CHUNK,
    HELD_OUT,
    PASS,
    SEARCH,
    CaseScore,
    Scores,
    held_out_cases,
    score,
    search_cases,
)
from adasim.discover.grammar import BETA1, GENES, Genes, built_ins, canonical, keys, sample, unique
from adasim.errors import AdasimError, check_range
from adasim.schedules import Schedule

MAX_BUDGET = 1_000_000
SEARCH_VERSION = 2  # raise when what a generation holds changes: an older folder is then not resumed
PART = 512  # candidates per unit of work (a process, a Dask task, a file of a generation): what an interrupt can lose


@dataclass(frozen=True)
class Plan:
    """Everything that decides a search's result (its digest guards --resume)."""

    budget: int = 10_000
    rounds: int = 3
    beta1: tuple[float, ...] = BETA1
    seed: int = 0
    fixed: tuple[tuple[str, Any], ...] = ()
    survivors: int = 48  # the best rules of a generation that are attacked
    mutants: int = 8  # per survivor, in each round's generation
    engine: str = "auto"

    def __post_init__(self) -> None:
        check_range("--budget", self.budget, 1, MAX_BUDGET, integer=True)
        check_range("--rounds", self.rounds, 0, 20, integer=True)
        check_range("--seed", self.seed, 0, 2**63 - 1, integer=True)
        if not self.beta1:
            raise AdasimError("--beta1 needs at least one value")
        for b in self.beta1:
            check_range("--beta1", b, 0.0, 1.0, hi_open=True)

    def digest(self) -> str:
        text = json.dumps({**asdict(self), "engine": None, "genes": GENES, "search": SEARCH, "held_out": HELD_OUT,
                           "version": SEARCH_VERSION},
                          sort_keys=True, default=str)  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def rng(self, generation: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, generation])


def memory_needed(plan: Plan) -> float:
    """Bytes of the largest run (CHUNK candidates × 8 seeds × 2 coordinates: the ring of 24 past
    gradients, 7 state values and 6 per-step fields over a block) and of the population's records."""
    lanes = CHUNK * 8 * 2
    per_lane = 8 * (24 + 7 + 6 * 64 + 16)
    population = (plan.budget + plan.rounds * plan.survivors * (plan.mutants + 1)) * 8 * (len(GENES) + 4 * 64)
    return float(lanes * per_lane + population)


def stage_units(plan: Plan) -> list[tuple[str, int]]:
    """The search's stages in order, each with at most how many (candidate, case) runs it makes —
    what `progress` is told of: the screen, then per round the attack and the next generation (the
    survivors and their mutants) on the grown battery. run_search's `stage` is told the exact count
    as each stage begins (duplicates dropped, fewer survivors)."""
    attack = len(attack_cases()) + CLOSED_FORM_ATTACKS
    built = len(built_ins()[1])
    out = [("screen", (plan.budget + built) * len(SEARCH))]
    for r in range(1, plan.rounds + 1):
        out.append((f"round {r} attack", plan.survivors * attack))
        out.append((f"round {r} mutants", (plan.survivors * (plan.mutants + 1) + built) * (len(SEARCH) + 4 * r)))
    return out


def work_units(plan: Plan) -> int:
    """At most how many (candidate, case) runs the search makes (the sum of stage_units)."""
    return sum(units for _, units in stage_units(plan))


# -- evaluating a population: parts in processes (or on Dask), each part the battery as lanes ----
def _score_part(args: tuple[dict[str, np.ndarray], list[Case], str]) -> dict[str, dict[str, np.ndarray]]:
    values, cases, engine = args
    scores = score(Genes(values), cases, engine)
    return {n: {"status": s.status, "value": s.value, "drift": s.drift} for n, s in scores.by_case.items()}


def evaluate(genes: Genes, cases: Sequence[Case], engine: str = "auto", workers: int = 1, scheduler: str | None = None,
             tick: Callable[[int], None] | None = None, done: dict[int, dict] | None = None,
             on_part: Callable[[int, dict], None] | None = None) -> Scores:  # fmt: skip
    """Every candidate through every case: in parts of PART candidates, each case of a part one task,
    on `workers` local processes or a Dask cluster; `tick` is told of (candidate, case) runs as each
    task finishes, `on_part(i, result)` gets each computed part (to save it), and the parts in `done`
    (read back by a resumed search) are not run."""
    parts = [(genes[slice(lo, lo + PART)].values, list(cases), engine) for lo in range(0, len(genes), PART)]
    results: list[Any] = [None] * len(parts)
    arriving: dict[int, dict] = {}  # the cases of each unfinished part that have arrived

    def arrived(i: int, res: dict, fresh: bool = True) -> None:
        results[i] = res
        if fresh and on_part is not None:
            on_part(i, res)

    def case_arrived(key: tuple[int, str], res: dict) -> None:
        i = key[0]
        got = arriving.setdefault(i, {})
        got.update(res)
        if len(got) == len(cases):
            arrived(i, {c.name: got[c.name] for c in cases})  # saved before the tick: an interrupt there keeps it
            del arriving[i]
        if tick is not None:
            tick(len(parts[i][0]["beta1"]) * len(res))

    for i, res in (done or {}).items():
        if i < len(parts):
            arrived(i, res, fresh=False)
            if tick is not None:
                tick(len(parts[i][0]["beta1"]) * len(cases))
    tasks = [((i, c.name), (p[0], [c], engine)) for i, p in enumerate(parts) if results[i] is None for c in p[1]]
    if scheduler is not None and tasks:
        from adasim.sweep import _dask_client

        client = _dask_client(scheduler)  # one line naming adasim[dask] when Dask is missing
        from distributed import as_completed as dask_completed

        try:
            with client.as_current():
                futures = {client.submit(_score_part, p, pure=False): key for key, p in tasks}
                for fut in dask_completed(list(futures)):
                    case_arrived(futures[fut], fut.result())
        finally:
            client.close()
    elif workers <= 1 or len(tasks) <= 1:
        for key, p in tasks:
            case_arrived(key, _score_part(p))
    elif tasks:
        _pool(tasks, workers, case_arrived, (parts[0][0], list(cases), engine))
    out = Scores([c.name for c in cases])
    for c in cases:
        cols = {k: np.concatenate([r[c.name][k] for r in results]) for k in ("status", "value", "drift")}
        out.by_case[c.name] = CaseScore(c.name, cols["status"], cols["value"], cols["drift"])
    return out


def _pool(todo: list, workers: int, arrived: Callable[[Any, dict], None], first: tuple) -> None:
    from adasim.sweep import in_pool

    _score_part((Genes(first[0])[:1].values, first[1], first[2]))  # compile here once (every case): the workers load the cache
    in_pool(_score_part, todo, workers, arrived, "a discover worker process died (killed, or out of memory?); the finished "
            "parts and generations are kept: rerun with --resume")  # fmt: skip


# -- the attack: find-counterexample's screen, the survivors as lanes -----------------------------
LONG_PERIODS = (1000, 3000, 10_000)


def attack_cases() -> list[Case]:
    """The problems a round attacks with: find-counterexample's simulation screen of the online
    family (adasim.analysis.synthesis: SCREEN_PERIODS × SCREEN_SPIKES × SCREEN_C, s = 1, spikes just
    large enough that x* = −1 holds with the margin, times a factor), long periods (LONG_PERIODS: the
    memories of β2 = 0.999 and 0.9999) and a grid of the stochastic family, each run at a constant α
    for 40 whole periods (expect = drift: its factors must drive x toward x*)."""
    from adasim.analysis.synthesis import SCREEN_C, SCREEN_PERIODS, SCREEN_SPIKES, _c_min
    from adasim.problems import Domain, Online, Stochastic

    out = []
    free = Domain(-np.inf, np.inf)
    for d in SCREEN_PERIODS:
        for k in SCREEN_SPIKES:
            if k >= d:
                continue
            for factor in SCREEN_C:
                C = _c_min(d, k) * factor
                out.append(_periodic_case(f"online-d{d}-k{k}-C{C:.4g}", Online(C=C, s=1.0, d=d, k=k, domain=free),
                                          "find-counterexample's online screen (adasim.analysis.synthesis)"))  # fmt: skip
    for d in LONG_PERIODS:  # periods near 1/(1 − β2) for the long memories (β2 = 0.999, 0.9999) that short ones miss
        for k in (1, 8):
            for factor in (2.0, 20.0):
                C = _c_min(d, k) * factor
                out.append(_periodic_case(f"online-d{d}-k{k}-C{C:.4g}", Online(C=C, s=1.0, d=d, k=k, domain=free),
                                          "a long-period screen beside find-counterexample's"))  # fmt: skip
    for C in (3.0, 10.0, 30.0, 100.0, 1000.0):
        for share in (1.2, 2.0, 5.0):
            p = share / (C + 1.0)  # p·C − (1 − p) = share − 1 > 0: x* = −1
            if p >= 0.5:
                continue
            out.append(Case(f"stochastic-C{C:g}-p{p:.4g}", Stochastic(C=C, s=1.0, p=p, domain=free),
                            "a stochastic screen beside find-counterexample's", f"i.i.d. {C:g} w.p. {p:.4g}, else −1",
                            steps=10_000, n_seeds=4, lr=1e-3, schedule=Schedule("constant"), expect="drift"))  # fmt: skip
    return out


CLOSED_FORM_ATTACKS = 12  # survivors with a closed form attacked by find-counterexample's closed-form search per round
CLOSED_FORM_PERIOD = 300  # its largest period (1–2 s per rule)


def _periodic_case(name: str, problem: Any, source: str) -> Case:
    d = int(problem.d)
    steps = 2 * d * math.ceil(max(40 * d, 4000) / (2 * d))
    return Case(name, problem, source, f"online, {int(problem.k)} gradient(s) {float(problem.C):.4g} then {d - int(problem.k)} "
                f"of −{float(problem.s):g}", steps=steps, n_seeds=1, lr=1e-3, schedule=Schedule("constant"),
                expect="drift")  # fmt: skip


def closed_form_attack(survivors: Genes, most: int = CLOSED_FORM_ATTACKS) -> list[Case]:
    """find-counterexample's closed-form search (adasim.analysis.synthesis.find_counterexample, the
    online family up to period CLOSED_FORM_PERIOD, no confirming simulation) on the first `most`
    survivors that have a closed form; each problem it finds, as a case."""
    from adasim.analysis.synthesis import find_counterexample
    from adasim.discover.rule import ScaleRule
    from adasim.problems import Domain

    out: dict[str, Case] = {}
    tried = 0
    for i in range(len(survivors)):
        if tried >= most:
            break
        g = survivors.one(i)
        opt = ScaleRule(**{k: v for k, v in g.items() if k != "phi"}, phi=g["phi"])
        if opt.scale_limit().statistic not in ("ema", "max-ema", "mean"):
            continue
        tried += 1
        try:
            cx = find_counterexample(opt, "online", CLOSED_FORM_PERIOD, simulate_check=False)
        except AdasimError:
            continue
        if cx.found and cx.problem is not None:
            p = cx.problem.replace(domain=Domain(-np.inf, np.inf))
            name = f"closed-form-d{int(p.d)}-k{int(p.k)}-C{float(p.C):.4g}"
            out.setdefault(name, _periodic_case(name, p, "find-counterexample's closed-form search "
                                                "(adasim.analysis.synthesis), on a survivor"))  # fmt: skip
    return list(out.values())


def choose_counterexamples(defeated: np.ndarray, names: Sequence[str], most: int = 4) -> list[int]:
    """Greedy cover: the problems (columns of `defeated`, survivors × problems) that together
    defeat the most survivors, at most `most` of them."""
    left = defeated.copy()
    chosen: list[int] = []
    while len(chosen) < most and left.any():
        j = int(np.argmax(left.sum(axis=0)))
        chosen.append(j)
        left[left[:, j]] = False
    return chosen


# -- the generations -----------------------------------------------------------------------------
@dataclass
class Generation:
    """One generation: its candidates, their scores on the battery of that generation, and which survived."""

    index: int
    genes: Genes
    scores: Scores
    battery: list[str]
    survived: np.ndarray  # indices into genes

    def save(self, folder: Path, digest: str) -> None:
        from adasim.io import write_npz

        arrays: dict[str, np.ndarray] = {f"gene_{k}": v for k, v in self.genes.values.items()}
        for n, s in self.scores.by_case.items():
            arrays[f"status_{n}"], arrays[f"value_{n}"], arrays[f"drift_{n}"] = s.status, s.value, s.drift
        arrays["survived"] = self.survived
        arrays["meta"] = np.array(json.dumps({"digest": digest, "index": self.index, "battery": self.battery}))
        write_npz(folder / f"generation-{self.index}.npz", arrays)

    @classmethod
    def load(cls, path: Path, digest: str, index: int) -> Generation | None:
        """The generation saved at `path`, or None when it is not this search's (or unreadable)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("digest") != digest or meta.get("index") != index:
                    return None
                genes = Genes({k[5:]: z[k] for k in z.files if k.startswith("gene_")})
                battery = list(meta["battery"])
                scores = Scores(battery, {n: CaseScore(n, z[f"status_{n}"], z[f"value_{n}"], z[f"drift_{n}"]) for n in battery})
                return cls(index, genes, scores, battery, z["survived"])
        except (OSError, ValueError, KeyError, json.JSONDecodeError, AdasimError):
            return None


def _write_part(folder: Path, digest: str, index: int, part: int, battery: list[str], result: dict) -> None:
    """One finished part of a generation (PART candidates), so that an interrupted generation keeps it."""
    from adasim.io import write_npz

    arrays = {f"{k}_{n}": v for n, cols in result.items() for k, v in cols.items()}
    arrays["meta"] = np.array(json.dumps({"digest": digest, "index": index, "part": part, "battery": battery}))
    write_npz(folder / f"generation-{index}-part-{part}.npz", arrays)


def _read_parts(folder: Path, digest: str, index: int, battery: list[str]) -> dict[int, dict]:
    """The parts of generation `index` that this search wrote (others are ignored and recomputed)."""
    out: dict[int, dict] = {}
    for path in folder.glob(f"generation-{index}-part-*.npz"):
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("digest") != digest or meta.get("index") != index or meta.get("battery") != battery:
                    continue
                out[int(meta["part"])] = {n: {k: z[f"{k}_{n}"] for k in ("status", "value", "drift")} for n in battery}
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            continue
    return out


def rank(scores: Scores, names: Sequence[str]) -> np.ndarray:
    """Candidates best first: cases passed, then the mean value (progress toward x*, drift toward x*)."""
    passed = scores.passed(names)
    values = np.stack([np.clip(np.nan_to_num(scores.by_case[n].value, nan=-1.0), -1.0, 1.0) for n in names], axis=1)
    return np.lexsort((-values.mean(axis=1), -passed))


def mutate(rng: np.random.Generator, parents: Genes, per: int, beta1: Sequence[float], fixed: dict[str, Any]) -> Genes:
    """`per` mutants of each parent: each takes one to three genes from a fresh draw."""
    if len(parents) == 0:
        return parents
    P = len(parents) * per
    base = parents[np.repeat(np.arange(len(parents)), per)]
    fresh = sample(rng, P, beta1, fixed)
    values = {k: np.array(v) for k, v in base.values.items()}
    for i in range(P):
        for gene in rng.choice(list(GENES), size=int(rng.integers(1, 4)), replace=False):
            if gene not in fixed:
                values[gene][i] = fresh.values[gene][i]
    return canonical(Genes(values), fixed)


@dataclass
class Outcome:
    """What a search found (report.py writes it)."""

    plan: Plan
    generations: list[Generation]
    cases: dict[str, Case]
    counterexamples: list[list[str]]  # the cases each round added
    built_in_names: list[str]
    genes: Genes = field(default=None)  # type: ignore[assignment]  # every distinct candidate ever run
    rounds: np.ndarray = field(default=None)  # type: ignore[assignment]  # attacks each survived
    battery_passed: np.ndarray = field(default=None)  # type: ignore[assignment]
    battery_total: np.ndarray = field(default=None)  # type: ignore[assignment]
    reused: int = 0  # finished generations read back by --resume
    reused_parts: int = 0  # finished parts of unfinished generations read back


def run_search(plan: Plan, out_dir: Path | None = None, *, resume: bool = False, workers: int = 1,
               scheduler: str | None = None, progress: Callable[[int], None] | None = None,
               stage: Callable[[str, int], None] | None = None) -> Outcome:  # fmt: skip
    """The loop of the module text. `progress` is told of (candidate, case) runs as they finish;
    `stage(name, runs)` of each stage of stage_units as it begins, with its exact number of runs."""
    from adasim.memory import require

    require(memory_needed(plan), "the discover search", "lower --budget")
    fixed = dict(plan.fixed)
    digest = plan.digest()
    folder = None
    if out_dir is not None:
        folder = out_dir / "generations"
        folder.mkdir(parents=True, exist_ok=True)
    cases = {c.name: c for c in search_cases()}
    battery = list(SEARCH)
    names, built = built_ins()
    generations: list[Generation] = []
    counterexamples: list[list[str]] = []
    attack = {c.name: c for c in attack_cases()}
    known = {**cases, **attack}
    reused = 0
    reused_parts: dict[int, int] = {}

    def generation(index: int, genes: Genes, battery_now: list[str]) -> Generation:
        nonlocal reused
        if stage is not None:
            name = "screen" if index == 0 else f"round {index % 100} attack" if index > 100 else f"round {index} mutants"
            stage(name, len(genes) * len(battery_now))
        path = folder / f"generation-{index}.npz" if folder is not None else None
        if resume and path is not None and path.exists():
            old = Generation.load(path, digest, index)
            if old is not None and old.battery == battery_now:
                reused += 1
                if progress:
                    progress(len(old.genes) * len(old.battery))
                return old
        done = _read_parts(folder, digest, index, battery_now) if resume and folder is not None else {}
        reused_parts[index] = len(done)

        def save_part(i: int, result: dict) -> None:
            if folder is not None:
                _write_part(folder, digest, index, i, battery_now, result)

        scores = evaluate(genes, [known[n] for n in battery_now], plan.engine, workers, scheduler, progress, done, save_part)
        order = rank(scores, battery_now)
        full = np.flatnonzero(scores.passed(battery_now) == len(battery_now))
        best = full if len(full) else order[:1]
        survived = np.array([i for i in order if i in set(best.tolist())][: plan.survivors], dtype=np.int64)
        gen = Generation(index, genes, scores, list(battery_now), survived)
        if path is not None:
            gen.save(folder, digest)  # type: ignore[arg-type]
            for part in folder.glob(f"generation-{index}-part-*.npz"):  # type: ignore[union-attr]
                part.unlink(missing_ok=True)
        return gen

    population = unique(built.concat(sample(plan.rng(0), plan.budget, plan.beta1, fixed)))
    gen = generation(0, population, battery)
    generations.append(gen)
    for r in range(1, plan.rounds + 1):
        survivors = gen.genes[gen.survived]
        # the attack: every survivor on every screened problem, as lanes, and the closed-form search
        # on the survivors that have a closed form
        attack_now = {**attack, **{c.name: c for c in closed_form_attack(survivors)}}
        known.update(attack_now)
        hit = generation(100 + r, survivors, list(attack_now))
        # a counterexample drives a survivor the wrong way (or not toward x* at all); failing only by moving too
        # little against SGD's path, which huge spikes inflate, does not make one
        defeated = np.stack([(hit.scores.by_case[n].status != PASS) & ~(hit.scores.by_case[n].value > 0) for n in attack_now],
                            axis=1)  # fmt: skip
        chosen = [list(attack_now)[j] for j in choose_counterexamples(defeated, list(attack_now))]
        for n in chosen:
            cases[n] = attack_now[n]
        counterexamples.append(chosen)
        battery = battery + [n for n in chosen if n not in battery]
        children = mutate(plan.rng(r), survivors, plan.mutants, plan.beta1, fixed)
        population = unique(built.concat(survivors).concat(children))  # the built-ins run every battery too
        gen = generation(r, population, battery)
        generations.append(gen)
    outcome = Outcome(plan, generations, cases, counterexamples, names)
    _collect(outcome)
    outcome.reused = reused
    outcome.reused_parts = sum(reused_parts.values())
    return outcome


def _collect(outcome: Outcome) -> None:
    """Every distinct candidate, with the rounds it survived and its best record on the battery."""
    seen: dict[tuple, int] = {}
    rows: list[Genes] = []
    gens = [g for g in outcome.generations if g.index < 100]
    for gen in gens:
        for i, k in enumerate(keys(gen.genes)):
            if k not in seen:
                seen[k] = len(seen)
                rows.append(gen.genes[i : i + 1])
    genes = rows[0]
    for r in rows[1:]:
        genes = genes.concat(r)
    rounds = np.zeros(len(genes), dtype=np.int64)
    passed = np.zeros(len(genes), dtype=np.int64)
    total = np.zeros(len(genes), dtype=np.int64)
    for gen in gens:
        ks = keys(gen.genes)
        got = gen.scores.passed(gen.battery)
        for i, k in enumerate(ks):
            j = seen[k]
            passed[j], total[j] = got[i], len(gen.battery)  # the latest battery it ran
        alive = {ks[i] for i in np.flatnonzero(got == len(gen.battery)).tolist()}
        for k in alive:
            rounds[seen[k]] = gen.index
    outcome.genes, outcome.rounds, outcome.battery_passed, outcome.battery_total = genes, rounds, passed, total


def held_out(genes: Genes, engine: str = "auto", workers: int = 1, scheduler: str | None = None,
             tick: Callable[[int], None] | None = None) -> Scores:  # fmt: skip
    """Every candidate through the held-out families (`tick`: told of (candidate, case) runs)."""
    return evaluate(genes, held_out_cases(), engine, workers, scheduler, tick)
