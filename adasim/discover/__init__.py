"""adasim discover: search a typed grammar of scale rules against the battery (docs/REFERENCE.md §9)."""

from adasim.discover.rule import ScaleRule

__all__ = ["ScaleRule"]
