"""Bad input at the command line, as a table: input -> exit status and the one line that says
what is wrong, with nothing written (issue 27). A new option's bad values join ``CASES``.

Each case runs ``ashasim.cli.main`` in this process, in a fresh folder that holds an objective
module, its spaces, a plain file (``afile``) and a small finished run (``run``); the folder's
files are compared before and after, so a refused command provably wrote nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ashasim.checks import MAX_WORKERS
from ashasim.cli import main
from ashasim.core import make_scheduler
from ashasim.run import StoppingCriterion, Tuner
from ashasim.space import uniform

ROOT = Path(__file__).resolve().parents[2]
MODULE = "bad_input_objective"
OBJECTIVE = """
from ashasim import Reporter


def objective(x, max_epochs):
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        report(epoch=epoch, loss=x + 1.0 / epoch)
"""
SPACES = {
    "space.json": '{"x": {"uniform": [0, 1]}, "max_epochs": 3}',
    "space_without_x.json": '{"y": {"uniform": [0, 1]}, "max_epochs": 3}',
    "space_with_z.json": '{"x": {"uniform": [0, 1]}, "z": 2, "max_epochs": 3}',
}
OBJECTIVE_FLAGS = ["tune", "--objective", f"{MODULE}:objective"]
TUNE = [
    *OBJECTIVE_FLAGS,
    "--space",
    "space.json",
    "--metric",
    "loss",
    "--max-trials",
    "2",
    "--devices",
    "cpu",
]
TOO_MANY = str(10**12)


def nest_a_journal_line(folder: Path) -> None:
    with open(folder / "run" / "journal.jsonl", "a") as journal:
        journal.write("[" * 100_000 + "]" * 100_000 + "\n" + '{"event": "job_started"}\n')


def flip_a_bit_of_the_settings(folder: Path) -> None:
    path = folder / "run" / "settings.json"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def flip_a_bit_of_a_saved_name(folder: Path) -> None:
    """A flip that leaves JSON that still parses, with a misspelt key (n_wobkers)."""
    path = folder / "run" / "settings.json"
    data = path.read_bytes()
    at = data.index(b"n_workers") + 3
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])


def lock_file_as_a_directory(folder: Path) -> None:
    (folder / "run" / "driver.lock").unlink(missing_ok=True)
    (folder / "run" / "driver.lock").mkdir()


def no_change(folder: Path) -> None:
    pass


def resume(*flags: str) -> list[str]:
    return ["tune", "--resume", "run", *flags]


# (id, argv, damage done to the folder first, exit status, what the one line says)
CASES: list[tuple[str, list[str], Callable[[Path], None], int, str]] = [
    (
        "out-is-a-file",
        [*TUNE, "--out", "afile"],
        no_change,
        2,
        "--out afile is a file, not a directory",
    ),
    ("out-below-a-file", [*TUNE, "--out", "afile/x"], no_change, 2, "is below afile, which is a"),
    ("out-in-proc", [*TUNE, "--out", "/proc/x"], no_change, 2, "--out /proc/x: cannot create it"),
    ("out-empty", [*TUNE, "--out", ""], no_change, 2, "argument --out: expected a path, got an"),
    (
        "simulate-out-is-a-file",
        ["simulate", "--max-trials", "3", "--out", "afile"],
        no_change,
        2,
        "--out afile is a file, not a directory",
    ),
    ("simulate-out-empty", ["simulate", "--out", ""], no_change, 2, "argument --out: expected a"),
    (
        "compare-out-is-a-file",
        ["compare", "--seeds", "1", "--workers", "2", "--out", "afile"],
        no_change,
        2,
        "--out afile is a file, not a directory",
    ),
    ("reproduce-out-empty", ["reproduce", "--out", ""], no_change, 2, "argument --out: expected"),
    ("import-out-empty", ["import", "x", "--out", ""], no_change, 2, "argument --out: expected"),
    *(
        (
            f"{command}-workers-too-many",
            [*argv, "--workers", TOO_MANY],
            no_change,
            2,
            f"argument --workers: expected an integer in 1..{MAX_WORKERS}, got {TOO_MANY}",
        )
        for command, argv in (("tune", TUNE), ("simulate", ["simulate"]), ("compare", ["compare"]))
    ),
    (
        "space-dev-zero",
        [*OBJECTIVE_FLAGS, "--space", "/dev/zero"],
        no_change,
        2,
        "larger than 1 MiB",
    ),
    (
        "space-empty-path",
        [*OBJECTIVE_FLAGS, "--space", ""],
        no_change,
        2,
        "expected a path, got an",
    ),
    (
        "metric-is-the-resource",
        [*TUNE, "--metric", "epoch"],
        no_change,
        2,
        "--metric epoch is the resource (what a report counts progress in)",
    ),
    ("data-with-objective", [*TUNE, "--data", "."], no_change, 2, "--data goes with the built-in"),
    ("subset-with-objective", [*TUNE, "--subset", "9"], no_change, 2, "--subset goes with the"),
    (
        "workload-with-objective",
        [*TUNE, "--workload", "fashion-mnist"],
        no_change,
        2,
        "--workload and --objective are two choices",
    ),
    (
        "builtin-with-another-metric",
        ["tune", "--metric", "loss"],
        no_change,
        2,
        "--metric loss: the built-in workload reports validation_error only",
    ),
    (
        "objective-lacks-a-parameter",
        [*OBJECTIVE_FLAGS, "--space", "space_without_x.json", "--metric", "loss"],
        no_change,
        2,
        "objective() needs parameter 'x', which the search space does not have",
    ),
    (
        "objective-takes-no-such-parameter",
        [*OBJECTIVE_FLAGS, "--space", "space_with_z.json", "--metric", "loss"],
        no_change,
        2,
        "objective() takes no parameter 'z' of the search space",
    ),
    *(
        (
            f"resume-{flag[2:]}",
            resume(flag, *values),
            no_change,
            2,
            f"{flag} cannot change on resume: the run in run keeps its saved settings",
        )
        for flag, *values in (
            ("--workers", "3"),
            ("--scheduler", "asha"),
            ("--objective", f"{MODULE}:objective"),
            ("--space", "space.json"),
            ("--seed", "1"),
            ("--metric", "loss"),
            ("--eta", "2"),
            ("--mode", "max"),
            ("--devices", "cpu"),
            ("--backend", "local"),
            ("--out", "elsewhere"),
        )
    ),
    ("resume-empty", ["tune", "--resume", ""], no_change, 2, "argument --resume: expected a path"),
    (
        "resume-nested-json",
        resume(),
        nest_a_journal_line,
        2,
        "journal.jsonl:",  # the line's number, then:
    ),
    ("resume-bit-flip", resume(), flip_a_bit_of_the_settings, 2, "settings.json is damaged"),
    (
        "resume-bit-flip-in-a-name",
        resume(),
        flip_a_bit_of_a_saved_name,
        2,
        "settings.json is damaged",
    ),
    ("resume-lock-is-a-directory", resume(), lock_file_as_a_directory, 1, "cannot lock"),
    (
        "simulate-max-results-zero",
        ["simulate", "--max-results", "0"],
        no_change,
        2,
        "argument --max-results: expected an integer >= 1, got 0",
    ),
    (
        "simulate-stop-below-nan",
        ["simulate", "--max-time", "5", "--stop-below", "nan"],
        no_change,
        2,
        "argument --stop-below: expected a finite number, got 'nan'",
    ),
    (
        "simulate-only-a-threshold",
        ["simulate", "--stop-below", "0.1"],
        no_change,
        2,
        "give --max-time, --max-trials, --max-results, --max-completed or --max-finished",
    ),
    (
        "tune-max-completed-zero",
        [*TUNE, "--max-completed", "0"],
        no_change,
        2,
        "argument --max-completed: expected an integer >= 1, got 0",
    ),
]
# what else the one line of these says
ALSO = {
    "resume-nested-json": "not a journal event (nested too deeply)",
}


def finished_run(directory: Path) -> None:
    """A small run of the folder's objective on the in-process backend (virtual clock), stopped
    by its time limit."""
    sys.path.insert(0, str(directory.parent))
    try:
        module = __import__(MODULE)
    finally:
        sys.path.remove(str(directory.parent))
    space = {"x": uniform(0.0, 1.0), "max_epochs": 3}
    scheduler = make_scheduler("asha", space, metric="loss", max_t=3)
    Tuner(
        module.objective,
        space,
        scheduler,
        2,
        stop=StoppingCriterion(max_wallclock_time=2.5),
        backend="fake",
        experiment_dir=directory,
        quiet=True,
    ).run()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    (folder / f"{MODULE}.py").write_text(OBJECTIVE)
    for name, text in SPACES.items():
        (folder / name).write_text(text)
    (folder / "afile").write_text("not a directory\n")
    finished_run(folder / "run")
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under *folder* with a digest of its bytes (a directory: its kind)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        relative = str(path.relative_to(folder))
        found[relative] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.parametrize(
    ("argv", "damage", "status", "line"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_one_line_and_writes_nothing(
    template, tmp_path, monkeypatch, capsys, argv, damage, status, line
):
    import shutil

    folder = tmp_path / "folder"
    shutil.copytree(template, folder, symlinks=True)
    damage(folder)
    monkeypatch.chdir(folder)
    # tune puts the folder on sys.path; each case has its own folder, so neither the template's
    # module (its finished run imported it) nor `python -m pytest`'s '' entry may answer for it
    others = ("", ".", str(template), str(template.resolve()))
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in others])
    monkeypatch.delitem(sys.modules, "bad_input_objective", raising=False)
    importlib.invalidate_caches()
    before = snapshot(folder)
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main(argv))
    stderr = capsys.readouterr().err
    lines = [text for text in stderr.splitlines() if text.strip()]
    assert exited.value.code == status, stderr
    assert len(lines) == 1, stderr
    assert line in lines[0]
    case = next(case[0] for case in CASES if case[1] == argv and case[2] is damage)
    assert ALSO.get(case, "") in lines[0]
    assert snapshot(folder) == before  # nothing written, nothing removed


def test_every_limit_is_said_in_help(capsys):
    """The bounds that keep bad input from exhausting the machine are in ``--help``."""
    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"at most {MAX_WORKERS} workers" in text
    assert "--space file of at most 1 MiB" in text
    assert "journaled up to 64 KiB" in text
    for command in ("simulate", "compare"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert f"1..{MAX_WORKERS}" in capsys.readouterr().out


def test_resume_honours_a_longer_time_limit(template, tmp_path, monkeypatch, capsys):
    """What a resume can change it does: a longer time limit runs on."""
    import shutil

    from ashasim.events import load_experiment

    folder = tmp_path / "folder"
    shutil.copytree(template, folder)
    monkeypatch.chdir(folder)
    before = load_experiment(folder / "run").summary()["reports"]
    assert main(["tune", "--resume", "run", "--max-wallclock", "8", "--quiet"]) == 0
    assert load_experiment(folder / "run").summary()["reports"] > before, capsys.readouterr()


def test_resume_passes_what_it_may_change(template, monkeypatch):
    """The flags a resume honours reach ``Experiment.resume`` as its changes."""
    from ashasim.experiment import Experiment, Stop

    asked = {}

    def resume(directory, **changes):
        asked.update(changes, directory=directory)
        raise KeyboardInterrupt  # stop here: only the changes are under test

    monkeypatch.setattr(Experiment, "resume", resume)
    argv = [
        *("tune", "--resume", str(template / "run"), "--max-trials", "4", "--max-wallclock"),
        *("60", "--trial-timeout", "5", "--max-retries", "2", "--retry-on-error", "--durable"),
        *("--max-results", "40", "--stop-above", "0.9"),
    ]
    assert main(argv) == 130
    assert asked["stop"] == Stop(time=60.0, trials=4, results=40, metric_above=0.9)
    assert asked["faults"] == {"trial_timeout": 5.0, "max_retries": 2, "retry_on_error": True}
    assert asked["durable"] is True


def test_ctrl_c_before_the_command_runs_is_one_line(monkeypatch, capsys):
    """Ctrl-C while the command line is still being read (imports, parsing): exit 130."""

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("ashasim.cli.build_parser", interrupted)
    assert main(["simulate"]) == 130
    assert capsys.readouterr().err.strip() == "ashasim: interrupted"


# Once Python starts shutting down it puts SIGINT back to the system default, so a Ctrl-C that
# lands then ends the process by the signal, silently (status -2 here; a shell reports 130, as for
# the handled case). Seen in CI after a finished run, and at will: a script that exits while it is
# sent SIGINT every 0.2 ms ended by the signal in 20 of 20 runs, 17 of them printing nothing.
LATE_SIGINT = -signal.SIGINT


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3])
def test_ctrl_c_while_the_command_line_imports_is_one_line(tmp_path, delay):
    """Ctrl-C in a command's first moments, while the CLI's modules (numpy, matplotlib) are
    still importing: one line and exit 130, never a traceback from inside a library's import.

    The interpreter reports each module as its import ends (``PYTHONPROFILEIMPORTTIME``), so the
    signal is sent a known time after ``ashasim.console`` (the entry point) is in place: what
    comes before it is Python's own start-up, which no program can intercept.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "ashasim", "simulate", "--out", "run", "--max-trials", "100000"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPROFILEIMPORTTIME": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.rstrip().endswith("| ashasim.console"):
            break
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    said = [line for line in rest.splitlines() if line and not line.startswith("import time:")]
    assert process.returncode in (130, LATE_SIGINT), rest
    assert len(said) == 1 and said[0].endswith(": interrupted"), said


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.3, 1.0])
def test_ctrl_c_while_the_workers_start_is_one_line(tmp_path, delay):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while the run starts
    its workers: exit 130 and a line saying how to continue, never a traceback from the driver
    or from a worker."""
    (tmp_path / f"{MODULE}.py").write_text(OBJECTIVE)
    (tmp_path / "space.json").write_text(SPACES["space.json"])
    argv = [*TUNE, "--workers", "2", "--quiet"]
    process = subprocess.Popen(
        [sys.executable, "-m", "ashasim", *argv, "--out", "run"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    banner = process.stderr.readline()  # printed once the run is framed, as the workers start
    assert "run directory run" in banner
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    # 0: it finished first; LATE_SIGINT: it finished (or printed its line) and the signal
    # landed while Python shut down
    assert process.returncode in (0, 130, LATE_SIGINT), stderr
    assert "Traceback" not in stderr
    if process.returncode == 130:  # once the run is going, the line says how to continue
        assert "interrupted" in stderr
