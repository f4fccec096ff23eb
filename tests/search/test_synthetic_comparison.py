"""experiments/searchers_synthetic.py: cells saved in one environment load into another's table."""

from experiments import searchers_synthetic as study


def test_saved_cells_load_back_and_order_by_benchmark_workers_and_contender(tmp_path):
    cells = {
        ("hartmann3", 16, "Syne Tune BOHB"): [(0.1, 40.0), (0.2, 41.0)],
        ("hartmann3", 4, "ashasim KDE"): [(0.01, 0.3), (0.03, 0.2)],
        ("hartmann3", 4, "Syne Tune MOBSTER"): [(0.02, 900.0), (0.05, 950.0)],
        ("hartmann3", 4, "ashasim random"): [(0.06, 0.0), (0.07, 0.0)],
    }
    path = tmp_path / "cells.json"
    study.save_cells(path, cells)
    loaded = study.load_cells(path)
    assert loaded == cells
    assert list(study.ordered(loaded)) == [
        ("hartmann3", 4, "ashasim random"),
        ("hartmann3", 4, "ashasim KDE"),
        ("hartmann3", 4, "Syne Tune MOBSTER"),
        ("hartmann3", 16, "Syne Tune BOHB"),
    ]
    table = study.format_table(study.ordered(loaded))
    assert "| hartmann3 | 4 | ashasim KDE | " in table
    assert "Syne Tune MOBSTER: 0.333" in table  # two against two, fully separated


def test_the_synthetic_comparison_runs_as_the_guide_writes_it(tmp_path):
    """``python experiments/searchers.py synthetic ...`` from the repository root, without
    PYTHONPATH (the script's directory is on the path, the root is not): one tiny cell."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "experiments/searchers.py", "synthetic", "--benchmarks", "currin"]
    command += ["--workers", "2", "--seeds", "1", "--budget", "20", "--max-t", "3"]
    command += ["--contenders", "ashasim random", "--save", str(tmp_path / "cells.json")]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "| currin | 2 | ashasim random |" in done.stdout
    assert study.load_cells(tmp_path / "cells.json")


def test_the_guide_and_the_tables_show_what_the_committed_cells_make():
    """docs/guides/searchers.md and every table.md file quote the tables that the committed
    cells make (``--load`` of every cell file of the folder): a re-run cell cannot leave a
    stale row behind."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    folder = root / "experiments" / "figures" / "searchers_synthetic"
    guide = (root / "docs" / "guides" / "searchers.md").read_text(encoding="utf-8")
    directories = sorted(path.parent for path in folder.rglob("table.md"))
    assert len(directories) == 3
    for directory in directories:
        cells = {}
        for path in sorted(directory.glob("*.json")):
            cells.update(study.load_cells(path))
        table = study.format_table(study.ordered(cells))
        assert (directory / "table.md").read_text(encoding="utf-8").strip() == table
        for line in table.splitlines()[2:]:
            assert line in guide, line


def test_suggest_costs_report_every_suggest_of_every_seed(monkeypatch):
    """``--suggest-costs``: one row per contender with the count of suggests over all seeds
    (the runs' own), and a mean that is the calls' total over their count; a peer that is not
    installed is left out rather than failing the table."""
    import statistics

    seen: list[list[float]] = []
    run = study.run_ashasim

    def counted(*args, **kwargs):
        outcome = run(*args, **kwargs)
        seen.append(list(args[5]))
        return outcome

    monkeypatch.setattr(study, "run_ashasim", counted)

    def missing(*args, **kwargs):
        raise study.PeerMissingError("not installed")

    monkeypatch.setattr(study, "run_peer", missing)
    table = study.suggest_costs(
        ["currin"], [2], 2, 20.0, 3, ("ashasim random", "ashasim KDE", "Syne Tune BOHB")
    )
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    assert [row[2] for row in rows] == ["ashasim random", "ashasim KDE"]
    kde = [1e3 * x for x in seen[-1]]  # (the list grows over the seeds: the last is every call)
    assert int(rows[1][3]) == len(kde) > 0
    assert float(rows[1][4]) == float(f"{statistics.fmean(kde):.3g}")
    assert float(rows[1][5]) == float(f"{statistics.median(kde):.3g}")
