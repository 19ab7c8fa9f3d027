"""Reproduce the figure 'reddi-fig1': python experiments/reddi_fig1.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("reddi-fig1"))
