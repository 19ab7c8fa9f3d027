"""`adasim check`: put any optimizer — torch.optim, optax, third-party, adasim's own form —
through Adam's counterexamples, with the mechanism measured model-free (see runner.py)."""

from adasim.check.adapters import Loaded, load
from adasim.check.cases import CASES, Case, get_cases
from adasim.check.report import Report, check

__all__ = ["CASES", "Case", "Loaded", "Report", "check", "get_cases", "load"]
