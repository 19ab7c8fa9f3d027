"""Reproduce the figure 'shi-phase': python experiments/shi_phase.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("shi-phase"))
