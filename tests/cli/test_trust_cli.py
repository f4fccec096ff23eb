"""``ashasim tune`` and a run directory it did not write, or a working directory full of files:
``--resume`` runs no pickle without ``--trust-run-dir``, and the objective is imported from the
working directory without that directory shadowing the standard library."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from ashasim.events import JOURNAL

SCRIPT = Path(sys.executable).with_name("ashasim")  # the console script: no cwd on sys.path

OBJECTIVE = """
from ashasim.run import Reporter


def objective(x, max_epochs):
    import concurrent.futures  # the standard library's, not the file beside this one

    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        report(epoch=epoch, loss=x + 1.0 / epoch)
"""


def tune(*args, cwd):
    return subprocess.run(
        [str(SCRIPT), "tune", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )


class Marker:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_resume_of_a_crafted_tuner_pkl_runs_nothing(tmp_path):
    directory = tmp_path / "run"
    directory.mkdir()
    marker = tmp_path / "marker"
    (directory / "tuner.pkl").write_bytes(pickle.dumps(Marker(marker)))
    (directory / JOURNAL).write_text(json.dumps({"kind": "header"}) + "\n")
    done = tune("--resume", directory, "--quiet", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--trust-run-dir" in lines[0], done.stderr
    assert not marker.exists()


def test_a_file_named_like_a_standard_module_beside_the_objective_is_not_imported(tmp_path):
    (tmp_path / "my_objective.py").write_text(OBJECTIVE)
    (tmp_path / "concurrent.py").write_text("raise SystemExit('the wrong concurrent')\n")
    (tmp_path / "space.json").write_text('{"x": {"uniform": [0, 1]}, "max_epochs": 2}')
    out = tmp_path / "run"
    common = ("--space", "space.json", "--metric", "loss", "--devices", "cpu", "--quiet")
    done = tune(
        "--objective", "my_objective:objective", *common, "--workers", 1, "--max-trials", 3,
        "--out", out, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "summary.json").read_text())["trials"] == 3
    recorded = json.loads((out / "settings.json").read_text())["values"]["function"]
    assert recorded["import"] == {
        "name": "my_objective:objective",
        "folder": str(tmp_path.resolve()),
    }
    clash = tune("--objective", "concurrent:objective", *common, cwd=tmp_path)
    assert clash.returncode == 2
    assert f"{tmp_path.resolve() / 'concurrent.py'} is shadowed by" in clash.stderr
    assert len(clash.stderr.strip().splitlines()) == 1, clash.stderr
