"""Shared fixtures; this folder is on sys.path, so tests import `scalar_reference` directly."""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("COLUMNS", "200")
