"""Reproduce the figure 'zhang-heatmap': python experiments/zhang_heatmap.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("zhang-heatmap"))
