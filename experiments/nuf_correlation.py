"""Reproduce the figure 'nuf-correlation': python experiments/nuf_correlation.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("nuf-correlation"))
