"""The journal on disk: ``journal.jsonl``, one header line then one line per event.

Written as it happens: each event is one unbuffered ``write()`` (in the operating system's page
cache when ``write`` returns), so a crash of the process loses at most the line being written.
A crash of the machine can lose what the page cache had not yet written to the disk, unless the
journal is *durable*: then each line is also ``fsync``-ed before ``write`` returns (and the
journal's directory entry when the file is created). Read back with ``read_journal``, which drops
a torn last line (a crash mid-write) and refuses anything else that is not a journal, naming the
line.

A journal whose header says ``"checksums": "crc32"`` (a real run's) is *sealed*: every line, the
header included, ends with a ``"crc"`` field, the CRC-32 of the line without it chained from the
previous line's. A line edited by hand or damaged on disk, and a line removed, inserted or moved,
breaks the chain where it happens, and the reader refuses the journal naming that line: a resume
never continues from a changed metric. (A checksum catches accidents and casual edits, not a
forger, who can recompute it; the run directory's trust model is in docs/guides/trust.md.)
"""

from __future__ import annotations

import json
import os
import warnings
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from ashasim.events.records import Event, JobEnded, decode, encode, json_default

__all__ = [
    "CHECKSUMS",
    "JOURNAL",
    "MAX_ERROR_CHARS",
    "JournalError",
    "JournalWriter",
    "bounded_error",
    "read_header",
    "read_journal",
    "sync_directory",
]

JOURNAL = "journal.jsonl"

#: the header field and value that seal a journal (see the module docstring)
CHECKSUMS = ("checksums", "crc32")
_SEAL = ', "crc": "'  # a sealed line ends with _SEAL, eight hex digits and '"}'
_SEAL_LENGTH = len(_SEAL) + 8 + 2

#: the most characters of a failed job's error message a journal line keeps: an objective that
#: raises with a 20 MB message (a whole tensor printed) would otherwise make a 20 MB line, which
#: every reader of the journal then holds in memory
MAX_ERROR_CHARS = 64 * 1024

# what a line's decoder cannot read: json's recursion on deeply nested arrays (``[[[[...]]]]``)
# is a RecursionError, not a ValueError
_UNREADABLE = (ValueError, TypeError, KeyError, RecursionError)


