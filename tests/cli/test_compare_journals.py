"""``ashasim compare --journals``: every run of a comparison journaled where ``ashasim plot`` and
``ashasim dashboard`` find it, with the same results the comparison summarised."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ashasim.cli import main
from ashasim.dashboard.runs import find_runs
from ashasim.events import load_experiment


def test_every_run_of_a_comparison_is_journaled_and_found_by_the_dashboard(tmp_path: Path) -> None:
    args = ["compare", "--schedulers", "sync-sh:top-rung", "asha", "--workers", "2", "3"]
    args += ["--seeds", "2", "--max-time", "200", "--processes", "1", "--workload", "d2l"]
    assert main([*args, "--journals", "--out", str(tmp_path)]) == 0
    runs = tmp_path / "runs" / "d2l"
    expected = {
        f"{contender}_w{n}_s{seed}"
        for contender in ("sync-sh_top-rung", "asha")
        for n in (2, 3)
        for seed in (0, 1)
    }
    assert {p.name for p in runs.iterdir()} == expected
    found = find_runs([tmp_path / "runs"])
    assert len(found) == len(expected)
    for _, journal in found:
        trace = load_experiment(journal.parent)
        summary = json.loads((journal.parent / "summary.json").read_text(encoding="utf-8"))
        assert summary["trials"] == len(trace.trial_ids) > 0
        assert trace.info["n_workers"] == int(journal.parent.name.split("_w")[1].split("_")[0])


def test_without_the_flag_nothing_is_journaled(tmp_path: Path) -> None:
    args = ["compare", "--schedulers", "asha", "--workers", "2", "--seeds", "1"]
    args += ["--max-time", "100", "--processes", "1", "--workload", "d2l", "--out", str(tmp_path)]
    assert main(args) == 0
    assert not (tmp_path / "runs").exists()
    assert sys.modules.get("ashasim.cli") is not None
