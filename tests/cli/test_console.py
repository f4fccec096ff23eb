"""The ``ashasim`` command's entry point (ashasim.console): Ctrl-C while the CLI imports.

A library that is importing when the signal lands may drop the KeyboardInterrupt (Cython modules
registering with collections.abc clear any error) or turn it into an ImportError (a C extension's
capsule import). Both are imitated here with a stand-in for ``ashasim.cli`` whose import receives a
real SIGINT, so the console's own handler is what is under test.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import types
import weakref

import pytest

from ashasim import console


class _Importing(types.ModuleType):
    """``ashasim.cli`` as seen by ``from ashasim.cli import main``: the import gets a SIGINT and
    does with it what *outcome* says."""

    def __init__(self, outcome: str) -> None:
        super().__init__("ashasim.cli")
        self.outcome = outcome

    def __getattr__(self, name: str):
        if self.outcome in ("dropped", "converted"):
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the handler runs here
            except KeyboardInterrupt:
                if self.outcome == "converted":
                    raise ImportError("PyCapsule_Import could not import module") from None
                # "dropped": as a library that clears every error would
        if self.outcome == "broken":
            raise ImportError("a genuinely missing module")
        return lambda: 0


@pytest.fixture
def cli(monkeypatch):
    def install(outcome: str) -> None:
        monkeypatch.setitem(sys.modules, "ashasim.cli", _Importing(outcome))

    return install


@pytest.mark.parametrize("outcome", ["dropped", "converted"])
def test_an_interrupt_a_library_loses_while_importing_still_ends_the_command(cli, capsys, outcome):
    cli(outcome)
    assert console.main() == console.INTERRUPTED
    assert capsys.readouterr().err.strip() == "ashasim: interrupted"


def test_without_an_interrupt_the_command_runs_and_errors_are_not_hidden(cli):
    cli("clean")
    assert console.main() == 0
    cli("broken")
    with pytest.raises(ImportError, match="genuinely missing"):
        console.main()


def test_the_previous_sigint_handler_comes_back(cli):
    cli("clean")
    before = signal.getsignal(signal.SIGINT)
    console.main()
    assert signal.getsignal(signal.SIGINT) is before


def test_an_ignored_sigint_stays_ignored(cli, monkeypatch):
    # nohup and background jobs start with SIGINT ignored: the command is not to be interrupted
    cli("clean")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        console.main()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("where", ["weakref callback", "finalizer"])
def test_an_interrupt_python_discards_is_raised_again_in_the_command(where, capsys):
    """Python discards an exception raised inside a weakref callback or a ``__del__`` (it prints
    "Exception ignored in ..."); a Ctrl-C landing there (importlib's module locks have such
    callbacks) would be lost and the run would go on. The entry point raises it again."""

    class Thing:
        def __del__(self) -> None:
            if where == "finalizer":
                raise KeyboardInterrupt

    def command() -> int:
        thing = Thing()
        if where == "weakref callback":
            keep = weakref.ref(thing, lambda ref: (_ for _ in ()).throw(KeyboardInterrupt()))  # noqa: F841
        del thing  # the callback or the finalizer runs here, and its interrupt is discarded
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the interrupt arrives again while the command runs
            time.sleep(0.001)
        return 0

    module = types.ModuleType("ashasim.cli")
    module.main = command
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "ashasim.cli", module)
        assert console.main() == console.INTERRUPTED
    assert "ashasim: interrupted" in capsys.readouterr().err
