"""The `adasim` command (Typer): front ends only, no mathematics. Nothing else in adasim imports it."""
