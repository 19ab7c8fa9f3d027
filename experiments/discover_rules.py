"""Reproduce the table of discovered scale rules (docs/REFERENCE.md §9):

    python experiments/discover_rules.py --out DIR [--budget 10000] [--rounds 3] [--seed 0]

It is `adasim discover` with the settings of docs/how-to/discover-rules.md: the same seed gives the same search, and
DIR/discover.md is the table that page shows (DIR/discover.json holds every number in it).
"""

import sys

from adasim.cli.app import main

if __name__ == "__main__":
    args = sys.argv[1:]
    defaults = {"--budget": "10000", "--rounds": "3", "--seed": "0"}
    for flag, value in defaults.items():
        if flag not in args:
            args += [flag, value]
    if "--out" not in args:
        raise SystemExit("usage: python experiments/discover_rules.py --out DIR [--budget N] [--rounds R] [--seed S]")
    sys.argv = ["adasim", "discover", *args]
    main()
