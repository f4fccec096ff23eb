"""No orphans (``ashasim.run.groups``): a process the objective starts dies at the end of its job,
when its worker is killed, and when the driver is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ashasim.core import make_scheduler
from ashasim.run import StoppingCriterion, Tuner
from tests.run import objectives

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups via /proc"),
]


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def gone_within(pids, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def sleepers(pid_dir: Path, count: int, seconds: float = 60.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        files = sorted(pid_dir.glob("*.pid"))
        if len(files) >= count and all(f.read_text() for f in files):
            return [int(f.read_text()) for f in files]
        time.sleep(0.05)
    raise AssertionError(f"no {count} sleepers in {pid_dir}")


def test_a_process_the_objective_started_dies_when_its_job_ends(tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    space = {"x": 0.5, "max_epochs": 2, "pid_dir": str(pid_dir)}
    scheduler = make_scheduler("random", space, max_t=2, metric="loss", seed=0)
    Tuner(
        objectives.starts_a_sleeper,
        space,
        scheduler,
        1,
        stop=StoppingCriterion(max_trials=2),
        devices="cpu",
        experiment_dir=tmp_path / "run",
        quiet=True,
        outputs=False,
    ).run()
    pids = sleepers(pid_dir, 2)
    assert gone_within(pids), [pid for pid in pids if alive(pid)]


DRIVER = """
import sys
from ashasim.core import make_scheduler
from ashasim.run import StoppingCriterion, Tuner
from tests.run import objectives

space = {{"x": 0.5, "max_epochs": 4, "pid_dir": {pid_dir!r}, "hang": True}}
scheduler = make_scheduler("random", space, max_t=4, metric="loss", seed=0)
Tuner(objectives.starts_a_sleeper, space, scheduler, 2, stop=StoppingCriterion(max_trials=2),
      devices="cpu", experiment_dir={run!r}, quiet=True).run()
"""


def test_processes_the_objective_started_die_with_a_sigkilled_driver(tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    script = DRIVER.format(pid_dir=str(pid_dir), run=str(tmp_path / "run"))
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        pids = sleepers(pid_dir, 2)
        assert all(alive(pid) for pid in pids)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=10)
        assert gone_within(pids), [pid for pid in pids if alive(pid)]
    finally:
        if driver.poll() is None:
            driver.kill()
