"""The fixtures' own records, read straight from the libraries' files with nothing of ashasim, so
the tests compare the importers against what each library wrote."""

import csv
import io
import json
import sqlite3
import zipfile
from datetime import datetime, timezone
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
RAY_RUNS = ("ray_tuner", "ray_run", "ray_hyperband")


def _stamp(text):
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def ray_trials(name):
    """Ray id -> (trial state, run metadata, result rows)."""
    folder = FIXTURES / name
    state = json.loads(next(folder.glob("experiment_state-*.json")).read_text())
    trials = {}
    for trial_part, run_part in state["trial_data"]:
        trial, run = json.loads(trial_part), json.loads(run_part)
        lines = (folder / trial["relative_logdir"] / "result.json").read_text().splitlines()
        trials[trial["trial_id"]] = (trial, run, [json.loads(line) for line in lines if line])
    return trials, state


def syne_rows():
    with zipfile.ZipFile(FIXTURES / "syne_tune" / "results.csv.zip") as archive:
        text = archive.read("results.csv").decode()
    return list(csv.DictReader(io.StringIO(text)))


def syne_metadata():
    return json.loads((FIXTURES / "syne_tune" / "metadata.json").read_text())


def optuna_db_trials(path=FIXTURES / "optuna" / "study.db"):
    """number -> (state, start stamp, complete stamp, {step: value})."""
    connection = sqlite3.connect(path)
    trials = {}
    ids = {}
    for trial_id, number, state, start, complete in connection.execute(
        "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials"
    ):
        ids[trial_id] = number
        trials[number] = (state, _stamp(start), _stamp(complete), {})
    for trial_id, step, value in connection.execute(
        "SELECT trial_id, step, intermediate_value FROM trial_intermediate_values"
    ):
        trials[ids[trial_id]][3][step] = value
    connection.close()
    return trials


def optuna_journal_trials(path=FIXTURES / "optuna" / "journal.log"):
    """number -> (state code, start stamp, complete stamp, {step: value}, worker id)."""
    trials = {}
    for line in path.read_text().splitlines():
        op = json.loads(line)
        if op["op_code"] == 4:
            trials[len(trials)] = [0, _stamp(op["datetime_start"]), None, {}, op["worker_id"]]
        elif op["op_code"] == 6:
            trials[op["trial_id"]][0] = op["state"]
            trials[op["trial_id"]][2] = _stamp(op["datetime_complete"])
        elif op["op_code"] == 7:
            trials[op["trial_id"]][3][op["step"]] = op["intermediate_value"]
    return trials
