"""What a new user meets running the documented commands (issue #32): no internal issue numbers in
what adasim shows, a progress bar for long work, a clean stop of `adasim explore`."""

import re

import pytest
from typer.testing import CliRunner

from adasim.cli.app import app


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["experiment"]])
def test_catalogues_name_no_internal_issue(args):
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "adasim" in result.output or "Zhou" in result.output  # the sources are shown at all
    assert not re.search(r"issue", result.output, re.IGNORECASE), re.findall(r".{40}issue.{20}", result.output, re.I)


def test_lesson_shows_a_bar_and_names_every_file_it_writes(terminal, tmp_path, monkeypatch):
    """The lesson's 14 s after the compile spinner showed nothing, and its last line named only
    lesson.html and lesson.json: the CLI gives write_lesson a bar and names its explorer pages too."""
    from adasim.demos import lesson

    told = []

    def fake(out, steps, progress=None):  # the real one takes seconds; tests/demos checks its ticks
        for name in lesson.lesson_files():
            (out / name).write_text("")
        for done in range(1, 4):
            progress(done, 3)
            told.append(done)
        return out / "lesson.html"

    monkeypatch.setattr(lesson, "write_lesson", fake)
    result = CliRunner().invoke(app, ["lesson", "--out", str(tmp_path / "lesson"), "--steps", "1000"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert told == [1, 2, 3]
    assert "writing the lesson" in terminal.getvalue()
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(f"wrote {tmp_path / 'lesson' / 'lesson.html'}, ")
    for name in lesson.lesson_files():
        assert name in last
    assert sorted(p.name for p in (tmp_path / "lesson").iterdir()) == sorted(lesson.lesson_files())
