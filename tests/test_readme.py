"""README.md: short, its examples print what it says, its set-up line is what CI runs.

Running every block is ``tests/test_docs.py``'s job; these tests check what README promises."""

from __future__ import annotations

import json

from tests.docs_blocks import README, blocks, run_page

CI = README.parent / ".ci" / "run"


def test_the_readme_stays_a_two_minute_read():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250
    first_screen = "\n".join(lines[:60])
    assert "```python" in first_screen or "pip install" in first_screen


def test_the_test_command_is_what_ci_runs():
    text = README.read_text(encoding="utf-8")
    assert '    pip install -e ".[dev,torch,ray]" && python -m pytest\n' in text
    assert "README.md" in CI.read_text(encoding="utf-8")
    (test_command,) = [block for block in blocks(README) if "python -m pytest" in block.code]
    assert test_command.no_run_reason  # running the suite from inside the suite would recurse


def test_the_simulate_example_prints_what_the_readme_says(tmp_path_factory):
    ran = run_page(README, tmp_path_factory)
    printed = ran.output_of("LearningCurves()").splitlines()
    text = README.read_text(encoding="utf-8")
    assert [line.split(":")[0] for line in printed] == ["ASHA", "SyncSH"]
    assert all(f"`{line}`" in text for line in printed)
    idle = {line.split(":")[0]: float(line.split()[2].rstrip("%,")) for line in printed}
    assert idle["ASHA"] < idle["SyncSH"]
    assert (ran.directory / "gantt_ASHA.png").exists()
    assert (ran.directory / "gantt_SyncSH.svg").exists()


def test_the_real_run_example_finds_a_good_config(tmp_path_factory):
    ran = run_page(README, tmp_path_factory)
    trace = ran.namespace["trace"]
    assert len(trace.trial_ids) == 20
    assert trace.best.metric < 0.3  # 1/8 for the last epoch plus (lr - 0.1)^2
    assert list((ran.directory / "runs").glob("asha-*/journal.jsonl"))


def test_the_framing_example_runs_on_both_clocks(tmp_path_factory):
    """One Experiment, simulated and run for real, writes the same files with the same budget."""
    ran = run_page(README, tmp_path_factory)
    for where in ("sim", "real"):
        run = ran.directory / "runs" / f"framed-{where}"
        for name in ("journal.jsonl", "results.csv", "summary.json", "replay.csv"):
            assert (run / name).is_file(), (where, name)
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        assert summary["trials"] == 24
