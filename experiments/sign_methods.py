"""Reproduce the figure 'sign-methods': python experiments/sign_methods.py --out DIR [--quick]."""

import sys

from adasim.experiments import main

if __name__ == "__main__":
    sys.exit(main("sign-methods"))
