"""JournalFollower: read once, then only what was appended; torn lines wait for their newline."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.dashboard.follower import JournalFollower
from ashasim.events import JOURNAL, encode, read_journal
from tests.dashboard.conftest import journal_lines


def _encoded(events) -> list[str]:
    return [encode(event) for event in events]


@given(cuts=st.lists(st.floats(0.0, 1.0), max_size=12))
def test_any_split_of_the_bytes_gives_the_journal(finished_runs, tmp_path_factory, cuts):
    """However the writer's bytes arrive (cut mid-line, mid-character), the events polled add
    up to exactly what read_journal reads from the whole file, in order."""
    data = (finished_runs["asha"] / JOURNAL).read_bytes()
    path = tmp_path_factory.mktemp("split") / JOURNAL
    path.write_bytes(b"")
    follower = JournalFollower(path)
    polled = []
    positions = [*sorted({int(cut * len(data)) for cut in cuts}), len(data)]
    written = 0
    for position in positions:
        with open(path, "ab") as handle:
            handle.write(data[written:position])
        written = position
        polled.extend(follower.poll())
    header, events = read_journal(finished_runs["asha"] / JOURNAL)
    assert _encoded(polled) == _encoded(events)
    assert follower.trace is not None and follower.trace.info == header
    assert _encoded(follower.trace.events) == _encoded(events)


def test_a_torn_last_line_waits_for_its_newline(finished_runs, tmp_path: Path):
    lines = journal_lines(finished_runs["sync-sh"])
    path = tmp_path / JOURNAL
    path.write_bytes(b"".join(lines[:5]) + lines[5][:17])
    follower = JournalFollower(tmp_path)
    assert len(follower.poll()) == 4  # the header, four events, and a line being written
    assert follower.poll() == []
    with open(path, "ab") as handle:
        handle.write(lines[5][17:])
    assert _encoded(follower.poll()) == [lines[5].decode().rstrip("\n")]


def test_reads_only_what_was_appended(finished_runs, tmp_path: Path):
    """Bytes already read are never read again: overwriting them in place (same size, same
    file) goes unnoticed, while the line appended after them is picked up."""
    lines = journal_lines(finished_runs["sync-sh"])
    path = tmp_path / JOURNAL
    path.write_bytes(b"".join(lines[:10]))
    follower = JournalFollower(path)
    assert len(follower.poll()) == 9
    with open(path, "r+b") as handle:
        handle.seek(len(lines[0]))
        handle.write(b"x" * (len(lines[1]) - 1))  # garbage where an event was read
        handle.seek(0, 2)
        handle.write(lines[10])
    assert _encoded(follower.poll()) == [lines[10].decode().rstrip("\n")]


def test_a_journal_that_appears_later_is_followed(tmp_path: Path, finished_runs):
    follower = JournalFollower(tmp_path)
    assert follower.poll() == [] and follower.trace is None
    lines = journal_lines(finished_runs["asha"])
    (tmp_path / JOURNAL).write_bytes(b"".join(lines[:3]))
    assert len(follower.poll()) == 2
    assert follower.trace is not None and follower.trace.n_workers == 3


def test_a_rewritten_journal_is_read_again_from_its_start(tmp_path: Path, finished_runs):
    sync, asha = journal_lines(finished_runs["sync-sh"]), journal_lines(finished_runs["asha"])
    path = tmp_path / JOURNAL
    path.write_bytes(b"".join(sync[:40]))
    follower = JournalFollower(path)
    follower.poll()
    replacement = tmp_path / "new.jsonl"
    replacement.write_bytes(b"".join(asha[:7]))
    replacement.replace(path)  # what --force does: a new file under the same name
    assert len(follower.poll()) == 6
    assert follower.trace is not None
    assert follower.trace.info["scheduler"]["name"] == "ASHA"


def test_a_corrupt_line_names_itself_and_stops_the_follower(tmp_path: Path, finished_runs):
    lines = journal_lines(finished_runs["asha"])
    path = tmp_path / JOURNAL
    path.write_bytes(b"".join(lines[:3]) + b"{not json\n" + b"".join(lines[3:6]))
    follower = JournalFollower(path)
    with pytest.raises(ValueError, match=r"journal.jsonl:4: not a journal event"):
        follower.poll()
    with pytest.raises(ValueError, match=r":4:"):  # sticky: what follows cannot be trusted
        follower.poll()


def test_events_out_of_time_order_are_refused_with_their_line(tmp_path: Path, finished_runs):
    lines = journal_lines(finished_runs["asha"])
    late = [line for line in lines[1:] if b'"t": 0,' not in line and b'"t": 0.0' not in line]
    path = tmp_path / JOURNAL
    path.write_bytes(lines[0] + late[5] + lines[1])
    with pytest.raises(ValueError, match=r":3: events must be recorded in time order"):
        JournalFollower(path).poll()


def test_a_journal_path_that_does_not_exist_yet_is_followed(tmp_path: Path, finished_runs):
    follower = JournalFollower(tmp_path / JOURNAL)
    assert follower.path == tmp_path / JOURNAL
    assert follower.poll() == []
    (tmp_path / JOURNAL).write_bytes(b"".join(journal_lines(finished_runs["asha"])[:4]))
    assert len(follower.poll()) == 3
