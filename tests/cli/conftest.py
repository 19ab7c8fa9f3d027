"""Fixtures of the CLI tests."""

import io

import pytest
from rich.console import Console


@pytest.fixture
def terminal(monkeypatch):
    """stderr as a terminal (its text kept), every bar's threshold at 0: what a bar writes."""
    from adasim.cli import console

    screen = io.StringIO()
    monkeypatch.setattr(console, "stderr", lambda: Console(force_terminal=True, file=screen, width=100, highlight=False))
    monkeypatch.setattr(console, "PROGRESS_MIN_WORK", 0)
    monkeypatch.setattr(console, "PROGRESS_AFTER", 0.0)
    return screen
