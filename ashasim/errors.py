"""An error told in one line: what a summary, a table cell or a retry message shows of it.

A traceback's last line names the exception and its message (``ValueError: lr must be > 0``);
the lines above it say where, which belongs in the log, not in a one-line summary. An exception
object is told by the first line of its message: later lines are detail (a path, a hint).
"""

from __future__ import annotations

__all__ = ["first_line", "last_line"]


def last_line(error: str | None, *, default: str = "(no message)") -> str:
    """The last non-blank line of *error* (a traceback or a message), stripped; *default* when
    there is none."""
    lines = [line for line in (error or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else default


def first_line(error: BaseException) -> str:
    """The first line of *error*'s message; its type's name when the message is empty."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
