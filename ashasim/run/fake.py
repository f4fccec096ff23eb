"""``FakeBackend``: the real executor's workers in the driver's own process, on a virtual clock.

What it is for: testing executor logic (failures, resume, stopping criteria, progress) in
milliseconds without spawning processes, and debugging an objective with a debugger attached.
The objective, ``Reporter``, ``checkpoint`` and the worker loop are the very code the process
workers run; only the transport and the clock are fake.

Theory of operation
-------------------
Each worker is a thread running ``ashasim.run.worker.serve``, but only one thread ever runs at a
time: ``send`` hands a message to a worker and waits until the worker has answered with its next
message (or parked for good), so the whole run is a deterministic, single-threaded sequence.

Time is virtual. A worker resumed at time t stamps its next message t + cost, where cost is the
epoch's ``epoch_seconds(trial_id, config, epoch)`` for a ``Report`` and 0 for anything else (an
objective unwinds, returns or fails instantly). ``wait(until)`` jumps the clock to the earliest
pending message and returns that one message. Messages of one instant come in the driver's tie
order (``ashasim.tie_order.tie_key``: workers' epochs by worker index, then deaths), as the SimPy
clock's events do; a worker's answer to a reply (it unwinds after STOP) comes right after the
report it answers, before any other worker's message, as in SimPy, where the job ends in the same
step. And
``quiescent()`` holds dispatch back until the instant is over, as the SimPy clock does. So the
same scheduler, seed and epoch costs give the same trace here as in ``ashasim.sim.simulate`` (a
tested property), as long as epochs take positive time and no per-job overheads are modeled.

``die(worker)`` makes a worker die now (its pending message is lost, a ``Died`` follows), like a
SIGKILL of a process worker; *dies* makes workers die in the middle of chosen epochs (the report
never comes, ``Died`` comes when it would have). Two faults of real objectives can be modeled in
virtual time:
*unwind_seconds* delays every job end (an objective whose ``finally`` frees memory or closes
files: other workers' messages and dispatches come in between), and an epoch of ``math.inf``
seconds is an objective that hangs (its report never comes; only a time limit ends the job).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

from ashasim.checks import check_number
from ashasim.run.backend import Backend, WorkerSlot
from ashasim.run.messages import Died, Exit, Failed, Report, Returned, RunJob, Stopped
from ashasim.run.worker import serve
from ashasim.tie_order import EPOCH, LOSS, tie_key

__all__ = ["FakeBackend"]

EpochSeconds = Callable[[int, dict, int], float]
_JOB_ENDS = (Stopped, Returned, Failed)

# a message due at (time, order of sending, tie rank, worker index, the message)
_Pending = tuple[float, tuple[int, int], int, int, Any]


class _Killed(BaseException):
    """Raised in a killed worker's thread at its next message, to unwind it."""


class _Worker:
    """One worker thread and the state the backend keeps about it."""

    def __init__(self, backend: FakeBackend, index: int) -> None:
        self.backend = backend
        self.index = index
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.parked = threading.Semaphore(0)
        self.resumed_at = 0.0
        self.answering: tuple[int, int] | None = None  # key of the report a reply answers
        # (time, key) of a final report (the job's milestone: no answer comes), which the
        # worker's next message follows at once, as it would follow the reply
        self.follows: tuple[float, tuple[int, int]] | None = None
        self.job: Any = None  # the JobSpec it runs, for the epoch costs
        self.alive = True
        self.thread: threading.Thread | None = None

    # the worker's end of the channel (runs in the worker's thread)

    def send(self, message: Any) -> None:
        if not self.alive:
            raise _Killed
        if self.backend._produced(self, message):
            self.alive = False  # died in that epoch: unwind this thread, say nothing more
            raise _Killed

    def recv(self) -> Any:
        self.parked.release()
        message = self.inbox.get()
        if message is _KILL:
            raise _Killed
        if type(message) is RunJob:
            self.job = message.spec
        return message

    def main(self, objective: bytes) -> None:
        try:
            serve(self, objective)
        except _Killed:
            pass
        finally:
            self.alive = False
            self.parked.release()


_KILL = object()


