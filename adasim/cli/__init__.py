"""The `adasim` command (installed as adasim.cli): front ends only, no mathematics."""
