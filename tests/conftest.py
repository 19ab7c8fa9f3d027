"""Shared fixtures; this folder is on sys.path, so tests import `scalar_reference` directly."""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("COLUMNS", "200")

# Typer's CliRunner builds the whole click command tree on every invoke (~70 ms for adasim's 13
# commands); the tree does not change between tests, so build it once per process.
import functools

import typer.testing

typer.testing._get_command = functools.lru_cache(maxsize=None)(typer.testing._get_command)
