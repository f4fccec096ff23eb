"""A driver on ``--backend ray`` killed from outside: SIGTERM ends it as on the local backend
(status 143, the resume hint, no native stack dump), and a SIGKILL leaves none of the Ray
processes of the local instance it started (Ray's GCS server, raylet, agents, actors)."""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'ashasim[ray]')")

from ashasim.events import JOURNAL, load_experiment
from tests.run.test_faults_process import PACED, session, start, wait_for_reports

pytestmark = [
    pytest.mark.ray,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


@pytest.fixture
def ray_tmp(monkeypatch):
    """A Ray temp folder of the test's own (short: Ray's socket paths must fit 107 bytes), so
    the instance's processes are known by their command lines."""
    folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    monkeypatch.setenv("RAY_TMPDIR", folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def ray_processes(driver: int, folder: str) -> list[int]:
    """The driver's session, and every process whose command line names the Ray folder (the
    GCS server, raylet and monitors; agents and actors rename themselves ``ray::...`` but stay
    in the session)."""
    found = set(session(driver))
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if folder.encode() in (entry / "cmdline").read_bytes():
                    found.add(int(entry.name))
            except OSError:
                continue
    return sorted(found)


def wait_until_none(driver: int, folder: str, timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and ray_processes(driver, folder):
        time.sleep(0.2)
    return ray_processes(driver, folder)


def test_a_sigkilled_driver_leaves_no_ray_process_behind(tmp_path, ray_tmp):
    out = tmp_path / "run"
    driver = start(out, "tests.run.objectives:hangs", "--max-trials", 4, "--backend", "ray")
    wait_for_reports(out / JOURNAL, 1)
    time.sleep(1.0)  # the actors are inside the hang now
    assert len(ray_processes(driver.pid, ray_tmp)) >= 6  # driver, GCS, raylet, agents, actors
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    assert wait_until_none(driver.pid, ray_tmp) == []


def test_sigterm_exits_143_with_the_hint_and_no_stack_dump(tmp_path, ray_tmp):
    out = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr:
        driver = start(
            out,
            "tests.run.objectives:quadratic",
            "--max-trials",
            4,
            "--backend",
            "ray",
            stderr=stderr,
            space_json=PACED,
        )
        wait_for_reports(out / JOURNAL, 2)
        driver.send_signal(signal.SIGTERM)
        assert driver.wait(timeout=60) == 143
    text = log.read_text()
    assert "terminated; the journal is intact. Continue with: ashasim tune --resume" in text
    assert "SIGTERM received" not in text and "Traceback" not in text
    assert all(s.reason != "running" for s in load_experiment(out).segments)  # all ended
    assert wait_until_none(driver.pid, ray_tmp) == []
