"""Sealed journals (a header with ``"checksums": "crc32"``): every line carries a CRC-32 chained
from the line before, so an edit, a removal, an insertion or a swap of lines is refused in one
line naming where the chain breaks, while a torn last line is still a crash mid-write."""

from __future__ import annotations

import json
import re
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ashasim.events import CHECKSUMS, JOURNAL, JobStarted, Trace, load_experiment, read_journal
from tests.events.logs import KNOWN, build, event_logs, exact

SEALED = dict([CHECKSUMS])


def write_sealed(directory, n_workers=3, events=KNOWN):
    trace = build(n_workers, events, journal=directory / JOURNAL, **SEALED)
    return trace, directory / JOURNAL


def refused_at(path):
    """The line number a read of *path* names in its refusal."""
    with pytest.raises(ValueError, match=r":\d+: ") as refusal:
        read_journal(path)
    message = str(refusal.value)
    assert "\n" not in message
    found = re.match(re.escape(str(path)) + r":(\d+): ", message)
    assert found, message
    return int(found.group(1))


@given(event_logs(max_steps=12))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
def test_a_sealed_journal_reads_back_what_was_written(tmp_path_factory, log):
    n_workers, events = log
    directory = tmp_path_factory.mktemp("run")
    trace, path = write_sealed(directory, n_workers, events)
    assert all(line.endswith('"}') for line in path.read_text().splitlines())
    reloaded = load_experiment(directory)
    assert exact(reloaded.events) == exact(trace.events)
    assert reloaded.info == trace.info


@given(data=st.data())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
def test_any_changed_byte_of_a_complete_line_is_refused_naming_its_line(tmp_path_factory, data):
    """One byte of one line (not the last) changed: refused, naming that line."""
    directory = tmp_path_factory.mktemp("run")
    _, path = write_sealed(directory)
    lines = path.read_bytes().split(b"\n")[:-2]  # every line but the last (a torn one may go)
    number = data.draw(st.integers(1, len(lines)), label="line")
    line = bytearray(lines[number - 1])
    index = data.draw(st.integers(0, len(line) - 1), label="byte")
    new = data.draw(st.integers(32, 126).filter(lambda b: b != line[index]), label="value")
    line[index] = new
    original = path.read_bytes().split(b"\n")
    original[number - 1] = bytes(line)
    path.write_bytes(b"\n".join(original))
    assert refused_at(path) == number


def test_an_edited_metric_is_refused_not_resumed_from(tmp_path):
    """The damage a resume once accepted silently: one digit of a journaled metric."""
    _, path = write_sealed(tmp_path)
    text = path.read_text()
    digit = re.search(r'"metric": (\d)', text)
    assert digit is not None
    at = digit.start(1)
    path.write_text(text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1 :])
    number = text[:at].count("\n") + 1
    with pytest.raises(ValueError, match=rf":{number}: the line does not match its checksum"):
        read_journal(path)


@pytest.mark.parametrize("how", ["removed", "duplicated", "swapped"])
def test_lines_removed_duplicated_or_moved_break_the_chain(tmp_path, how):
    _, path = write_sealed(tmp_path)
    lines = path.read_bytes().split(b"\n")
    if how == "removed":
        del lines[3]
    elif how == "duplicated":
        lines.insert(3, lines[3])
    else:
        lines[3], lines[4] = lines[4], lines[3]
    path.write_bytes(b"\n".join(lines))
    assert refused_at(path) == 4 if how != "duplicated" else refused_at(path) == 5


def test_a_torn_last_line_of_a_sealed_journal_is_still_a_crash(tmp_path):
    trace, path = write_sealed(tmp_path)
    data = path.read_bytes()
    start = data.rstrip(b"\n").rfind(b"\n") + 1
    for cut in range(start + 1, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.warns(UserWarning, match="torn last line"):
            assert exact(load_experiment(tmp_path).events) == exact(trace.events[:-1]), cut
    path.write_bytes(data[:-1])  # complete but for its newline: kept
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert exact(load_experiment(tmp_path).events) == exact(trace.events)


def test_appending_continues_the_chain(tmp_path):
    """A resume reopens the journal: its lines link to the last one written before."""
    path = tmp_path / JOURNAL
    with Trace({"n_workers": 1, **SEALED}, journal=path) as trace:
        trace.record(JobStarted(0.0, 0, 0, {"x": 1}, 0, 2))
    header, events = read_journal(path)
    with Trace(header, journal=path, append=True, events=events) as trace:
        trace.record(JobStarted(1.0, 0, 1, {"x": 2}, 0, 2))
    assert [e.trial_id for e in read_journal(path)[1]] == [0, 1]
    lines = path.read_bytes().split(b"\n")
    lines[1], lines[2] = lines[2], lines[1]  # the appended line does not verify in another place
    path.write_bytes(b"\n".join(lines))
    assert refused_at(path) == 2


def test_a_journal_without_checksums_reads_as_before(tmp_path):
    """Runs journaled before checksums existed (and simulations) carry none and still load."""
    trace = build(3, KNOWN, journal=tmp_path / JOURNAL)
    assert '"crc"' not in (tmp_path / JOURNAL).read_text()
    assert exact(load_experiment(tmp_path).events) == exact(trace.events)


def test_a_report_with_a_checkpoint_says_so_and_one_without_keeps_its_bytes(tmp_path):
    """The record of saved checkpoints rides on the reports: ``"checkpoint": true`` where one
    was filed, nothing at all where none was (journals without checkpoints keep their bytes)."""
    from ashasim.events import Reported, encode

    plain = Reported(1.0, 0, 0, 1, 0.5, "continue")
    saved = plain._replace(checkpoint=True)
    assert '"checkpoint"' not in encode(plain)
    as_before = {"event": "reported", **plain._asdict()}
    del as_before["checkpoint"]
    assert encode(plain) == json.dumps(as_before)
    assert json.loads(encode(saved))["checkpoint"] is True
    trace = build(
        1,
        [JobStarted(0.0, 0, 0, {}, 0, 2), plain, saved._replace(resource=2)],
        journal=tmp_path / JOURNAL,
        **SEALED,
    )
    assert exact(load_experiment(tmp_path).events) == exact(trace.events)
    assert [e.checkpoint for e in load_experiment(tmp_path).events[1:]] == [False, True]
