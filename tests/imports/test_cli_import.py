"""``ashasim import``: the run directory of each library's run, redrawn by ``ashasim plot``, and
the what-if replay of its observations under ASHA and synchronous SH."""

import csv
import json

import pytest

from ashasim.cli import main
from ashasim.events import load_experiment
from ashasim.imports import read_run
from ashasim.plot import gantt
from tests.imports.raw import FIXTURES

SOURCES = {
    "ray_tuner": str(FIXTURES / "ray_tuner"),
    "ray_run": str(FIXTURES / "ray_run"),
    "ray_hyperband": str(FIXTURES / "ray_hyperband"),
    "syne_tune": str(FIXTURES / "syne_tune"),
    "optuna_db": "sqlite:///" + str(FIXTURES / "optuna" / "study.db"),
    "optuna_journal": str(FIXTURES / "optuna" / "journal.log"),
}
FILES = (
    "journal.jsonl",
    "results.csv",
    "summary.json",
    "gantt.png",
    "gantt.svg",
    "curves.png",
    "replay.csv",
    "measures.json",
    "import.json",
)


@pytest.fixture(scope="module")
def imported_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("imported")
    for name, source in SOURCES.items():
        assert main(["import", source, "--out", str(root / name)]) == 0
    return root


@pytest.mark.parametrize("name", SOURCES)
def test_import_writes_a_run_directory_that_reads_back(imported_dirs, name):
    out = imported_dirs / name
    assert all((out / f).stat().st_size > 0 for f in FILES)
    imported = read_run(SOURCES[name])
    assert load_experiment(out) == imported.trace
    measures = json.loads((out / "measures.json").read_text())
    assert measures["idle_fraction"] == pytest.approx(imported.trace.idle_fraction)
    assert measures["busy_worker_seconds"] + measures["idle_worker_seconds"] == pytest.approx(
        imported.trace.n_workers * imported.trace.makespan
    )
    note = json.loads((out / "import.json").read_text())
    assert note["missing"] == imported.missing and note["source"] == SOURCES[name]
    title = gantt(load_experiment(out)).axes[0].get_title()
    assert ("lanes inferred" in title) == imported.lanes_inferred
    assert f"idle {imported.trace.idle_fraction:.0%}" in title


def test_import_prints_what_was_not_recorded_and_the_what_if(tmp_path, capsys):
    assert main(["import", SOURCES["optuna_db"], "--out", str(tmp_path / "o")]) == 0
    printed = capsys.readouterr().out
    assert "worker lanes inferred (earliest free lane" in printed
    assert "not recorded: when each intermediate value was reported" in printed
    assert f"ashasim simulate --table {tmp_path / 'o'}/replay.csv --missing hold" in printed
    assert main(["import", SOURCES["optuna_db"], "--out", str(tmp_path / "o")]) == 2  # no --force
    assert "already holds a run" in capsys.readouterr().err


def test_plot_redraws_an_imported_run(imported_dirs):
    out = imported_dirs / "ray_tuner"
    (out / "gantt.png").unlink()
    assert main(["plot", str(out)]) == 0
    assert (out / "gantt.png").stat().st_size > 0


def test_replay_rows_are_the_observations(imported_dirs):
    """replay.csv: one row per observed (config, epoch), with the imported metric."""
    out = imported_dirs / "syne_tune"
    trace = load_experiment(out)
    with open(out / "replay.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(trace.results)
    assert sorted(float(r["metric"]) for r in rows) == sorted(r.metric for r in trace.results)
    assert all(float(r["seconds"]) >= 0 for r in rows)


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("scheduler", ["asha", "sync-sh"])
def test_what_if_replays_the_imported_observations(imported_dirs, name, scheduler):
    """What ASHA or synchronous SH would have done on the same observations, same workers."""
    from ashasim.core import make_scheduler
    from ashasim.sim import Tabular, simulate

    imported = load_experiment(imported_dirs / name)
    table = Tabular(imported_dirs / name / "replay.csv", missing="hold")
    scheduler = make_scheduler(
        scheduler,
        table.config_space,
        max_t=table.max_epochs,
        grace_period=1,
        reduction_factor=3,
        max_trials=len(imported.trial_ids),
        searcher=table.searcher(),
    )
    replay = simulate(scheduler, table, imported.n_workers)
    configs = {repr(sorted(r.config.items())) for r in imported.results}
    assert len(replay.trial_ids) == len(configs)
    named = {
        repr(sorted((k, v) for k, v in r.config.items() if k != "config_id"))
        for r in replay.results
    }
    assert named <= configs  # the table's configs, each with the id the table gives it
    observed = {r.metric for r in imported.results}
    assert replay.results and all(r.metric in observed for r in replay.results)


def test_what_if_from_the_command_line(imported_dirs, tmp_path, capsys):
    out = imported_dirs / "ray_tuner"
    args = ["simulate", "--table", str(out / "replay.csv"), "--missing", "hold", "--quiet"]
    args += ["--scheduler", "sync-sh", "--workers", "3", "--max-trials", "10"]
    assert main([*args, "--out", str(tmp_path / "what-if")]) == 0
    assert "sync-sh on replay.csv" in capsys.readouterr().out
    replay = load_experiment(tmp_path / "what-if")
    assert {r.metric for r in replay.results} <= {r.metric for r in load_experiment(out).results}