class JournalWriter:
    """Append events to a journal file.

    *header*: the run's description, written as the first line of a new journal (``append``
    False, which truncates the file). With ``append`` the file must hold a journal already; a torn
    last line is cut off first, so it does not become a corrupt line in the middle. *durable*:
    fsync every line (see the module docstring).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: dict[str, Any],
        *,
        append: bool = False,
        durable: bool = False,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        if append:
            _drop_torn_tail(self.path)
        # Unbuffered binary: one write() system call per event, half the cost of a text write
        # plus flush.
        # O_NOFOLLOW: a journal.jsonl planted as a link cannot make the run write elsewhere.
        mode = os.O_APPEND if append else os.O_TRUNC
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | mode | os.O_NOFOLLOW, 0o666)
        except OSError as error:  # read-only file or folder, a directory or a link in its place
            raise JournalError(f"cannot write the journal {self.path}: {error.strerror}") from None
        self._file: BinaryIO | None = os.fdopen(descriptor, "ab" if append else "wb", buffering=0)
        # the chain's last link: None for a journal without checksums
        self._crc: int | None = 0 if header.get(CHECKSUMS[0]) == CHECKSUMS[1] else None
        if append:
            if self._crc is not None:
                self._crc = _last_crc(self.path)
        else:
            line = json.dumps({"event": "experiment", **header}, default=json_default)
            self._file.write(self._sealed(line))
        if durable:
            os.fsync(self._file.fileno())
            sync_directory(self.path.parent)

    def write(self, event: Event) -> None:
        assert self._file is not None, "the journal is closed"
        if type(event) is JobEnded and event.error and len(event.error) > MAX_ERROR_CHARS:
            event = event._replace(error=bounded_error(event.error))
        self._file.write(self._sealed(encode(event)))
        if self.durable:
            os.fsync(self._file.fileno())

    def _sealed(self, line: str) -> bytes:
        """The bytes to write for *line*: with its link of the checksum chain when sealed."""
        data = line.encode()
        if self._crc is None:
            return data + b"\n"
        self._crc = zlib.crc32(data, self._crc)
        return b'%s, "crc": "%08x"}\n' % (data[:-1], self._crc)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class JournalError(OSError):
    """The journal cannot be opened for writing; its message is one line naming the file."""


def bounded_error(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """*text* cut to about *limit* characters: its start (where the exception's type and the
    first lines are) and its end (where a traceback's last line is), with a marker in between
    saying how much was cut."""
    if len(text) <= limit:
        return text
    keep = limit // 2
    cut = len(text) - 2 * keep
    return f"{text[:keep]}\n[... {cut} characters cut from this message ...]\n{text[-keep:]}"


def read_journal(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[Event]]:
    """The header and events of a journal. A torn last line (a crash mid-write) is dropped."""
    path = Path(path)
    data = path.read_bytes()
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:  # name the line; a torn last line may end mid-character
        pieces = data.split(b"\n")
        lines = [_text(path, number, raw) for number, raw in enumerate(pieces[:-1], 1)]
        lines.append(pieces[-1].decode("utf-8", "replace"))
    torn = lines.pop() if lines else ""  # text after the last newline: empty unless torn
    if not lines or not lines[0].strip():
        raise ValueError(f"{path}: empty journal (no header line)")
    try:
        header = decode(lines[0])
    except _UNREADABLE as error:
        raise ValueError(f"{path}:1: not a journal header ({_why(error)})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: first line must be the experiment header")
    # sealed: so its header says, or so its first line shows (an edit of the header's own
    # "checksums" field must not turn the checks off)
    sealed = header.get(CHECKSUMS[0]) == CHECKSUMS[1] or _stated_crc(lines[0]) is not None
    chain = _Chain(path) if sealed else None
    if chain is not None:
        chain.check(1, lines[0])
    events: list[Event] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        events.append(_event(path, number, line))
        if chain is not None:
            chain.check(number, line)
    if torn.strip():
        try:
            event = _event(path, len(lines) + 1, torn)
            if chain is not None:
                chain.check(len(lines) + 1, torn)
        except ValueError:
            warnings.warn(f"{path}: dropping a torn last line (a crash mid-write)", stacklevel=2)
        else:
            events.append(event)
    return header, events


def _event(path: Path, number: int, line: str) -> Event:
    """The event on line *number*; ValueError, naming the line, for anything else."""
    try:
        event = decode(line)
    except _UNREADABLE as error:
        raise ValueError(f"{path}:{number}: not a journal event ({_why(error)})") from None
    if isinstance(event, dict):
        raise ValueError(f"{path}:{number}: a second header in the journal")
    return event


class _Chain:
    """Checks a sealed journal's lines in order against their chained CRC-32s."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.crc = 0

    def check(self, number: int, line: str) -> None:
        stated = _stated_crc(line)
        body = line[:-_SEAL_LENGTH] + "}"
        if stated is None or zlib.crc32(body.encode(), self.crc) != stated:
            raise ValueError(
                f"{self.path}:{number}: the line does not match its checksum: it was edited or "
                f"damaged after it was written, or a line before it was removed or moved"
            )
        self.crc = stated


def _stated_crc(line: str) -> int | None:
    """The checksum a sealed line ends with, or None when it has none."""
    if len(line) < _SEAL_LENGTH or not line.endswith('"}'):
        return None
    if line[-_SEAL_LENGTH:-10] != _SEAL:
        return None
    digits = line[-10:-2]
    if not all(c in "0123456789abcdef" for c in digits):
        return None
    return int(digits, 16)


def _last_crc(path: Path) -> int:
    """The checksum of a sealed journal's last complete line: where an append continues the
    chain."""
    data = path.read_bytes()
    last = data[: data.rfind(b"\n")].rsplit(b"\n", 1)[-1]
    stated = _stated_crc(last.decode("utf-8", "replace"))
    if stated is None:
        raise JournalError(f"{path}: its last line has no checksum, though its header says so")
    return stated


def read_header(path: str | os.PathLike[str], limit: int = 1 << 20) -> dict[str, Any] | None:
    """The journal's header line alone (at most *limit* bytes read), or None when the file's
    first line is not a header: a cheap look before anything else of a run is read."""
    with open(path, "rb") as stream:
        line = stream.readline(limit)
    try:
        header = decode(line.decode("utf-8"))
    except (*_UNREADABLE, UnicodeDecodeError):
        return None
    return header if isinstance(header, dict) else None


def _why(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)


def _text(path: Path, number: int, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}:{number}: not UTF-8 text (binary garbage?)") from None


def sync_directory(directory: Path) -> None:
    """fsync a directory, so a file just created in it survives a crash of the machine."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover - file systems that refuse it
        pass
    finally:
        os.close(descriptor)


def _drop_torn_tail(path: Path) -> None:
    """Cut a journal back to its last complete line before appending (after a crash mid-write)."""
    if not path.exists():
        return
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        descriptor = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        try:
            os.ftruncate(descriptor, end)
        finally:
            os.close(descriptor)
