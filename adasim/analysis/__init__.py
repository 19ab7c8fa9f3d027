"""Analysis on runs and on closed forms: net update factors, drift, critical values, correlation.

Examples
--------
>>> from adasim import Online, Adam
>>> from adasim.analysis import analytic_nuf, empirical_nuf
>>> problem, adam = Online(C=10.0, d=3, k=1), Adam(beta1=0.0, beta2=1 / 101, eps=0.0, lr=1e-3)
>>> closed = analytic_nuf(problem, adam)          # κ per phase: the spike gets a tenth of a step
>>> [round(float(k), 4) for k in closed.kappa]
[0.1005, 0.7124, 0.9952]
>>> round(closed.drift, 4)                        # > 0: x climbs away from x* = −1
0.2342
>>> measured = empirical_nuf(problem, adam, steps=5_000)
>>> bool(max(abs(g.mean / k - 1) for g, k in zip(measured.groups, closed.kappa)) < 1e-9)
True
"""

from adasim.analysis.correlation import Correlation, analytic_pearson_g2_v, measure_correlation
from adasim.analysis.drift import Critical, analytic_drift, analytic_nuf, critical_value
from adasim.analysis.empirical import EmpiricalNUF, NUFStream, empirical_nuf, nuf_chunks
from adasim.analysis.periodic import PeriodicNUF, periodic_nuf
from adasim.analysis.sign import SignDrift, sign_drift
from adasim.analysis.stationary import StationaryNUF, stationary_nuf

__all__ = [
    "Correlation",
    "Critical",
    "EmpiricalNUF",
    "NUFStream",
    "PeriodicNUF",
    "SignDrift",
    "StationaryNUF",
    "analytic_drift",
    "analytic_nuf",
    "analytic_pearson_g2_v",
    "critical_value",
    "empirical_nuf",
    "measure_correlation",
    "nuf_chunks",
    "periodic_nuf",
    "sign_drift",
    "stationary_nuf",
]
