"""Reproduce the figure 'adashift-stochastic': python experiments/adashift_stochastic.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("adashift-stochastic"))
