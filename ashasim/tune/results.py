"""A trial's ``result.json``: one JSON object per report, as Ray Tune writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["RESULT_FILE", "read_results"]

RESULT_FILE = "result.json"


def read_results(trial_dir: Path) -> list[dict[str, Any]]:
    """A trial's reports from its ``result.json``, one per training_iteration (a report made
    twice, around a crash and its resume, counts once: the later one), in order."""
    path = trial_dir / RESULT_FILE
    if not path.exists():
        return []
    rows: dict[Any, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            rows[row.get("training_iteration", len(rows))] = row
    return [rows[key] for key in sorted(rows, key=lambda k: (not isinstance(k, int), k))]
