"""The ``ashasim`` command's entry point: the CLI, with Ctrl-C honoured from the first moment.

``ashasim.cli`` imports numpy, matplotlib and every command's module; a Ctrl-C while that import
runs would otherwise surface as a Python traceback from inside some third-party module, or worse,
be lost: a C extension that is importing when the signal lands can turn it into an unrelated
``ImportError`` ("PyCapsule_Import could not import module ...") or drop it. This module imports
nothing but the standard library (``ashasim/__init__`` loads no library), and while the CLI imports
it notes the signal itself, so any interrupt in that window ends in the same one line and exit
status 130 as an interrupted run. For the whole command, an interrupt that Python itself discards
(raised inside a finalizer or a weakref callback) is raised again where the command can handle it.
"""

from __future__ import annotations

import _thread
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for a command stopped by Ctrl-C


def main() -> int:
    """Import and run the CLI; an interrupt at any point ends in one line and status 130."""
    received: list[int] = []
    with _redelivering_interrupts():
        try:
            with _noting_interrupts(received):
                # numpy.random's Cython modules register their types with collections.abc as
                # they import and drop any error raised meanwhile, a Ctrl-C's included; every
                # command draws from it, so it is imported here, where a dropped interrupt is
                # noticed.
                import numpy.random  # noqa: F401

                from ashasim.cli import main as cli_main
            if received:  # the interrupt was swallowed or converted while a library imported
                raise KeyboardInterrupt
            return cli_main()
        except BaseException as error:
            if not (received or isinstance(error, KeyboardInterrupt)):
                raise
            print("\nashasim: interrupted", file=sys.stderr)
            return INTERRUPTED


@contextlib.contextmanager
def _noting_interrupts(received: list[int]) -> Iterator[None]:
    """While the block runs, Ctrl-C is recorded in *received* as well as raised as usual; the
    previous handler comes back after. Left alone where SIGINT is ignored (``nohup``, a
    background job): the command then is not meant to be interrupted."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _redelivering_interrupts() -> Iterator[None]:
    """While the block runs, a KeyboardInterrupt that Python had to discard (raised inside a
    finalizer or a weakref callback, e.g. importlib's module-lock callbacks during an import:
    "Exception ignored in ...") is raised again in the main thread, where the command handles it;
    other discarded errors are reported as before."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            # from another thread, a moment later: raised at once, it would land in this hook or
            # the finalizer still running, and be discarded again
            threading.Thread(target=_interrupt_main_soon, daemon=True).start()
            return
        previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _interrupt_main_soon() -> None:
    time.sleep(0.05)
    _thread.interrupt_main()
