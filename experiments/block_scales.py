"""Reproduce the figure 'block-scales': python experiments/block_scales.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("block-scales"))
