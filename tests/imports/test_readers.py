"""Each library's run, imported: its reports equal the library's own records (count, values, times
to the millisecond), its jobs start and end where the library says, its outcomes are kept."""

import math
from datetime import timezone

import pytest

from ashasim.imports import read_optuna, read_run
from ashasim.studies.measures import promotion_waits
from tests.imports.raw import (
    FIXTURES,
    RAY_RUNS,
    optuna_db_trials,
    optuna_journal_trials,
    ray_trials,
    syne_metadata,
    syne_rows,
)

MS = 1e-3


def reports_of(imported):
    """trial_id -> [(time stamp, resource, metric)], at the source's clock."""
    t0 = imported.trace.info["imported"]["t0"]
    reports = {}
    for row in imported.trace.results:
        reports.setdefault(row.trial_id, []).append((t0 + row.t, row.resource, row.metric))
    return reports


def jobs_of(imported):
    """trial_id -> [segment], with times at the source's clock."""
    t0 = imported.trace.info["imported"]["t0"]
    jobs = {}
    for segment in imported.trace.segments:
        jobs.setdefault(segment.trial_id, []).append(
            segment._replace(start=t0 + segment.start, end=t0 + segment.end)
        )
    return jobs


# -- Ray Tune ---------------------------------------------------------------------------------


def last_stretch(rows):
    """The rows since the trial's last restore (iterations_since_restore back at 1)."""
    starts = [i for i, row in enumerate(rows) if row["iterations_since_restore"] == 1]
    return starts[-1]


@pytest.mark.parametrize("name", RAY_RUNS)
def test_ray_reports_equal_result_json(name):
    imported = read_run(FIXTURES / name)
    trials, _ = ray_trials(name)
    reports = reports_of(imported)
    assert len(imported.trace.results) == sum(len(rows) for _, _, rows in trials.values())
    for ray_id, (_, run, rows) in trials.items():
        mine = reports[int(ray_id.rsplit("_", 1)[1])]
        assert [r for _, r, _ in mine] == [row["training_iteration"] for row in rows]
        assert [m for _, _, m in mine] == [row["loss"] for row in rows]
        # the last at the driver's last_result_time, the others time_total_s before it
        assert mine[-1][0] == pytest.approx(run["last_result_time"], abs=MS)
        resumed = last_stretch(rows)
        for (t, _, _), row in zip(mine[resumed:], rows[resumed:]):
            gap = rows[-1]["time_total_s"] - row["time_total_s"]
            assert run["last_result_time"] - t == pytest.approx(gap, abs=MS)
            # and within a second of Ray's whole-second stamp (the worker's clock, truncated)
            assert row["timestamp"] - MS <= t < row["timestamp"] + 2
        # a stretch before a pause: Ray's whole-second stamps are all there is
        for (t, _, _), row in zip(mine[:resumed], rows[:resumed]):
            assert row["timestamp"] - MS <= t < row["timestamp"] + 1


@pytest.mark.parametrize("name", RAY_RUNS)
def test_ray_jobs_start_at_start_time_and_keep_the_status(name):
    imported = read_run(FIXTURES / name)
    trials, state = ray_trials(name)
    jobs = jobs_of(imported)
    assert imported.trace.info["imported"]["t0"] == state["runner_data"]["_start_time"]
    top = max(rows[-1]["training_iteration"] for _, _, rows in trials.values())
    for ray_id, (trial, run, rows) in trials.items():
        mine = jobs[int(ray_id.rsplit("_", 1)[1])]
        first, last = mine[0], mine[-1]
        assert first.start == pytest.approx(run["start_time"], abs=MS)
        expected = {"ERROR": "failed", "PAUSED": "milestone"}.get(trial["status"])
        if expected is None:
            expected = "returned" if rows[-1]["training_iteration"] == top else "stopped"
        assert last.reason == expected
    errors = [e.error for e in imported.trace.events if getattr(e, "error", None)]
    assert all("fails on purpose" in error for error in errors)


def test_ray_hyperband_pauses_and_resumes_are_stretches():
    """HyperBand paused trials at its rung and resumed them from checkpoints: a job each."""
    imported = read_run(FIXTURES / "ray_hyperband")
    trials, _ = ray_trials("ray_hyperband")
    jobs = jobs_of(imported)
    resumed = 0
    for ray_id, (_, _, rows) in trials.items():
        restarts = [
            row["training_iteration"] for row in rows if row["iterations_since_restore"] == 1
        ]
        mine = jobs[int(ray_id.rsplit("_", 1)[1])]
        assert [job.resume_from for job in mine] == [level - 1 for level in restarts]
        assert all(a.end <= b.start for a, b in zip(mine, mine[1:]))
        assert all(job.reason == "milestone" for job in mine[:-1])  # paused at a rung
        resumed += len(mine) - 1
    assert resumed >= 1
    assert imported.trace.promoted  # the resumed trials: promoted, as ashasim draws them
    waits = promotion_waits(imported.trace)
    assert len(waits) == resumed and all(w > 0 for w in waits)


