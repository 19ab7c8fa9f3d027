"""`adasim check`: put any optimizer — torch.optim, optax, third-party, adasim's own form —
through Adam's counterexamples, with the mechanism measured model-free (see runner.py)."""

from adasim.checks.adapters import Loaded, load
from adasim.checks.cases import CASES, Case, get_cases
from adasim.checks.report import Report, check

__all__ = ["CASES", "Case", "Loaded", "Report", "check", "get_cases", "load"]
