"""The README's simulation example runs as written (examples that rot mislead)."""

import json
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_simulate_example_runs(tmp_path, monkeypatch, capsys):
    (example,) = [block for block in python_blocks() if "LearningCurves()" in block]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["ASHA", "SyncSH"]
    assert (tmp_path / "runs" / "ASHA" / "journal.jsonl").exists()
    assert (tmp_path / "runs" / "SyncSH" / "gantt.png").exists()
    idle = {line.split()[0]: float(line.split()[2].rstrip("%,")) for line in printed}
    assert idle["ASHA"] < idle["SyncSH"]


def test_the_framing_example_runs_on_both_clocks(tmp_path, monkeypatch):
    (example,) = [block for block in python_blocks() if "Experiment(asha" in block]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    for where in ("sim", "real"):
        run = tmp_path / "runs" / f"framed-{where}"
        for name in ("journal.jsonl", "results.csv", "summary.json", "replay.csv"):
            assert (run / name).is_file(), (where, name)
        assert json.loads((run / "summary.json").read_text())["trials"] == 24


def test_the_test_command_is_what_ci_runs():
    text = README.read_text(encoding="utf-8")
    assert '    pip install -e ".[dev,torch,ray]" && python -m pytest\n' in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "README.md" in ci


def test_the_searcher_example_runs():
    (example,) = [block for block in python_blocks() if "BOHB(space" in block]
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert type(namespace["asha_bo"].searcher).__name__ == "GPSearcher"
    assert type(namespace["bohb"].searcher).__name__ == "KDESearcher"
    assert namespace["async_bohb"].searcher.top_fraction == 0.15


def test_the_replay_your_own_learning_curves_example_runs(tmp_path, monkeypatch, capsys):
    """The worked example prints what the README says it prints, and the command given for the
    same run works on the table it wrote."""
    (example,) = [block for block in python_blocks() if "Tabular(" in block]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    text = README.read_text(encoding="utf-8")
    assert f"It prints `{printed[0]}`" in text
    first = " ".join(text.split("the first result, `")[1].split("`")[0].split())
    assert printed[1] == first
    for name in ("journal.jsonl", "gantt.png", "curves_fidelity.png"):
        assert (tmp_path / "runs" / "lcdb" / name).exists()
    command = text.split("    ashasim simulate --table lcdb_mini.csv")[1].split("\n\n")[0]
    args = ["--table", "lcdb_mini.csv", *command.replace("\\\n", " ").split()]
    args[args.index("--out") + 1] = "cli"
    done = subprocess.run(
        [sys.executable, "-m", "ashasim", "simulate", *args, "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "trials     24" in done.stdout and (tmp_path / "cli" / "results.csv").exists()


def test_the_study_tables_are_the_ones_reproduce_wrote():
    """README quotes experiments/figures/*.md (written by ``ashasim reproduce``) row for row, so
    regenerating the figures and forgetting the README fails here."""
    text = README.read_text(encoding="utf-8")
    figures = README.parent / "experiments" / "figures"
    for name in ("sync_headline.md", "paper_measures.md", "asynchrony.md"):
        rows = [line for line in (figures / name).read_text().splitlines() if line.startswith("|")]
        missing = [row for row in rows if row not in text.splitlines()]
        assert rows and not missing, f"README lacks rows of {name}: {missing[:2]}"


def test_every_figure_the_readme_shows_exists():
    text = README.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images
    assert [path for path in images if not (README.parent / path).is_file()] == []
