"""Analysis on runs and on closed forms: net update factors, drift, critical values, correlation."""

from adasim.analysis.correlation import Correlation, analytic_pearson_g2_v, measure_correlation
from adasim.analysis.drift import Critical, analytic_drift, analytic_nuf, critical_value
from adasim.analysis.empirical import EmpiricalNUF, NUFStream, empirical_nuf, nuf_chunks
from adasim.analysis.periodic import PeriodicNUF, periodic_nuf
from adasim.analysis.stationary import StationaryNUF, stationary_nuf

__all__ = [
    "Correlation",
    "Critical",
    "EmpiricalNUF",
    "NUFStream",
    "PeriodicNUF",
    "StationaryNUF",
    "analytic_drift",
    "analytic_nuf",
    "analytic_pearson_g2_v",
    "critical_value",
    "empirical_nuf",
    "measure_correlation",
    "nuf_chunks",
    "periodic_nuf",
    "stationary_nuf",
]
