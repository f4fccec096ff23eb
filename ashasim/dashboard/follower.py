"""Follow a journal as it grows: read it once, then only the bytes appended since.

A run that lasts a day writes a journal of millions of lines; a dashboard that re-read it every
second would spend its time parsing. ``JournalFollower`` keeps a byte offset and reads from there
on each ``poll``. Only whole lines (ending in a newline) are taken: the writer appends one line per
``write()``, so text after the last newline is a line still being written (or torn by a crash),
and it is left for the next poll instead of being parsed half-way. A journal that shrinks or is
replaced (``--force`` rewrote the run) is read again from its start.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ashasim.events import JOURNAL, Event, Trace, decode

__all__ = ["JournalFollower", "journal_path"]


def journal_path(path: str | os.PathLike[str]) -> Path:
    """The journal of a run directory, or the journal itself (a file, or a ``.jsonl`` path that
    does not exist yet)."""
    path = Path(path)
    return path if path.is_file() or path.suffix == ".jsonl" else path / JOURNAL


class JournalFollower:
    """The events of one journal, kept up to date by ``poll``; ``trace`` holds them all.

    *path*: a run directory or its journal. The journal need not exist yet (a run about to start):
    until it does, ``trace`` is None and ``poll`` returns nothing. ``version`` counts the polls
    that changed anything, so a caller can cache what it derives from the trace.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = journal_path(path)
        self.trace: Trace | None = None
        self.version = 0
        self._offset = 0  # bytes consumed: always just after a newline
        self._line = 0  # lines consumed, to name a bad one
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file being read
        self._broken: str | None = None  # a bad line stops the follower: its events are in doubt

    def poll(self) -> list[Event]:
        """Read what was appended since the last poll; the new events, in journal order.

        Raises ValueError naming the file and line when a complete line is not a journal event
        (and again on every later poll: what follows a corrupt line cannot be trusted).
        """
        if self._broken is not None:
            raise ValueError(self._broken)
        try:
            with open(self.path, "rb") as handle:
                status = os.fstat(handle.fileno())
                identity = (status.st_dev, status.st_ino)
                if identity != self._identity or status.st_size < self._offset:
                    self._restart(identity)
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1  # a line still being written waits for its newline
        if end == 0:
            return []
        try:
            events = self._parse(data[:end])
        except ValueError as error:
            self._broken = str(error)
            raise
        self._offset += end
        self.version += 1
        return events

    def _restart(self, identity: tuple[int, int]) -> None:
        self._identity = identity
        self._offset = self._line = 0
        self.trace = None

    def _parse(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for raw in data.split(b"\n")[:-1]:
            self._line += 1
            if not raw.strip():
                continue
            record = self._decode(raw)
            if self.trace is None:
                if not isinstance(record, dict):
                    raise ValueError(f"{self.path}:{self._line}: not a journal header")
                try:
                    self.trace = Trace(record)
                except ValueError as error:
                    raise ValueError(f"{self.path}:{self._line}: {error}") from None
                continue
            if isinstance(record, dict):
                raise ValueError(f"{self.path}:{self._line}: a second header in the journal")
            try:
                self.trace.record(record)
            except ValueError as error:
                raise ValueError(f"{self.path}:{self._line}: {error}") from None
            events.append(record)
        return events

    def _decode(self, raw: bytes) -> Event | dict[str, Any]:
        try:
            return decode(raw.decode("utf-8"))
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"{self.path}:{self._line}: not a journal event ({error})") from None
