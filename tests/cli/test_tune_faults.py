"""``ashasim tune`` when things go wrong: a resume from another shell, bad input refused in one
line before anything is written, damaged runs refused, runs in which every trial failed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ashasim.events import JOURNAL, load_experiment

ROOT = Path(__file__).resolve().parents[2]
# What the installed ``ashasim`` console script does: unlike ``python -m ashasim`` it does not
# put the working directory on sys.path (sys.path[0] is the script's own folder).
CONSOLE_SCRIPT = "import sys\nfrom ashasim.cli import main\nsys.exit(main())\n"

OBJECTIVE = """
import time

from ashasim import Reporter


def objective(x, max_epochs, pace=0.0):
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        time.sleep(pace)
        report(epoch=epoch, loss=x + 1.0 / epoch)
"""


def ashasim(tmp_path: Path, *args: object, cwd: Path) -> subprocess.Popen:
    script = tmp_path / "bin" / "ashasim"
    script.parent.mkdir(exist_ok=True)
    script.write_text(CONSOLE_SCRIPT)
    return subprocess.Popen(
        [sys.executable, str(script), *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr


@pytest.mark.slow
def test_a_run_of_your_own_objective_resumes_from_any_directory(tmp_path):
    """Issue 10, item 1: ``ashasim tune --objective my_objective:objective`` from the folder that
    holds it, Ctrl-C, then ``--resume`` through the console script: from that folder, and from
    elsewhere (the run recorded where the module came from). Once the module is gone, resume
    says so in one line (exit 2)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "my_objective.py").write_text(OBJECTIVE)
    (project / "space.json").write_text('{"x": {"uniform": [0, 1]}, "max_epochs": 4, "pace": 0.1}')
    out = project / "runs" / "r1"
    first = ashasim(
        tmp_path,
        "tune",
        "--objective",
        "my_objective:objective",
        "--space",
        "space.json",
        "--metric",
        "loss",
        "--workers",
        2,
        "--devices",
        "cpu",
        "--max-trials",
        8,
        "--out",
        "runs/r1",
        "--quiet",
        cwd=project,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        journal = out / JOURNAL
        if journal.exists() and journal.read_text().count('"reported"') >= 3:
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)
    code, stderr = finish(first)
    assert code == 130, stderr
    assert "Continue with: ashasim tune --resume runs/r1" in stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, stderr = finish(ashasim(tmp_path, "tune", "--resume", out, "--quiet", cwd=elsewhere))
    assert code == 0, stderr
    assert len(load_experiment(out).trial_ids) == 8
    (project / "my_objective.py").rename(project / "moved.py")
    code, stderr = finish(ashasim(tmp_path, "tune", "--resume", out, "--quiet", cwd=elsewhere))
    assert code == 2
    assert stderr.strip().splitlines() == [
        f"ashasim tune: error: cannot load the objective my_objective:objective (it came from "
        f"{project / 'my_objective.py'}): ModuleNotFoundError: No module named 'my_objective'; "
        f"put its folder on PYTHONPATH or resume from the directory the run was started in"
    ]


def tune(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "ashasim", "tune", *map(str, args)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--objective", "my_objective:objective", "--space", "space.json", "--max-t", 20],
            "--max-t 20 contradicts the space's max_epochs = 3",
        ),
        (["--objective", "my_objective:objective", "--space", "nowhere.json"], "no such file"),
        (["--objective", "my_objective:objective", "--space", "."], "is a directory"),
        (["--objective", "my_objective:objective", "--space", "list.json"], "a JSON object"),
        (
            ["--objective", "broken:objective", "--space", "space.json"],
            "--objective: importing 'broken' raised ZeroDivisionError: division by zero",
        ),
        (
            [
                "--objective",
                "my_objective:objective",
                "--space",
                "space.json",
                "--devices",
                "cuda:99",
            ],
            "devices: cuda:99 is not a GPU of this machine",
        ),
        (
            [
                "--objective",
                "my_objective:objective",
                "--space",
                "space.json",
                "--trial-timeout",
                0,
            ],
            "argument --trial-timeout: expected a finite number > 0",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything_is_written(tmp_path, args, message):
    (tmp_path / "my_objective.py").write_text(OBJECTIVE)
    (tmp_path / "broken.py").write_text("1 / 0\n")
    (tmp_path / "space.json").write_text('{"x": {"uniform": [0, 1]}, "max_epochs": 3}')
    (tmp_path / "list.json").write_text("[1, 2]")
    if "--devices" in args:
        pytest.importorskip("torch", reason="GPUs are counted with torch")
    done = tune(tmp_path, *args, "--metric", "loss", "--max-trials", 1, "--out", "run")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ashasim tune: error")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr  # argparse: + usage
    assert not (tmp_path / "run").exists()


def test_resume_of_a_damaged_run_is_one_line_and_exit_2(tmp_path):
    from ashasim.run import Tuner
    from tests.run.faults import SPACE, objective, scheduler_for

    Tuner(
        objective, SPACE, scheduler_for("asha"), 1, backend="fake", experiment_dir=tmp_path / "run"
    ).run()
    journal = tmp_path / "run" / JOURNAL
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join([*lines[:3], "garbage\n", *lines[3:]]))
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    done = tune(tmp_path, "--resume", "run")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "journal.jsonl:4: not a journal event" in lines[0]
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()} == before


@pytest.mark.slow
def test_a_run_in_which_every_trial_failed_exits_1_with_the_last_error(tmp_path):
    """A --metric the objective never reports: every trial fails, fewer than max_failures."""
    (tmp_path / "my_objective.py").write_text(OBJECTIVE)
    (tmp_path / "space.json").write_text('{"x": {"uniform": [0, 1]}, "max_epochs": 3}')
    done = tune(
        tmp_path,
        *("--objective", "my_objective:objective", "--space", "space.json"),
        *("--metric", "accuracy", "--max-trials", 2, "--workers", 1, "--devices", "cpu"),
        *("--out", "run", "--quiet"),
    )
    assert done.returncode == 1
    assert "ashasim tune: error: every trial failed (2 of 2)" in done.stderr
    assert "has no 'accuracy', the metric the scheduler optimizes" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_refused_run_removes_its_empty_directory_only_if_no_driver_holds_it(tmp_path):
    """Two drivers started at once on one new directory: the one that made it may lose the lock
    to the other, which has not written anything yet; removing the 'empty' directory then made
    the winner's run fail (CI saw exit codes [1, 2] once). It stays while a driver holds it."""
    from ashasim.cli.tune import _remove_if_unused
    from ashasim.run.lock import RunLock

    held = tmp_path / "held"
    held.mkdir()
    with RunLock(held):
        _remove_if_unused(held)
        assert held.is_dir()
    _remove_if_unused(held)
    assert not held.exists()
    full = tmp_path / "full"
    full.mkdir()
    (full / "journal.jsonl").write_text("")
    _remove_if_unused(full)
    assert full.is_dir()
    _remove_if_unused(tmp_path / "gone")  # already removed: nothing to do, no error