class FakeBackend(Backend):
    """In-process workers on a virtual clock; see the module docstring.

    *epoch_seconds*: the virtual seconds each reported epoch takes: a number, or a function
    ``(trial_id, config, epoch) -> seconds`` (e.g. a cost model's; ``math.inf``: the objective
    hangs in that epoch). *resource_attr*: the report key that counts epochs (the scheduler's).
    *unwind_seconds*: virtual seconds between a job's end (STOP, its milestone, a return or an
    exception) and the worker's message saying so (0: at once, as in the SimPy clock).
    *dies*: ``(trial_id, config, epoch) -> bool``, True when the worker running that epoch dies
    in the middle of it, like a process worker killed by SIGKILL (None: no worker ever dies).
    """

    def __init__(
        self,
        epoch_seconds: float | EpochSeconds = 1.0,
        *,
        resource_attr: str = "epoch",
        unwind_seconds: float = 0.0,
        dies: Callable[[int, dict, int], bool] | None = None,
    ) -> None:
        if callable(epoch_seconds):
            self._epoch_seconds: EpochSeconds = epoch_seconds
        else:
            seconds = check_number("epoch_seconds", epoch_seconds, minimum=0)
            self._epoch_seconds = lambda trial_id, config, epoch: seconds
        self.resource_attr = resource_attr
        self.unwind_seconds = check_number("unwind_seconds", unwind_seconds, minimum=0)
        self.dies = dies
        self.now = 0.0
        self._workers: dict[int, _Worker] = {}
        # (time, order, after, worker, message): order is (tie key, count), ``after`` 1 puts a
        # worker's answer to a reply right behind the report it answers (same time and order)
        self._pending: list[tuple[float, tuple[int, int], int, int, Any]] = []
        self._delivered: dict[int, tuple[float, tuple[int, int]]] = {}  # worker -> last key
        self._order = itertools.count()

    # -- the clock ------------------------------------------------------------------------------

    def clock(self) -> float:
        return self.now

    def quiescent(self) -> bool:
        return not self._pending or self._pending[0][0] > self.now

    # -- workers --------------------------------------------------------------------------------

    def start(self, slot: WorkerSlot, objective: bytes) -> None:
        worker = _Worker(self, slot.index)
        self._workers[slot.index] = worker
        worker.thread = threading.Thread(
            target=worker.main, args=(objective,), name=f"ashasim-fake-{slot.index}", daemon=True
        )
        self._resume(worker, lambda: worker.thread.start())  # type: ignore[union-attr]

    def send(self, index: int, message: Any) -> None:
        worker = self._workers.get(index)
        if worker is None or not worker.alive:
            return
        delivered = self._delivered.get(index)
        if type(message) is str and delivered is not None and delivered[0] == self.now:
            worker.answering = delivered[1]  # a reply to the report just delivered
        self._resume(worker, lambda: worker.inbox.put(message))
        worker.answering = None

    def _resume(self, worker: _Worker, wake: Callable[[], None]) -> None:
        """Let ``worker`` run until it parks again (its next message is then pending)."""
        worker.resumed_at = self.now
        wake()
        worker.parked.acquire()

    def _produced(self, worker: _Worker, message: Any) -> bool:
        """A message from a worker's thread: stamp it with its virtual time and queue it. True
        when the worker dies in the epoch the message reports (``Died`` is queued instead)."""
        at, answering = worker.resumed_at, worker.answering
        if worker.follows is not None:
            (at, answering), worker.follows = worker.follows, None
        if type(message) is Report:
            epoch = message.values.get(self.resource_attr)
            if worker.job is not None and isinstance(epoch, int) and not isinstance(epoch, bool):
                config = worker.job.config
                at += self._epoch_seconds(message.trial_id, config, epoch)
                if self.dies is not None and self.dies(message.trial_id, config, epoch):
                    died: _Pending = (at, self._key(worker.index), 0, worker.index, Died("killed"))
                    heapq.heappush(self._pending, died)
                    return True
            entry: _Pending = (at, self._key(worker.index), 0, worker.index, message)
            if message.final:
                worker.follows = (entry[0], entry[1])
        elif self.unwind_seconds and type(message) in _JOB_ENDS:
            entry = (at + self.unwind_seconds, self._key(worker.index), 0, worker.index, message)
        elif answering is not None:
            entry = (at, answering, 1, worker.index, message)
        else:
            entry = (at, self._key(worker.index), 0, worker.index, message)
        heapq.heappush(self._pending, entry)
        return False

    def _key(self, index: int, kind: int = EPOCH) -> tuple[int, int]:
        """A message's place among those of its instant: the tie order, then production order."""
        return tie_key(kind, index), next(self._order)

    def wait(self, until: float) -> list[tuple[int, Any]]:
        """The earliest pending message, if it comes before ``until`` (or now); else the clock
        moves on to ``until``. One at a time: handling it may produce the next one."""
        pending = self._pending
        if not pending or (pending[0][0] > self.now and pending[0][0] >= until):
            self.now = max(self.now, until)
            return []
        at, order, _, index, message = heapq.heappop(pending)
        self.now = max(self.now, at)
        self._delivered[index] = (at, order)
        return [(index, message)]

    def die(self, index: int) -> None:
        """The worker dies now, as if killed from outside: what it was about to say is lost,
        ``Died`` follows (``kill`` is the loop's own kill: nothing follows)."""
        worker = self._workers.get(index)
        if worker is None or not worker.alive:
            return
        self._drop_messages(index)
        self._end(worker)
        heapq.heappush(self._pending, (self.now, self._key(index, LOSS), 0, index, Died("killed")))

    def kill(self, index: int) -> None:
        worker = self._workers.pop(index, None)
        if worker is not None:
            self._drop_messages(index)
            self._end(worker)

    def _drop_messages(self, index: int) -> None:
        self._pending = [entry for entry in self._pending if entry[3] != index]
        heapq.heapify(self._pending)

    def _end(self, worker: _Worker) -> None:
        if worker.alive:
            worker.alive = False
            self._resume(worker, lambda: worker.inbox.put(_KILL))
        if worker.thread is not None:
            worker.thread.join()

    def close(self) -> None:
        for index in list(self._workers):
            worker = self._workers.pop(index)
            if worker.alive:
                self._resume(worker, functools.partial(worker.inbox.put, Exit()))
            if worker.thread is not None:
                worker.thread.join()
        self._pending.clear()
