"""Fault injection with real processes (``python -m ashasim tune``, local worker processes): drivers
killed by SIGKILL at random moments and resumed, SIGTERM and Ctrl-C, two drivers on one
directory, and no process of a run left behind."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ashasim.core import make_scheduler
from ashasim.events import JOURNAL, load_experiment
from ashasim.run import StoppingCriterion, Tuner
from ashasim.space import space_from_json
from tests.run import objectives
from tests.run.faults import check_nothing_lost_or_twice, check_paper_rule, results

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

ROOT = Path(__file__).resolve().parents[2]
SPACE_JSON = {"x": {"uniform": [0, 1]}, "max_epochs": 4}
PACED = {**SPACE_JSON, "sleep": 0.1}  # quadratic's epochs: 0.1 s (no checkpoints: no torch)


def start(
    out: Path, objective: str, *extra: object, stderr=None, space_json=SPACE_JSON
) -> subprocess.Popen:
    """``ashasim tune`` on two CPU workers, in a session of its own (so its processes can be
    found), the working directory the repository (so ``tests.run.objectives`` imports)."""
    space = out.parent / "space.json"
    space.write_text(json.dumps(space_json))
    command = [sys.executable, "-m", "ashasim", "tune", "--objective", objective]
    command += ["--space", space, "--metric", "loss", "--workers", 2, "--devices", "cpu"]
    command += ["--out", out, "--quiet", *extra]
    return launch(command, stderr)


def launch(command, stderr=None) -> subprocess.Popen:
    return subprocess.Popen(
        [str(part) for part in command],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=stderr if stderr is not None else subprocess.DEVNULL,
    )


def resume_command(out: Path, *extra: object) -> list:
    return [sys.executable, "-m", "ashasim", "tune", "--resume", out, "--quiet", *extra]


def session(sid: int) -> list[int]:
    """Processes of the session ``sid`` (the driver's pid: it started it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def wait_until_gone(sid: int, timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = session(sid)
        if not left:
            return []
        time.sleep(0.1)
    return session(sid)


def wait_for_reports(journal: Path, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count('"reported"') >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} reports in {journal}")


def run(command, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_no_process_of_the_run_survives_a_sigkill_of_its_driver(tmp_path):
    """Workers stuck in the objective (it hangs) and multiprocessing's resource tracker: all of
    them end within seconds of the driver's SIGKILL, none is left reparented to init."""
    out = tmp_path / "run"
    driver = start(out, "tests.run.objectives:hangs", "--max-trials", 4)
    wait_for_reports(out / JOURNAL, 2)
    time.sleep(0.5)  # the workers are inside time.sleep(3600) now
    assert len(session(driver.pid)) >= 4  # driver, resource tracker, two workers
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    assert wait_until_gone(driver.pid) == []


@pytest.mark.slow
def test_sigterm_stops_the_run_like_ctrl_c(tmp_path):
    """SIGTERM: running jobs cancelled in the journal, workers shut down, exit status 143 and a
    hint on how to continue; the run then resumes to its end."""
    out = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr:
        driver = start(
            out,
            "tests.run.objectives:quadratic",
            "--max-trials",
            4,
            stderr=stderr,
            space_json=PACED,
        )
        wait_for_reports(out / JOURNAL, 2)
        driver.send_signal(signal.SIGTERM)
        assert driver.wait(timeout=60) == 143
    assert "terminated; the journal is intact. Continue with: ashasim tune --resume" in (
        log.read_text()
    )
    assert "Traceback" not in log.read_text()
    assert wait_until_gone(driver.pid) == []
    trace = load_experiment(out)
    assert all(s.reason != "running" for s in trace.segments)
    errors = [e.error for e in trace.events if type(e).__name__ == "JobEnded"]
    assert "the run stopped: terminated (SIGTERM)" in errors
    resumed = Tuner.resume(out, quiet=True, outputs=False)
    assert len(resumed.trial_ids) == 4
    check_nothing_lost_or_twice(trace, resumed)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_ctrl_c_while_the_workers_start_prints_no_traceback(tmp_path, delay):
    """Ctrl-C (SIGINT to the whole foreground process group) right as the workers are being
    started: the driver stops with status 130 and its one message; no worker prints a
    traceback, none is left behind."""
    out = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr:
        driver = start(out, "tests.run.objectives:hangs", "--max-trials", 4, stderr=stderr)
        while not (out / JOURNAL).exists():
            time.sleep(0.005)
        time.sleep(delay)
        os.killpg(driver.pid, signal.SIGINT)
        assert driver.wait(timeout=60) == 130
    assert wait_until_gone(driver.pid) == []
    text = log.read_text()
    assert "Traceback" not in text, text
    assert "interrupted; the journal is intact" in text


@pytest.mark.slow
def test_two_drivers_started_together_on_one_directory_exactly_one_runs(tmp_path):
    """Both pass the "already holds a run" check; the lock lets one through, the other says so
    in one line (exit 2) and leaves the run alone."""
    out = tmp_path / "run"
    logs = [tmp_path / f"stderr{k}.txt" for k in range(2)]
    handles = [open(log, "w") for log in logs]  # noqa: SIM115
    try:
        drivers = [
            start(out, "tests.run.objectives:quadratic", "--max-trials", 4, stderr=handle)
            for handle in handles
        ]
        codes = sorted(driver.wait(timeout=120) for driver in drivers)
    finally:
        for handle in handles:
            handle.close()
    assert codes == [0, 2], [log.read_text()[-2000:] for log in logs]  # what each one said
    loser = next(log.read_text() for log in logs if "error" in log.read_text())
    lines = [line for line in loser.splitlines() if line.startswith("ashasim tune: error")]
    assert len(lines) == 1
    assert "in use by another ashasim driver" in lines[0] or "already holds a run" in lines[0]
    assert "Traceback" not in loser
    trace = load_experiment(out)
    assert len(trace.trial_ids) == 4
    again = run(resume_command(out))
    assert again.returncode == 0, again.stderr
    assert load_experiment(out) == trace  # nothing left to do, nothing added


@pytest.mark.slow
def test_resume_of_a_run_that_is_still_going_is_refused(tmp_path):
    """The run cannot end by itself (its trials hang), so it is certainly going when the resume
    comes; the resume is refused in one line naming the driver, which goes on undisturbed."""
    out = tmp_path / "run"
    driver = start(out, "tests.run.objectives:hangs", "--max-trials", 4)
    wait_for_reports(out / JOURNAL, 2)
    journal = (out / JOURNAL).read_bytes()
    second = run(resume_command(out))
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"ashasim tune: error: {out} is in use by another ashasim driver (process "
        f"{driver.pid}); one driver per run directory: wait for it to end, or stop it first"
    ]
    assert (out / JOURNAL).read_bytes().startswith(journal)  # only the driver wrote there
    assert driver.poll() is None
    driver.send_signal(signal.SIGTERM)
    assert driver.wait(timeout=60) == 143
    trace = load_experiment(out)
    assert all(s.reason != "running" for s in trace.segments)


KINDS = ["asha", "asha-stopping", "sync-sh", "sync-hyperband", "random"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_driver_killed_at_random_moments_resumes_and_loses_nothing(tmp_path, kind):
    """SIGKILL of the driver process (and only of it) twice at random moments, each time
    resumed from the command line; the third execution completes. No process survives a kill;
    nothing journaled is lost or made twice; every decision follows the paper's rule; where
    the results do not depend on the order of reports they equal an uninterrupted run's."""
    rng = random.Random(kind)
    out = tmp_path / "run"
    flags = ["--scheduler", kind, "--eta", 2, "--grace-period", 1, "--overlap", "none"]
    flags += ["--seed", 3, "--max-trials", 10]
    driver = start(out, "tests.run.objectives:quadratic", *flags, space_json=PACED)
    snapshots = []
    for kill in range(2):
        before = len(snapshots[-1].results) if snapshots else 0
        wait_for_reports(out / JOURNAL, before + rng.randint(2, 3))
        time.sleep(rng.uniform(0.0, 0.2))
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
        assert wait_until_gone(driver.pid) == [], f"kill {kill}: processes left"
        snapshots.append(load_experiment(out))
        assert any(s.reason == "running" for s in snapshots[-1].segments), "killed mid-run"
        if kill == 0:
            driver = launch(resume_command(out))
    trace = Tuner.resume(out, quiet=True, outputs=False)  # the third execution completes
    assert load_experiment(out) == trace
    for snapshot in snapshots:
        check_nothing_lost_or_twice(snapshot, trace)
    check_paper_rule(out)
    assert len(trace.trial_ids) == 10
    if kind in ("sync-sh", "sync-hyperband", "random"):
        assert results(trace) == results(_uninterrupted(tmp_path / "reference", kind))


def _uninterrupted(directory: Path, kind: str):
    """The same run, uninterrupted, on the FakeBackend (the same configs and metrics)."""
    space = space_from_json(PACED)
    scheduler = make_scheduler(
        kind,
        space,
        max_t=4,
        grace_period=1,
        reduction_factor=2,
        overlap="none",
        metric="loss",
        seed=3,
    )
    return Tuner(  # --max-trials, as the command line applies it
        instant,
        space,
        scheduler,
        2,
        stop=StoppingCriterion(max_trials=10),
        backend="fake",
        experiment_dir=directory,
        quiet=True,
        outputs=False,
    ).run()


def instant(x: float, max_epochs: int, sleep: float) -> None:
    """quadratic without its sleep: the same reports, at once."""
    objectives.quadratic(x, max_epochs)


@pytest.mark.slow
def test_a_hung_objective_is_ended_by_the_time_limit_and_its_worker_replaced(tmp_path):
    """Real processes: trial 1 hangs in time.sleep(3600). With trial_timeout=2 the run ends by
    itself: trial 1 failed with the limit named, its worker process killed and replaced."""
    space = space_from_json({**SPACE_JSON, "hang_trial": 1})
    scheduler = make_scheduler("random", space, max_t=4, metric="loss")
    start_time = time.monotonic()
    trace = Tuner(
        objectives.hangs,
        space,
        scheduler,
        2,
        devices="cpu",
        stop=StoppingCriterion(max_trials=4),
        experiment_dir=tmp_path / "run",
        quiet=True,
        outputs=False,
        trial_timeout=2,
    ).run()
    assert time.monotonic() - start_time < 60
    failed = [e for e in trace.events if type(e).__name__ == "JobEnded" and e.reason == "failed"]
    assert [e.trial_id for e in failed] == [1]
    assert "ran past its time limit (trial_timeout=2 s)" in failed[0].error
    assert sorted(s.trial_id for s in trace.segments if s.reason == "milestone") == [0, 2, 3]
