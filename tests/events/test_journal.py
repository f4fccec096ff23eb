"""journal.jsonl: round trips, special values, torn and corrupt lines, appending after a crash."""

import json
import math
import re
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.events import (
    JOURNAL,
    JobEnded,
    JobStarted,
    Reported,
    Trace,
    load_experiment,
    read_journal,
)
from tests.events.logs import KNOWN, build, event_logs, exact

# -- journal ----------------------------------------------------------------------------------


@given(event_logs(), st.sampled_from(["min", "max"]))
def test_journal_round_trip(tmp_path_factory, log, mode):
    """A journaled Trace reloads (from its directory or from the file) equal to the in-memory one:
    events (NaN and inf metrics, errors with quotes and newlines, every JSON config type), info,
    segments, results and summary; the journal is the header plus one line per event."""
    n_workers, events = log
    directory = tmp_path_factory.mktemp("run")
    info = {
        "metric": "loss",
        "mode": mode,
        "resource_attr": "epoch",
        "scheduler": {"name": "ASHA", "eta": 2, "levels": [1, 2, 4]},
        "extra": [1, 2.5, None, "s", True],
    }
    trace = build(n_workers, events, journal=directory / JOURNAL, **info)
    lines = (directory / JOURNAL).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + len(events)
    assert json.loads(lines[0])["event"] == "experiment"
    for source in (directory, directory / JOURNAL, str(directory)):
        reloaded = load_experiment(source)
        assert reloaded == trace
        assert reloaded.info == trace.info
        assert exact(reloaded.events) == exact(trace.events)
        assert reloaded.segments == trace.segments
        assert exact(reloaded.results) == exact(trace.results)
        assert reloaded.summary() == trace.summary()
        assert reloaded.best_so_far() == trace.best_so_far()


def test_journal_round_trip_of_special_values(tmp_path):
    """NaN, +inf and -inf metrics and configs of int/float/str/bool/None come back as written."""
    config = {"i": 3, "f": 0.1, "big": 2**53 + 1, "s": 'a "quoted"\nstr', "b": True, "n": None}
    events = [
        JobStarted(0, 0, 0, config, 0, 4),
        Reported(1.0, 0, 0, 1, math.nan, "continue"),
        Reported(2.0, 0, 0, 2, math.inf, "continue"),
        Reported(3.0, 0, 0, 3, -math.inf, "continue"),
        Reported(4.0, 0, 0, 4, 0.25, "stop"),
        JobEnded(4.0, 0, 0, 4, "failed", "RuntimeError: x"),
    ]
    trace = build(1, events, journal=tmp_path / JOURNAL)
    reloaded = load_experiment(tmp_path)
    assert reloaded == trace
    assert reloaded.events[0].config == config
    assert [type(v) for v in reloaded.events[0].config.values()] == [
        int,
        float,
        int,
        str,
        bool,
        type(None),
    ]
    metrics_back = [e.metric for e in reloaded.events if type(e) is Reported]
    assert math.isnan(metrics_back[0]) and metrics_back[1:] == [math.inf, -math.inf, 0.25]
    assert reloaded.events[-1].error == "RuntimeError: x"
    assert reloaded.summary() == trace.summary()
    assert reloaded.best.metric == 0.25  # NaN and -inf never count as best


def test_number_likes_in_configs_are_written_as_numbers(tmp_path):
    """numpy scalars become plain ints/floats and other number-likes keep their value
    (Fraction(1, 2) is 0.5, not truncated to 0); something not number-like is a TypeError."""
    config = {"a": np.int64(3), "b": np.float32(0.5), "c": Fraction(1, 2), "d": Fraction(4, 2)}
    build(1, [JobStarted(0.0, 0, 0, config, 0, 1)], journal=tmp_path / JOURNAL)
    back = load_experiment(tmp_path).events[0].config
    assert back == {"a": 3, "b": 0.5, "c": 0.5, "d": 2}
    assert type(back["a"]) is int and type(back["b"]) is float
    trace = Trace({"n_workers": 1}, journal=tmp_path / "other.jsonl")
    with pytest.raises(TypeError, match="cannot write"):
        trace.record(JobStarted(0.0, 0, 0, {"x": object()}, 0, 1))
    trace.close()


def write_known(directory):
    trace = build(3, KNOWN, journal=directory / JOURNAL)
    return trace, directory / JOURNAL


