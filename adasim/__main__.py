"""`python -m adasim` runs the command-line application."""

from adasim.cli.app import main

if __name__ == "__main__":
    main()
