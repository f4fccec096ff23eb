"""The event log both clocks write, and the views computed from it (ARCHITECTURE §3).

* ``records``: the three events (``JobStarted``, ``Reported``, ``JobEnded``) and their JSON lines;
* ``journal``: ``journal.jsonl`` on disk, written as it happens and read back;
* ``trace``: ``Trace``, a run's events in memory with every view (results, segments, idle time);
* ``segments``: ``Segment``, one per job, built from the events (Gantt charts, idle time).
"""

from ashasim.events.journal import CHECKSUMS, JOURNAL, JournalWriter, read_journal
from ashasim.events.records import REASONS, Event, JobEnded, JobStarted, Reported, decode, encode
from ashasim.events.trace import Result, Segment, Trace, load_experiment

__all__ = [
    "CHECKSUMS",
    "JOURNAL",
    "REASONS",
    "Event",
    "JobEnded",
    "JobStarted",
    "JournalWriter",
    "Reported",
    "Result",
    "Segment",
    "Trace",
    "decode",
    "encode",
    "load_experiment",
    "read_journal",
]
