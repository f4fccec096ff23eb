"""A one-line, throttled progress display for long runs (no dependency, safe in scripts).

It redraws a single status line on stderr at most every ``interval`` seconds, with a bar when the
fraction done is known. ``quiet`` (or a non-terminal stderr, unless ``force``) turns it off, so
logs and CI output stay clean. With ``lines`` it prints a plain line per update instead, which is
what a notebook or a log file can show; ``wait_first`` holds the first line back one interval.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """1:02:03 / 4:05 / 6.0s: short and unambiguous."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """``update(fraction, text)`` redraws the line (throttled); ``close()`` ends it."""

    def __init__(
        self,
        label: str,
        *,
        quiet: bool = False,
        force: bool = False,
        interval: float = 0.5,
        stream: TextIO | None = None,
        width: int = 24,
        lines: bool = False,
        wait_first: bool = False,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.lines = lines  # one plain line per update (notebooks, logs) instead of a redraw
        self.enabled = not quiet and (force or lines or self.stream.isatty())
        self.label = label
        self.interval = interval
        self.width = width
        # wait_first: nothing before the first interval has passed, so a short run prints nothing
        self._last = time.monotonic() if wait_first else -float("inf")
        self._drawn = False

    def update(self, fraction: float | None, text: str, *, now: bool = False) -> None:
        if not self.enabled:
            return
        clock = time.monotonic()
        if not now and clock - self._last < self.interval:
            return
        self._last = clock
        bar = ""
        if fraction is not None:
            fraction = min(max(fraction, 0.0), 1.0)
            filled = round(fraction * self.width)
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} "
        if self.lines:
            self.stream.write(f"{self.label} {bar}{text}\n")
        else:
            self.stream.write(f"\r{self.label} {bar}{text}\033[K")
            self._drawn = True
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False