def test_ray_lanes_are_the_reused_actors_when_there_are_some():
    """tune.run(reuse_actors=True): each (node, pid) ran one trial after another: a lane each."""
    reused = read_run(FIXTURES / "ray_run")
    assert not reused.lanes_inferred
    trials, _ = ray_trials("ray_run")
    pid_of = {int(i.rsplit("_", 1)[1]): rows[-1]["pid"] for i, (_, _, rows) in trials.items()}
    lane_pids = {}
    for segment in reused.trace.segments:
        lane_pids.setdefault(segment.worker, set()).add(pid_of[segment.trial_id])
    assert all(len(pids) == 1 for pids in lane_pids.values())
    fresh = read_run(FIXTURES / "ray_tuner")  # one actor per trial: the pids make no lanes
    assert fresh.lanes_inferred
    assert "lanes inferred" in fresh.trace.info["scheduler"]["name"]


# -- Syne Tune --------------------------------------------------------------------------------


def test_syne_tune_reports_equal_the_results_table():
    imported = read_run(FIXTURES / "syne_tune")
    rows = syne_rows()
    reports = reports_of(imported)
    assert len(imported.trace.results) == len(rows)
    by_trial = {}
    for row in rows:
        by_trial.setdefault(int(row["trial_id"]), []).append(row)
    assert set(reports) == set(by_trial)
    for trial_id, trial_rows in by_trial.items():
        mine = reports[trial_id]
        assert [r for _, r, _ in mine] == [int(row["epoch"]) for row in trial_rows]
        assert [m for _, _, m in mine] == [float(row["loss"]) for row in trial_rows]
        for (t, _, _), row in zip(mine, trial_rows):
            assert t == pytest.approx(float(row["st_worker_timestamp"]), abs=MS)


def test_syne_tune_jobs_and_decisions():
    imported = read_run(FIXTURES / "syne_tune")
    metadata = syne_metadata()
    assert imported.trace.info["imported"]["t0"] == metadata["st_tuner_start_timestamp"]
    assert imported.trace.mode == metadata["metric_mode"]
    max_t = metadata["scheduler_kwargs"]["max_t"]
    jobs = jobs_of(imported)
    for trial_id, trial_rows in _by_trial(syne_rows()).items():
        (job,) = jobs[trial_id]
        first, last = trial_rows[0], trial_rows[-1]
        started = float(first["st_worker_timestamp"]) - float(first["st_worker_time"])
        assert job.start == pytest.approx(started, abs=MS)
        assert job.end == pytest.approx(float(last["st_worker_timestamp"]), abs=MS)
        expected = (
            "returned"
            if int(last["epoch"]) >= max_t
            else {"STOP": "stopped", "CONTINUE": "cancelled"}[last["st_decision"]]
        )
        assert job.reason == expected


def _by_trial(rows):
    grouped = {}
    for row in rows:
        grouped.setdefault(int(row["trial_id"]), []).append(row)
    return grouped


# -- Optuna -----------------------------------------------------------------------------------

REASON = {"COMPLETE": "returned", "PRUNED": "stopped", "FAIL": "failed"}
STATE_NAMES = {1: "COMPLETE", 2: "PRUNED", 3: "FAIL"}


def _optuna_sources():
    db = optuna_db_trials()
    journal = {
        n: (STATE_NAMES[s], start, end, steps)
        for n, (s, start, end, steps, _) in optuna_journal_trials().items()
    }
    return [
        ("sqlite:///" + str(FIXTURES / "optuna" / "study.db"), db),
        (str(FIXTURES / "optuna" / "study.db"), db),
        (str(FIXTURES / "optuna" / "journal.log"), journal),
    ]


@pytest.mark.parametrize(("source", "raw"), _optuna_sources(), ids=["url", "db-file", "journal"])
def test_optuna_trials_equal_the_storage(source, raw):
    imported = read_run(source)
    reports, jobs = reports_of(imported), jobs_of(imported)
    assert len(imported.trace.results) == sum(len(steps) for *_, steps in raw.values())
    for number, (state, start, complete, steps) in raw.items():
        (job,) = jobs[number]
        assert job.start == pytest.approx(start, abs=MS)
        assert job.end == pytest.approx(complete, abs=MS)
        assert job.reason == REASON[state]
        mine = reports.get(number, [])
        assert [(r, m) for _, r, m in mine] == sorted(steps.items())
        # Optuna keeps no report times: evenly spread over the trial, the last at its end
        if mine:
            assert mine[-1][0] == pytest.approx(complete, abs=MS)
            assert all(start <= t <= complete + MS for t, _, _ in mine)
    assert any("intermediate value" in item for item in imported.missing)


def test_optuna_journal_lanes_are_its_threads():
    imported = read_run(FIXTURES / "optuna" / "journal.log")
    assert not imported.lanes_inferred
    workers = {n: w for n, (*_, w) in optuna_journal_trials().items()}
    lanes = {}
    for segment in imported.trace.segments:
        lanes.setdefault(segment.worker, set()).add(workers[segment.trial_id])
    assert all(len(names) == 1 for names in lanes.values())
    assert imported.trace.n_workers == len(set(workers.values())) == 3


