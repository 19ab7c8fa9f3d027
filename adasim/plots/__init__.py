"""Figures. Built on matplotlib's object API (no pyplot state), so they render on any backend."""

from adasim.plots.run import figure_run

__all__ = ["figure_run"]
