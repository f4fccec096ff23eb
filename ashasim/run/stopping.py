"""How a run and its workers stop, in words and signals: SIGTERM and SIGHUP turned into an orderly
stop of the driver's loop (``Terminated``, exit status 143), and the one-line reasons a journal
gives for a cancelled job or a dead worker.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

from ashasim.errors import first_line

__all__ = ["Terminated", "exit_reason", "stop_on_signals", "stop_reason"]


class Terminated(SystemExit):
    """SIGTERM (or SIGHUP) reached the driver: the run stops as on Ctrl-C (running jobs
    cancelled in the journal, workers shut down), then the process exits with 128 + the signal's
    number (143 for SIGTERM), as the shell reports a process the signal killed."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


@contextlib.contextmanager
def stop_on_signals(received: Callable[[int], None]) -> Iterator[None]:
    """While a run goes on, SIGTERM and SIGHUP call ``received(signum)`` instead of killing the
    driver at once; the loop then stops at its next turn (``Terminated``). Only where Python
    allows it (the main thread) and where nobody installed a handler of their own; the previous
    handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {}
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            saved[signum] = signal.signal(signum, lambda number, frame: received(number))
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def stop_reason(error: BaseException) -> str:
    """Why a run stopped, in a few words, for the jobs it cancels."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(error, Terminated):
        return f"terminated ({error.signal_name})"
    if isinstance(error, SystemExit):
        return f"exit({error.code})"
    return first_line(error)


def exit_reason(detail: int | str | None) -> str:
    """A worker's death in words: "killed by SIGKILL", "exit code 1", or the backend's reason."""
    if isinstance(detail, str):
        return detail
    if detail is None:
        return "exit code unknown"
    if detail < 0:
        try:
            return f"killed by {signal.Signals(-detail).name}"
        except ValueError:
            return f"killed by signal {-detail}"
    return f"exit code {detail}"