def test_optuna_sqlite_lanes_are_inferred_and_configs_decoded():
    imported = read_run("sqlite:///" + str(FIXTURES / "optuna" / "study.db"))
    assert imported.lanes_inferred
    configs = [e.config for e in imported.trace.events if type(e).__name__ == "JobStarted"]
    assert all(set(c) == {"lr", "width"} for c in configs)
    assert all(isinstance(c["width"], int) and c["width"] in range(1, 6) for c in configs)
    assert all(1e-3 <= c["lr"] <= 1.0 for c in configs)


def test_optuna_sqlite_read_equals_optuna_own_api(tmp_path):
    """With Optuna installed: its own load_study sees the same trials as the direct reader."""
    optuna = pytest.importorskip("optuna", reason="optuna is not installed (peers check)")
    copy = tmp_path / "study.db"  # Optuna's storage may write (schema checks): never the fixture
    copy.write_bytes((FIXTURES / "optuna" / "study.db").read_bytes())
    study = optuna.load_study(study_name="toy", storage=f"sqlite:///{copy}")
    imported = read_optuna(str(FIXTURES / "optuna" / "study.db"))
    jobs, reports = jobs_of(imported), reports_of(imported)
    for trial in study.trials:
        (job,) = jobs[trial.number]
        assert job.start == pytest.approx(
            trial.datetime_start.replace(tzinfo=timezone.utc).timestamp(), abs=MS
        )
        assert [(r, m) for _, r, m in reports.get(trial.number, [])] == sorted(
            trial.intermediate_values.items()
        )
        started = next(
            e
            for e in imported.trace.events
            if type(e).__name__ == "JobStarted" and e.trial_id == trial.number
        )
        assert started.config == trial.params
    # any other database URL goes through Optuna's storage, and gives the same trace
    through_optuna = read_run(f"sqlite+pysqlite:///{copy}")
    assert through_optuna.trace.events == imported.trace.events


def test_every_import_keeps_the_trace_invariants():
    for source in (*RAY_RUNS, "syne_tune", "optuna/study.db", "optuna/journal.log"):
        trace = read_run(FIXTURES / source).trace
        times = [e.t for e in trace.events]
        assert times == sorted(times) and times[0] >= 0
        busy = trace.busy_time()
        assert busy + trace.idle_time == pytest.approx(trace.n_workers * trace.makespan)
        assert 0 < trace.idle_fraction < 1
        assert all(math.isfinite(row.metric) for row in trace.results)


def test_syne_tune_pause_ends_a_stretch(tmp_path):
    """Syne Tune 0.16's baselines never pause (the fixture has no PAUSE), so this copy of its
    results is edited the way a promotion-type scheduler writes them: trial 0 paused after
    epoch 2, resumed in a new worker process (st_worker_time starts again) 5 s later."""
    import csv
    import io
    import zipfile

    rows = syne_rows()
    trial = [row for row in rows if row["trial_id"] == "0"]
    trial[1]["st_decision"] = "PAUSE"
    for row in trial[2:]:
        row["st_worker_time"] = str(float(row["st_worker_time"]) - 0.5)
        row["st_worker_timestamp"] = str(float(row["st_worker_timestamp"]) + 5.0)
    folder = tmp_path / "syne"
    folder.mkdir()
    (folder / "metadata.json").write_text((FIXTURES / "syne_tune" / "metadata.json").read_text())
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    with zipfile.ZipFile(folder / "results.csv.zip", "w") as archive:
        archive.writestr("results.csv", text.getvalue())
    jobs = jobs_of(read_run(folder))[0]
    assert [(job.resume_from, job.resource, job.reason) for job in jobs] == [
        (0, 2, "milestone"),
        (2, 6, "returned"),
    ]
    assert jobs[0].end == pytest.approx(float(trial[1]["st_worker_timestamp"]), abs=MS)
    resumed = float(trial[2]["st_worker_timestamp"]) - float(trial[2]["st_worker_time"])
    assert jobs[1].start == pytest.approx(resumed, abs=MS)


def test_metric_and_mode_override_what_the_run_records():
    ray = read_run(FIXTURES / "ray_tuner", mode="max", metric="epoch")
    assert ray.trace.mode == "max" and ray.trace.metric == "epoch"
    assert [r.metric for r in ray.trace.results] == [float(r.resource) for r in ray.trace.results]
    assert not any("minimised" in item for item in ray.missing)
    assert read_run(FIXTURES / "syne_tune", mode="max").trace.mode == "max"
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'up'"):
        read_run(FIXTURES / "ray_tuner", mode="up")
    with pytest.raises(ValueError, match=r"results.csv.zip: lacks column\(s\) \['accuracy'\]"):
        read_run(FIXTURES / "syne_tune", metric="accuracy")
    with pytest.raises(ValueError, match=r"result.json: result 1 lacks \['accuracy'\]"):
        read_run(FIXTURES / "ray_tuner", metric="accuracy")
