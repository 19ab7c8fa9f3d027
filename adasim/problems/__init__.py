"""Problems (docs/REFERENCE.md §1), presets and the registry the CLI uses by name."""

from __future__ import annotations

from typing import Any

from adasim.errors import unknown_name
from adasim.problems.base import Domain, Law, Pattern, Problem
from adasim.problems.custom import Custom
from adasim.problems.finite_sum import SAMPLINGS, FiniteSum
from adasim.problems.layered import Layered, Quadratic
from adasim.problems.matrix import Matrix
from adasim.problems.matrix_quadratic import MatrixQuadratic
from adasim.problems.online import Online
from adasim.problems.periodic import Periodic
from adasim.problems.presets import PRESETS, Preset
from adasim.problems.rotated import Rotated
from adasim.problems.sign_stall import SignStall
from adasim.problems.spikes import RankOne, RankTwo
from adasim.problems.stochastic import Stochastic
from adasim.problems.symmetry import Symmetry

PROBLEMS: dict[str, type[Problem]] = {
    cls.name: cls
    for cls in (
        Online,
        Stochastic,
        FiniteSum,
        Periodic,
        Layered,
        Quadratic,
        Rotated,
        Matrix,
        Symmetry,
        RankOne,
        RankTwo,
        SignStall,
        MatrixQuadratic,
    )
}


def make_problem(name: str, domain: Domain | None = None, **params: Any) -> Problem:
    """Build a problem by name (None means "default"; a parameter it has no field for is an error).

    Examples
    --------
    Reddi et al.'s online problem with C = 3 (the `reddi-thm1` preset's problem): its mean gradient
    (3 − 1 − 1)/3 is positive, so x* is the lower end of [−1, 1].

    >>> from adasim import make_problem
    >>> problem = make_problem("online", C=3.0, d=None)  # None: the default d = 3
    >>> problem.optimum().tolist()
    [[-1.0]]
    """
    if name not in PROBLEMS:
        raise unknown_name("problem", name, PROBLEMS)
    cls = PROBLEMS[name]
    fields = set(cls.settings())
    for key, value in params.items():
        if key not in fields and value is not None:
            raise unknown_name(f"{name} problem setting", key, sorted(fields))
    kwargs = {k: v for k, v in params.items() if k in fields and v is not None}
    if domain is not None:
        kwargs["domain"] = domain
    return cls(**kwargs)


__all__ = [
    "PRESETS",
    "PROBLEMS",
    "SAMPLINGS",
    "Custom",
    "Domain",
    "FiniteSum",
    "Law",
    "Layered",
    "Matrix",
    "MatrixQuadratic",
    "Online",
    "Pattern",
    "Periodic",
    "Preset",
    "Problem",
    "Quadratic",
    "RankOne",
    "RankTwo",
    "Rotated",
    "SignStall",
    "Stochastic",
    "Symmetry",
    "make_problem",
]
