"""Bad or partial input: one line naming the file and what is missing; exit 2 from the CLI."""

import json
import shutil
import sqlite3

import pytest

from ashasim.cli import main
from ashasim.imports import SourceError, read_run
from tests.imports.raw import FIXTURES


def copy(name, tmp_path):
    target = tmp_path / name.replace("/", "_")
    source = FIXTURES / name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    return target


def refused(source, match):
    with pytest.raises(SourceError, match=match) as caught:
        read_run(source)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_folder_of_another_kind(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    refused(tmp_path, "not a Ray Tune experiment folder, a Syne Tune results folder, or an Optuna")
    refused(tmp_path / "notes.txt", "notes.txt: not a Ray Tune")
    refused(tmp_path / "absent", "absent: no such file")


def test_a_truncated_result_json_names_the_file_and_line(tmp_path):
    run = copy("ray_tuner", tmp_path)
    result = sorted(run.glob("*/result.json"))[1]
    text = result.read_text()
    result.write_text(text[: len(text) - 40])  # cut in the middle of the last result
    lines = text.count("\n")
    refused(run, rf"{result.name}:{lines}: truncated \(not a complete JSON result\)")


def test_a_result_without_the_fields_ray_writes(tmp_path):
    run = copy("ray_tuner", tmp_path)
    result = sorted(run.glob("*/result.json"))[0]
    rows = [json.loads(line) for line in result.read_text().splitlines()]
    del rows[0]["time_total_s"]
    result.write_text("".join(json.dumps(row) + "\n" for row in rows))
    refused(run, r"result.json: result 1 lacks \['time_total_s'\]")


def test_an_experiment_state_of_an_unknown_version(tmp_path):
    run = copy("ray_tuner", tmp_path)
    state = next(run.glob("experiment_state-*.json"))
    state.write_text(json.dumps({"checkpoints": [], "runner_data": {}}))
    refused(run, rf"{state.name}: an experiment state this reader does not know \(no trial_data")
    state.write_text('{"trial_data": [')
    refused(run, rf"{state.name}: not JSON")


def test_a_trial_folder_that_is_gone(tmp_path):
    run = copy("ray_tuner", tmp_path)
    shutil.rmtree(sorted(p for p in run.iterdir() if p.is_dir())[0])
    refused(run, "the trial folder the experiment state names is missing")


def test_syne_tune_without_results_or_with_a_missing_column(tmp_path):
    run = copy("syne_tune", tmp_path)
    (run / "results.csv.zip").unlink()
    refused(run, "a Syne Tune folder without results.csv.zip or results.csv")
    (run / "results.csv").write_text("trial_id,epoch,loss\n0,1,0.5\n")
    refused(run, r"results.csv: lacks column\(s\) \['st_worker_timestamp'")
    (run / "metadata.json").write_text("{}")
    refused(run, "metadata.json: lacks the metric, its mode or the scheduler's time_attr")


def test_a_study_without_intermediate_values(tmp_path):
    db = copy("optuna/study.db", tmp_path)
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM trial_intermediate_values")
    refused(f"sqlite:///{db}", "study 'toy' has no intermediate values")


def test_an_optuna_database_of_another_version(tmp_path):
    db = copy("optuna/study.db", tmp_path)
    with sqlite3.connect(db) as connection:
        connection.execute("ALTER TABLE trials RENAME COLUMN datetime_start TO started_at")
    message = refused(db, r"an Optuna storage of another version \(schema 12")
    assert "table trials lacks ['datetime_start']" in message
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    refused(other, r"other.db: not an Optuna storage \(no version_info\): no table studies")


def test_an_optuna_journal_with_an_unknown_operation_or_a_torn_line(tmp_path):
    journal = copy("optuna/journal.log", tmp_path)
    text = journal.read_text()
    journal.write_text(text[:-30])  # a torn last line (a crash mid-write) is dropped
    assert read_run(journal).trace.results
    journal.write_text(text + json.dumps({"op_code": 42, "worker_id": "w"}) + "\n")
    refused(journal, r":75: not an Optuna journal operation this reader knows \(op_code 42")


def test_a_storage_with_several_studies_needs_a_name(tmp_path):
    journal = copy("optuna/journal.log", tmp_path)
    with journal.open("a") as handle:
        handle.write(
            json.dumps({"op_code": 0, "worker_id": "w", "study_name": "other", "directions": [1]})
            + "\n"
        )
    refused(journal, r"holds 2 studies \['other', 'toy'\]; name one \(--study\)")
    assert read_run(journal, study="toy").trace.results
    with pytest.raises(SourceError, match="no study named 'nope'"):
        read_run(journal, study="nope")


def test_other_database_urls_need_optuna(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "optuna", None)  # as if not installed
    refused("postgresql://host/db", "reading this database needs optuna installed")


def test_the_cli_says_it_in_one_line_and_exits_2(tmp_path, capsys):
    assert main(["import", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ashasim import: error: ") and error.count("\n") == 1
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit) as exited:
        main(["import", str(FIXTURES / "syne_tune")])  # --out is required
    assert exited.value.code == 2
