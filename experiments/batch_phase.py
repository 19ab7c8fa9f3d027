"""Reproduce the figure 'batch-phase': python experiments/batch_phase.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("batch-phase"))
