"""Where checkpoints live: a folder every worker can reach, given as a path or a URI.

A plain path (the default: ``<experiment_dir>/checkpoints``) is used with the operating system's
calls; on a cluster it must be a file system every node mounts at the same absolute path (NFS,
a cluster file system). A URI (``s3://bucket/prefix``, ``gs://...``, ``memory://...``: any
protocol fsspec knows, ``pip install fsspec`` plus the protocol's package, e.g. ``s3fs``) needs
no shared disk at all: every worker writes and reads the object store directly, and the driver
never carries a checkpoint (it stays as light as the capacity plan in docs/guides/cluster.md
assumes).
``file://`` URIs are plain paths.

Every write is atomic: on a file system a temporary file then a rename, so a crash mid-save
leaves the previous checkpoint; on an object store a single PUT, which stores all of the object
or none of it.

``probe_write``/``probe_check`` check at start-up that a worker sees the location as the driver
does (what the driver wrote there, and the driver what it wrote), so a location that is not
shared refuses the run in one line instead of making promoted trials retrain from scratch.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
import uuid
from pathlib import Path

__all__ = [
    "Store",
    "is_uri",
    "join",
    "open_store",
    "probe_answer",
    "probe_check",
    "probe_clean",
    "probe_write",
    "where_am_i",
]

PROBE = ".ashasim-probe"


def is_uri(location: str) -> bool:
    """True for ``scheme://...`` other than ``file://`` (those go through fsspec)."""
    return "://" in location and not location.startswith("file://")


def join(location: str, name: str) -> str:
    return f"{location.rstrip('/')}/{name}" if is_uri(location) else str(Path(location) / name)


def where_am_i() -> str:
    """This worker's host (and Ray node address when it runs in a Ray actor), for messages."""
    host = socket.gethostname()
    ray = sys.modules.get("ray")
    if ray is not None:
        with contextlib.suppress(Exception):
            return f"host {host} (Ray node {ray.util.get_node_ip_address()})"
    return f"host {host}"


class Store:
    """One folder of a location: small whole-object reads and writes, by name."""

    def __init__(self, location: str) -> None:
        self.location = location
        if is_uri(location):
            try:
                import fsspec
            except ImportError:
                raise ValueError(
                    f"checkpoint_storage {location!r} is a URI, which needs fsspec: "
                    f"pip install fsspec (and the protocol's package, e.g. s3fs for s3://)"
                ) from None
            self._fs, self._root = fsspec.core.url_to_fs(location)
            self._path: Path | None = None
        else:
            self._fs = None
            self._root = location.removeprefix("file://")
            self._path = Path(self._root)

    @property
    def path(self) -> Path | None:
        """The folder on this machine's file system (None for an object store)."""
        return self._path

    def write(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name``, atomically."""
        if self._path is None:
            self._fs.pipe_file(f"{self._root}/{name}", data)  # one PUT: all or nothing
            return
        self._path.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self._path, prefix=".checkpoint-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, self._path / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, name: str) -> bytes:
        if self._path is None:
            return self._fs.cat_file(f"{self._root}/{name}")
        return (self._path / name).read_bytes()

    def rename(self, source: str, target: str) -> None:
        if self._path is None:
            self._fs.mv(f"{self._root}/{source}", f"{self._root}/{target}")
        else:
            os.replace(self._path / source, self._path / target)

    def exists(self, name: str) -> bool:
        if self._path is None:
            return self._fs.exists(f"{self._root}/{name}")
        return (self._path / name).exists()

    def names(self) -> list[str]:
        """The names in the folder ([] when it does not exist yet)."""
        if self._path is None:
            try:
                entries = self._fs.ls(self._root, detail=False)
            except FileNotFoundError:
                return []
            return [entry.rstrip("/").rsplit("/", 1)[-1] for entry in entries]
        if not self._path.exists():
            return []
        return [entry.name for entry in self._path.iterdir()]

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self._path is None:
                self._fs.rm_file(f"{self._root}/{name}")
            else:
                (self._path / name).unlink()


def open_store(location: str) -> Store:
    return Store(location)


# -- the start-up check -------------------------------------------------------------------------


def probe_write(location: str) -> str:
    """The driver's half, before workers start: a token written under the location; returns it
    (raises OSError, ValueError when the driver itself cannot write there)."""
    token = uuid.uuid4().hex
    Store(join(location, PROBE)).write(token, token.encode())
    return token


def probe_answer(location: str, token: str) -> tuple[str | None, str]:
    """The worker's half: read the driver's token, write one back. (error or None, the name
    written), the error in words naming this worker's host."""
    where = where_am_i()
    store = Store(join(location, PROBE))
    try:
        seen = store.read(token)
    except Exception as error:
        return (
            f"the worker on {where} cannot read what the driver wrote there "
            f"({type(error).__name__}: {error})",
            "",
        )
    if seen != token.encode():
        return f"the worker on {where} reads other content than the driver wrote", ""
    name = f"{token}-{uuid.uuid4().hex}"
    try:
        store.write(name, token.encode())
    except Exception as error:
        return f"the worker on {where} cannot write there ({type(error).__name__}: {error})", ""
    return None, name


def probe_check(location: str, name: str) -> bool:
    """The driver's last half: it reads what a worker wrote (then removes it)."""
    store = Store(join(location, PROBE))
    try:
        ok = bool(store.read(name))
    except Exception:
        return False
    store.remove(name)
    return ok


def probe_clean(location: str, token: str) -> None:
    with contextlib.suppress(Exception):
        Store(join(location, PROBE)).remove(token)
