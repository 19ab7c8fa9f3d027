"""Reproduce the figure 'adopt-toy': python experiments/adopt_toy.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("adopt-toy"))
