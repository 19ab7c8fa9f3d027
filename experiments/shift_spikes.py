"""Reproduce the figure 'shift-spikes': python experiments/shift_spikes.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("shift-spikes"))
