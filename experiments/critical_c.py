"""Reproduce the figure 'critical-c': python experiments/critical_c.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("critical-c"))