def test_torn_last_line_is_dropped_with_a_warning(tmp_path):
    """A crash mid-write leaves a partial last line: wherever it is cut, that line is dropped with
    a warning and every earlier event loads; a complete last line without its newline loads."""
    trace, path = write_known(tmp_path)
    data = path.read_bytes()
    start = data.rstrip(b"\n").rfind(b"\n") + 1  # the last line
    end = len(data) - 1  # its newline
    for cut in range(start + 1, end):
        path.write_bytes(data[:cut])
        with pytest.warns(UserWarning, match="torn last line"):
            reloaded = load_experiment(tmp_path)
        assert exact(reloaded.events) == exact(trace.events[:-1]), cut
    for cut, expected in ((start, trace.events[:-1]), (end, trace.events)):
        path.write_bytes(data[:cut])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert exact(load_experiment(tmp_path).events) == exact(expected)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"event": "reported", "t": 1', "not a journal event"),
        ("42", "not a journal event"),
        ('"text"', "not a journal event"),
        ("[1, 2]", "not a journal event"),
        ('{"t": 1.0}', "not a journal event"),
        ('{"event": "paused", "t": 1.0}', "unknown event 'paused'"),
        ('{"event": "reported", "t": 1.0, "worker": 0}', "not a journal event"),
        ('{"event": "experiment", "n_workers": 2}', "a second header"),
    ],
)
def test_corrupt_line_in_the_middle_names_its_line_number(tmp_path, line, message):
    """Only the last line may be torn: a bad line before it is an error naming file and line."""
    _, path = write_known(tmp_path)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = line  # line 4 of the file
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:4: ") + ".*" + re.escape(message)):
        load_experiment(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty journal"),
        ("\n", "empty journal"),
        ('{"event": "experiment", "n_wor', "empty journal"),  # a torn header: nothing usable
        (
            '{"event": "job_started", "t": 0, "worker": 0, "trial_id": 0, "config": {}, '
            '"resume_from": 0, "milestone": 1}\n',
            "first line must be the experiment header",
        ),
        ("garbage\n", ":1: not a journal header"),
        ('{"n_workers": 2}\n', ":1: not a journal header"),
        ('{"event": "experiment", "n_workers": 0}\n', r"info\['n_workers'\]"),
    ],
)
def test_a_journal_without_a_valid_header_is_refused(tmp_path, content, message):
    path = tmp_path / JOURNAL
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_experiment(tmp_path)


def test_a_missing_journal_names_the_expected_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / JOURNAL))):
        load_experiment(tmp_path)
    missing = tmp_path / "nowhere" / "run.jsonl"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_experiment(missing)


def test_read_journal_returns_header_and_events(tmp_path):
    trace, path = write_known(tmp_path)
    header, events = read_journal(path)
    assert header == trace.info
    assert events[:-1] == trace.events[:-1]  # the last one holds a NaN metric
    assert math.isnan(events[-1].metric)


def test_appending_after_a_crash_mid_write_drops_the_torn_line_first(tmp_path):
    """Resume appends to the journal: a torn last line must not end up in the middle."""
    from ashasim.events import JobStarted, Trace, load_experiment

    path = tmp_path / "journal.jsonl"
    with Trace({"n_workers": 1}, journal=path) as trace:
        trace.record(JobStarted(0.0, 0, 0, {"x": 1}, 0, 2))
    with open(path, "ab") as handle:
        handle.write(b'{"event": "reported", "t": 1.0, "wor')  # the crash
    with Trace({"n_workers": 1}, journal=path, append=True) as trace:
        trace.record(JobStarted(2.0, 0, 1, {"x": 2}, 0, 2))
    reloaded = load_experiment(tmp_path)
    assert [e.trial_id for e in reloaded.events] == [0, 1]


def test_a_hyperparameter_named_like_a_column_does_not_overwrite_it():
    from ashasim.events import JobStarted, Reported, Trace

    trace = Trace({"n_workers": 1, "metric": "err"})
    trace.record(JobStarted(0.0, 0, 0, {"t": 99, "err": "x"}, 0, 1))
    trace.record(Reported(1.0, 0, 0, 1, 0.5, "continue"))
    (row,) = trace.result_rows()
    assert (row["t"], row["err"], row["config_t"], row["config_err"]) == (1.0, 0.5, 99, "x")
