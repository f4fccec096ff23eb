"""Resume continues exactly or refuses in one line, leaving every file as it was; one driver per
run directory; arguments checked before anything is written (FakeBackend, in-process)."""

from __future__ import annotations

import json
import re
import shutil
import zlib

import pytest

from ashasim.events import JOURNAL, load_experiment
from ashasim.run import ResumeError, RunDirectoryBusyError, StoppingCriterion, Tuner
from ashasim.run.lock import RunLock
from ashasim.run.settings import STATE_FILE
from ashasim.space import uniform
from tests.run import faults
from tests.run.faults import crash_copy, run_fake


def snapshot(directory):
    """Every file under ``directory`` with its bytes."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A run of two workers, and the same run as a driver killed halfway left it."""
    root = tmp_path_factory.mktemp("source")
    run_fake(root / "full", "asha", 2)
    lines = (root / "full" / JOURNAL).read_text().splitlines()
    crash_copy(root / "full", root / "crashed", len(lines) // 2)
    run_fake(root / "seed5", "asha", 2, seed=5)
    run_fake(root / "sync", "sync-sh", 2)
    return root


def lines_of(directory):
    return (directory / JOURNAL).read_bytes().splitlines(keepends=True)


def write_lines(directory, lines):
    """The journal as *lines*, its checksums made to match again: the damage the checks behind
    the checksums must catch (a journal edited with care, or one too old to carry them)."""
    (directory / JOURNAL).write_bytes(b"".join(resealed(lines)))


SEAL = re.compile(rb', "crc": "[0-9a-f]{8}"\}$')


def resealed(lines):
    """Each JSON line with the CRC-32 chain recomputed; what is not JSON stays as it is."""
    crc, out = 0, []
    for line in lines:
        body = SEAL.sub(b"}", line.rstrip(b"\n"))
        if not body.startswith(b"{"):
            out.append(line)
            continue
        crc = zlib.crc32(body, crc)
        out.append(body[:-1] + b', "crc": "%08x"}\n' % crc)
    return out


def insert(line):
    return lambda d, src: write_lines(d, [*lines_of(d)[:5], line, *lines_of(d)[5:]])


def duplicate(kind):
    def damage(directory, src):
        lines = lines_of(directory)
        index = next(i for i, line in enumerate(lines) if f'"event": "{kind}"'.encode() in line)
        write_lines(directory, [*lines[: index + 1], lines[index], *lines[index + 1 :]])

    return damage


def journal_of(name, strip=()):
    """The journal of another run (``strip``: header fields removed, as an older version wrote)."""

    def damage(directory, src):
        lines = lines_of(src / name)
        header = json.loads(lines[0])
        for key in strip:
            header.pop(key, None)
        write_lines(directory, [(json.dumps(header) + "\n").encode(), *lines[1:]])

    return damage


def keep_half_of_the_state(directory, src):
    data = (directory / STATE_FILE).read_bytes()
    (directory / STATE_FILE).write_bytes(data[: len(data) // 2])


def swap_events(directory, src):
    lines = lines_of(directory)
    write_lines(directory, [lines[0], lines[2], lines[1], *lines[3:]])


def worker_out_of_range(directory, src):
    lines = lines_of(directory)
    write_lines(directory, [*lines[:-1], lines[-1].replace(b'"worker": ', b'"worker": 7')])


DAMAGES = {
    "garbage line in the middle": (insert(b"this is not json\n"), "journal.jsonl:6: not a"),
    "non-UTF-8 line in the middle": (insert(b"\xff\xfe{\x00\n"), "journal.jsonl:6: not UTF-8"),
    "binary garbage": (
        lambda d, s: (d / JOURNAL).write_bytes(bytes(range(256)) * 8),
        "not UTF-8",
    ),
    "empty journal": (lambda d, s: (d / JOURNAL).write_bytes(b""), "empty journal"),
    "missing journal": (lambda d, s: (d / JOURNAL).unlink(), "no journal.jsonl"),
    "duplicated job start": (duplicate("job_started"), "still runs trial"),
    "duplicated report": (duplicate("reported"), "a duplicated or misplaced line"),
    "duplicated job end": (duplicate("job_ended"), "runs no job"),
    "a second header": (
        lambda d, s: write_lines(d, [*lines_of(d)[:4], lines_of(d)[0], *lines_of(d)[4:]]),
        "a second header",
    ),
    "events swapped": (swap_events, "journal line"),
    "a worker the run does not have": (worker_out_of_range, "is not one of the run's 2"),
    "truncated settings.json": (keep_half_of_the_state, "settings.json is damaged"),
    "empty settings.json": (
        lambda d, s: (d / STATE_FILE).write_bytes(b""),
        "settings.json is empty",
    ),
    "missing settings.json": (lambda d, s: (d / STATE_FILE).unlink(), "no settings.json"),
    "journal of another seed": (journal_of("seed5"), "scheduler.seed is 5 in the journal, 4"),
    "journal of another scheduler": (journal_of("sync"), "scheduler.name is 'SyncSH'"),
    "journal of another seed, older header": (
        journal_of("seed5", strip=("scheduler", "space", "objective", "settings_sha256")),
        "belongs to another run",
    ),
    "settings.json of another run": (
        lambda d, s: shutil.copy(s / "seed5" / STATE_FILE, d / STATE_FILE),
        "scheduler.seed is 4 in the journal, 5 in settings.json",
    ),
}


@pytest.mark.damaged_journals
@pytest.mark.parametrize("base", ["full", "crashed"])
@pytest.mark.parametrize("case", sorted(DAMAGES))
def test_a_damaged_run_directory_is_refused_in_one_line_and_left_as_it_was(
    tmp_path, source, case, base
):
    damage, message = DAMAGES[case]
    directory = tmp_path / "run"
    shutil.copytree(source / base, directory)
    damage(directory, source)
    before = snapshot(directory)
    with pytest.raises(ResumeError) as refused:
        Tuner.resume(directory, quiet=True, outputs=False)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert snapshot(directory) == before


@pytest.mark.damaged_journals
@pytest.mark.parametrize("base", ["full", "crashed"])
def test_an_edited_metric_is_refused_by_the_journal_s_checksums(tmp_path, source, base):
    """A run's journal is sealed: one digit of a journaled metric changed by hand (the edit a
    resume once continued from silently) is refused in one line naming its line."""
    directory = tmp_path / "run"
    shutil.copytree(source / base, directory)
    text = (directory / JOURNAL).read_text()
    assert '"checksums": "crc32"' in text.splitlines()[0]
    digit = re.search(r'"metric": -?\d\.(\d)', text)
    assert digit is not None
    at = digit.start(1)
    (directory / JOURNAL).write_text(text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1 :])
    before = snapshot(directory)
    number = text[:at].count("\n") + 1
    with pytest.raises(ResumeError, match=rf"journal.jsonl:{number}: the line does not match"):
        Tuner.resume(directory, quiet=True, outputs=False)
    assert snapshot(directory) == before


@pytest.mark.damaged_journals
def test_the_journal_of_another_space_is_refused(tmp_path):
    """Same scheduler settings and seed, another space: the header says so."""
    run_fake(tmp_path / "a", "random", max_trials=2)
    run_fake(tmp_path / "b", "random", max_trials=2, space={**faults.SPACE, "x": uniform(0, 2)})
    shutil.copy(tmp_path / "b" / JOURNAL, tmp_path / "a" / JOURNAL)
    with pytest.raises(ResumeError, match=r"space\.x\.uniform is \[0, 2\] in the journal"):
        Tuner.resume(tmp_path / "a", quiet=True)


def test_a_torn_last_line_is_a_crash_mid_write_and_resumes(tmp_path, source):
    """Not damage: a driver killed while writing a line. The torn part is cut, the run goes on."""
    lines = (source / "full" / JOURNAL).read_text().splitlines()
    crashed = crash_copy(source / "full", tmp_path / "run", len(lines) // 2, torn=11)
    with pytest.warns(UserWarning, match="dropping a torn last line"):
        resumed = Tuner.resume(crashed, quiet=True, outputs=False)
    assert faults.results(resumed) == faults.results(load_experiment(source / "full"))
    assert all(line.endswith("}") for line in (crashed / JOURNAL).read_text().splitlines())


# -- one driver per directory -------------------------------------------------------------------


def test_a_second_driver_is_refused_and_touches_nothing(tmp_path, source):
    """While a driver holds a run directory, a resume and a new run there are refused in one
    line, before they read or write anything else."""
    directory = tmp_path / "run"
    shutil.copytree(source / "crashed", directory)
    empty = tmp_path / "empty"
    empty.mkdir()
    before = snapshot(directory)
    with RunLock(directory), RunLock(empty):
        with pytest.raises(RunDirectoryBusyError, match="in use by another ashasim driver"):
            Tuner.resume(directory, quiet=True)
        tuner = Tuner(
            faults.objective,
            faults.SPACE,
            faults.scheduler_for("asha"),
            1,
            backend="fake",
            experiment_dir=empty,
            quiet=True,
        )
        with pytest.raises(RunDirectoryBusyError, match="in use by another ashasim driver"):
            tuner.run()
    assert snapshot(directory) == before
    assert list(empty.iterdir()) == []  # the lock is on the directory: no file was made
    Tuner.resume(directory, quiet=True, outputs=False)  # free again once the holder is gone


def test_a_run_started_there_in_the_meantime_is_not_overwritten(tmp_path):
    """Tuner() checks the directory when it is made; run() checks again under the lock."""
    late = Tuner(
        faults.objective,
        faults.SPACE,
        faults.scheduler_for("asha"),
        1,
        backend="fake",
        experiment_dir=tmp_path / "run",
        quiet=True,
    )
    run_fake(tmp_path / "run", "asha")
    before = snapshot(tmp_path / "run")
    with pytest.raises(RunDirectoryBusyError, match="already holds a run"):
        late.run()
    assert snapshot(tmp_path / "run") == before


# -- arguments checked before anything is written -----------------------------------------------


def test_resume_arguments_are_checked_before_the_directory_is_touched(tmp_path, source):
    directory = tmp_path / "run"
    shutil.copytree(source / "crashed", directory)
    before = snapshot(directory)
    with pytest.raises(ValueError, match="stop must be a StoppingCriterion, got 'x'"):
        Tuner.resume(directory, stop="x")
    with pytest.raises(ValueError, match="trial_timeout must be a finite number > 0"):
        Tuner.resume(directory, trial_timeout=-1)
    with pytest.raises(ValueError, match="durable must be True, False or None"):
        Tuner.resume(directory, durable="yes")
    assert snapshot(directory) == before


def test_the_ray_backend_without_ray_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    with pytest.raises(ValueError, match="backend='ray' needs Ray, which is not installed"):
        Tuner(
            faults.objective,
            faults.SPACE,
            faults.scheduler_for("asha"),
            1,
            backend="ray",
            experiment_dir=tmp_path / "run",
        )
    assert not (tmp_path / "run").exists()


def test_gpus_the_machine_does_not_have_are_refused(tmp_path, monkeypatch):
    from ashasim.run import backend

    monkeypatch.setattr(backend, "visible_gpus", lambda: 1)
    with pytest.raises(ValueError, match="devices: cuda:1 is not a GPU of this machine"):
        Tuner(
            faults.objective,
            faults.SPACE,
            faults.scheduler_for("asha"),
            2,
            devices=["cuda:0", "cuda:1"],
            experiment_dir=tmp_path / "run",
        )
    assert not (tmp_path / "run").exists()


def test_durable_journals_are_the_same_journals(tmp_path):
    """fsync changes when bytes reach the disk, never which bytes."""
    plain = run_fake(tmp_path / "plain", "sync-sh", 2)
    durable = Tuner(
        faults.objective,
        faults.SPACE,
        faults.scheduler_for("sync-sh"),
        2,
        stop=StoppingCriterion(),
        backend="fake",
        backend_options={"epoch_seconds": faults.epoch_seconds},
        experiment_dir=tmp_path / "durable",
        quiet=True,
        outputs=False,
        max_failures=None,
        durable=True,
    ).run()
    assert durable.events == plain.events
    with pytest.raises(ValueError, match="durable must be True or False"):
        Tuner(faults.objective, faults.SPACE, faults.scheduler_for("asha"), 1, durable=1)


@pytest.mark.damaged_journals
def test_a_directory_with_settings_but_no_journal_is_neither_new_nor_resumable(tmp_path, source):
    """A run that died between writing settings.json and its journal's first line."""
    directory = tmp_path / "run"
    directory.mkdir()
    shutil.copy(source / "full" / STATE_FILE, directory / STATE_FILE)
    with pytest.raises(
        ValueError, match="holds settings.json but no journal.jsonl .*remove settings"
    ):
        Tuner(
            faults.objective,
            faults.SPACE,
            faults.scheduler_for("asha"),
            1,
            experiment_dir=directory,
        )
    with pytest.raises(ResumeError, match="holds settings.json but no journal.jsonl"):
        Tuner.resume(directory)
