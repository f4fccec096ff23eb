"""The damaged-run experiment (experiments/damaged_runs.py) holds on a short draw: every edit of
a journal is refused in one line, every crash resumes to the uninterrupted results."""

from __future__ import annotations

from experiments import damaged_runs


def test_every_damage_kind_ends_as_it_should(capsys):
    kinds = len(damaged_runs.EDITS) + len(damaged_runs.CRASHES)
    assert damaged_runs.main(["--trials", str(3 * kinds), "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{3 * kinds} damaged resumes, 0 not as they should be" in out
    assert "refused in one line" in out and "resumed, same results" in out
