"""The ``ray`` backend: the same driver loop over Ray actors, for clusters.

One actor per worker, created once and reused for every job (never an actor per trial). Each
actor runs the worker loop of ``ashasim.run.worker`` in a thread; two in-actor queues carry the
messages, which the driver reaches through two actor methods: ``next_messages`` (blocks until the
worker says something) and ``deliver`` (a job, a decision, "exit"). The driver keeps one
``next_messages`` call outstanding per actor and waits on all of them with ``ray.wait``; an actor
that dies (``ray.kill``, a node lost, the process killed) turns its outstanding call into an error,
which the driver sees as ``Died(...)``, exactly like a dead local process.

Placement: each actor asks for one CPU (``backend_options={"num_cpus": 0.5}``: another share)
and, when the cluster has GPUs, ``1 / workers_per_device`` of a GPU, so Ray packs
``workers_per_device`` actors on each GPU across the nodes and sets their
``CUDA_VISIBLE_DEVICES``.

Checkpoints: in ``checkpoint_storage`` (``ashasim.run.storage``): a folder every node mounts at
the same path, or an object store URI; every worker checks it at start-up. Not Ray's object
store: a checkpoint must outlive the driver (a resume after a crash reloads paused trials), and
object-store objects die with the driver that owns them.

When the driver dies: SIGTERM ends the run as on the local backend (running jobs cancelled in
the journal, exit status 143; Ray's own handler, which exits 15, is not kept). A driver that
started a local Ray instance (no address) has a watcher (``ashasim.run.ray_janitor``) end that
instance's processes if it dies without stopping them (SIGKILL, OOM kill). A driver that joined a
running cluster started no Ray process: the cluster's processes stay (they are the cluster's),
and Ray ends the dead driver's actors itself (they are not detached: they share its fate).

What travels: the objective by value with its own modules (``ashasim.run.worker``); packages it
imports, and ashasim itself, must be installed on every node.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from ashasim.driver import RunError
from ashasim.run.backend import Backend, WorkerSlot
from ashasim.run.messages import Died, Exit
from ashasim.run.worker import serve

__all__ = ["ClusterUnreachableError", "RayBackend", "check_reachable"]

CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster's address before refusing


class ClusterUnreachableError(RunError):
    """The Ray cluster at the given address cannot be reached (nothing was written)."""


def check_reachable(address: str | None, timeout: float = CONNECT_TIMEOUT) -> None:
    """Refuse, in one line, an address ``host:port`` (or ``ray://host:port``) that does not
    accept a connection within *timeout* seconds, rather than let ``ray.init`` retry a dead
    cluster for minutes. None and "auto" are Ray's to resolve."""
    if address is None or address in ("auto", "local"):
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise ClusterUnreachableError(
            f"cannot reach the Ray cluster at {address} ({error.strerror or error}); is it "
            f"running? give its current address (ray_address=..., --ray-address)"
        ) from None


class _QueueChannel:
    """The worker's end of the two in-actor queues."""

    def __init__(self, outbox: queue.Queue, inbox: queue.Queue) -> None:
        self._outbox, self._inbox = outbox, inbox

    def send(self, message: Any) -> None:
        self._outbox.put(message)

    def recv(self) -> Any:
        return self._inbox.get()


class _ActorBody:
    """What each Ray actor runs: the worker loop in a thread, fed through two queues."""

    def __init__(self, objective: bytes, threads: int | None) -> None:
        self._to_driver: queue.Queue = queue.Queue()
        self._to_worker: queue.Queue = queue.Queue()
        channel = _QueueChannel(self._to_driver, self._to_worker)
        self._thread = threading.Thread(
            target=serve, args=(channel, objective, threads), name="ashasim-worker", daemon=True
        )
        self._thread.start()

    def next_messages(self, timeout: float) -> list[Any]:
        """Everything the worker said, waiting up to ``timeout`` seconds for the first message."""
        try:
            messages = [self._to_driver.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                messages.append(self._to_driver.get_nowait())
            except queue.Empty:
                return messages

    def deliver(self, message: Any) -> None:
        self._to_worker.put(message)

    def pid(self) -> int:
        import os

        return os.getpid()


def _same_cluster(ray: Any, address: str | None) -> bool:
    """Whether this process's Ray connection is to *address* (None, "auto": any will do)."""
    if address is None or address in ("auto", "local"):
        return True
    current = ray.get_runtime_context().gcs_address or ""
    return address.removeprefix("ray://") == current


def _init(ray: Any, address: str | None) -> None:
    """``ray.init``, keeping the driver's SIGTERM handling (Ray's own exits with status 15 from
    wherever the driver is, often inside Ray's native code, which then dumps its stack), and
    watching over the Ray processes a local instance starts (``ashasim.run.ray_janitor``)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except ConnectionError as error:
        raise ClusterUnreachableError(f"cannot connect to Ray at {address}: {error}") from None
    finally:
        if main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
    _start_janitor(os.path.dirname(os.path.abspath(ray.__file__)))


_JANITOR: list[subprocess.Popen] = []  # this process's one watcher, once Ray was started here


def _start_janitor(ray_dir: str) -> None:
    """Start the watcher that ends this driver's Ray processes if it dies without stopping them
    (Linux; elsewhere Ray's own clean-up is all there is). It holds the only other end of its
    stdin, so it sees the driver's death however it comes; it runs in a session of its own, so
    a Ctrl-C to the terminal does not end it first. With a cluster's address the driver started
    no Ray process, and the watcher finds none to end."""
    if _JANITOR or not sys.platform.startswith("linux"):
        return
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ray_janitor.py")
    _JANITOR.append(
        subprocess.Popen(
            [sys.executable, "-I", script, str(os.getpid()), ray_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    )


class RayBackend(Backend):
    """Workers as Ray actors (``pip install 'ashasim[ray]'``)."""

    POLL = 0.5  # seconds a next_messages call blocks in the actor before returning empty

    def __init__(
        self,
        slots: list[WorkerSlot],
        ray_address: str | None = None,
        workers_per_device: int | None = None,
        use_gpus: bool = True,
        num_cpus: float = 1.0,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError("backend='ray' needs ray: pip install 'ashasim[ray]'") from None
        self._ray = ray
        check_reachable(ray_address)
        if ray.is_initialized() and not _same_cluster(ray, ray_address):
            ray.shutdown()  # this process was connected to another (e.g. the dead) cluster
        if not ray.is_initialized():
            _init(ray, ray_address)
        gpus = ray.cluster_resources().get("GPU", 0)
        if gpus and use_gpus:
            per_device = workers_per_device or math.ceil(len(slots) / gpus)
            self._num_gpus = 1.0 / per_device
        else:
            self._num_gpus = 0.0
        self._num_cpus = num_cpus  # per actor (fractions pack actors that do little CPU work)
        self._actor_class = ray.remote(_ActorBody)
        self._actors: dict[int, Any] = {}
        self._pending: dict[Any, int] = {}  # outstanding next_messages call -> worker

    def start(self, slot: WorkerSlot, objective: bytes) -> None:
        actor = self._actor_class.options(
            num_cpus=self._num_cpus,
            num_gpus=self._num_gpus,
            max_concurrency=4,  # next_messages blocks in one thread while deliver runs
            name=None,
        ).remote(objective, slot.threads)
        self._actors[slot.index] = actor
        self._pending[actor.next_messages.remote(self.POLL)] = slot.index  # type: ignore[union-attr]

    def send(self, index: int, message: Any) -> None:
        actor = self._actors.get(index)
        if actor is not None:
            actor.deliver.remote(message)

    def wait(self, until: float) -> list[tuple[int, Any]]:
        timeout = max(0.0, until - self.clock())
        ray = self._ray
        if not self._pending:
            return []
        refs = list(self._pending)
        ready, rest = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready and rest:  # whatever else is ready too, without waiting
            ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
        messages: list[tuple[int, Any]] = []
        for ref in ready:
            index = self._pending.pop(ref)
            if index not in self._actors:
                continue  # stopped on purpose
            try:
                batch = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorDiedError) as error:
                messages.append((index, Died(f"Ray actor died: {type(error).__name__}")))
                del self._actors[index]
                continue
            messages.extend((index, message) for message in batch)
            actor = self._actors[index]
            self._pending[actor.next_messages.remote(self.POLL)] = index
        return messages

    def pid(self, index: int) -> int | None:
        actor = self._actors.get(index)
        return None if actor is None else self._ray.get(actor.pid.remote())

    def kill(self, index: int) -> None:
        actor = self._actors.pop(index, None)
        if actor is not None:
            self._ray.kill(actor)

    def close(self) -> None:
        for index in list(self._actors):
            self.send(index, Exit())
        for index in list(self._actors):
            self.kill(index)
        self._pending.clear()
