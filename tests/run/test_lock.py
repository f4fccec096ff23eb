"""The run-directory lock: on the directory itself, so its file can go; no writes through links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ashasim.driver import RunError
from ashasim.run.lock import LOCK_FILE, RunDirectoryBusyError, RunLock


def test_deleting_the_lock_file_does_not_let_a_second_driver_in(tmp_path: Path) -> None:
    with RunLock(tmp_path) as held:
        held.mark()
        (tmp_path / LOCK_FILE).unlink()
        with pytest.raises(RunDirectoryBusyError, match="in use by another ashasim driver"):
            RunLock(tmp_path).acquire()
    RunLock(tmp_path).acquire().release()  # free once the holder let go


def test_the_second_driver_is_told_who_holds_the_directory(tmp_path: Path) -> None:
    with RunLock(tmp_path) as held:
        held.mark()
        with pytest.raises(RunDirectoryBusyError, match=rf"\(process {os.getpid()}\)"):
            RunLock(tmp_path).acquire()


def test_a_lock_file_that_is_a_symlink_is_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_FILE).symlink_to(outside)
    with RunLock(run) as held, pytest.raises(RunError, match=rf"cannot lock .*{LOCK_FILE}"):
        held.mark()
    assert outside.read_text() == "keep me"


def test_a_lock_file_that_is_a_directory_is_one_line(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).mkdir()
    with RunLock(tmp_path) as held, pytest.raises(RunError, match="cannot lock"):
        held.mark()


def test_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RunError, match=r"cannot lock .*missing"):
        RunLock(tmp_path / "missing").acquire()
