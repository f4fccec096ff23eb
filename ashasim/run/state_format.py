"""The bytes of a saved trial state: plain data without torch, tensors through torch, and nothing
unpickled without the user's consent.

A checkpoint may sit in shared storage that every worker of a cluster reads, or arrive with a run
directory someone else made, so reading one must not run code. Three encodings, told apart by
their first bytes:

* **plain** (a zip holding ``state.json`` and ``.npy`` members): dicts, lists, tuples, numbers,
  strings, bytes, None, numpy arrays and numpy scalars. Written with the standard library and
  numpy alone, so a worker whose objective never touches torch never pays torch's import (seconds
  on a cold worker, which the simulator's prediction of a run does not include). Read with
  ``json`` and ``numpy.load(allow_pickle=False)``: no code runs.
* **torch** (``torch.save``'s zip): when the state holds anything else and torch is loaded in the
  worker (tensors, a ``state_dict``). Read with ``torch.load(weights_only=True)``, torch's loader
  that refuses arbitrary objects.
* **pickle**: anything else. Written as before, but read only when the run allowed pickled
  checkpoints; otherwise ``UnsafeCheckpointError`` says, in one line, what would run and how to
  allow it.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import sys
import zipfile
from typing import Any

import numpy as np

from ashasim.errors import first_line

__all__ = ["UnsafeCheckpointError", "dumps", "loads"]

TREE = "state.json"
ALLOW_HINT = (
    "allow pickled checkpoints only for files you trust: Checkpoints(allow_pickle=True) on "
    "Experiment.run, or checkpoint.read(path, allow_pickle=True)"
)


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint can only be read by unpickling it, and the run did not allow that."""


class _NotPlainError(Exception):
    """The state holds something the plain encoding cannot store."""


def dumps(state: Any) -> bytes:
    """The bytes of ``state``: plain when it is plain data, else torch's or pickle's."""
    try:
        return _plain_bytes(state)
    except _NotPlainError:
        pass
    buffer = io.BytesIO()
    if "torch" in sys.modules:
        sys.modules["torch"].save(state, buffer)
    else:
        pickle.dump(state, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def loads(data: bytes, *, allow_pickle: bool = False, where: str = "checkpoint") -> Any:
    """The state in ``data``, read without running code unless *allow_pickle*; *where* names the
    file in errors."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if TREE in archive.namelist():
                return _from_plain(archive)
        return _torch_load(data, allow_pickle=allow_pickle, where=where)
    if not allow_pickle:
        raise UnsafeCheckpointError(f"{where} is a pickle, which runs code when read; {ALLOW_HINT}")
    return pickle.loads(data)


def _torch_load(data: bytes, *, allow_pickle: bool, where: str) -> Any:
    import torch

    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as error:
        first = first_line(error)
        raise UnsafeCheckpointError(
            f"{where} holds objects torch's safe loader refuses ({first}); {ALLOW_HINT}"
        ) from None


def _plain_bytes(state: Any) -> bytes:
    arrays: list[np.ndarray] = []
    tree = _encode(state, arrays)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(TREE, json.dumps(tree))
        for index, array in enumerate(arrays):
            member = io.BytesIO()
            np.save(member, array, allow_pickle=False)
            archive.writestr(f"{index}.npy", member.getvalue())
    return buffer.getvalue()


def _encode(value: Any, arrays: list[np.ndarray]) -> Any:
    """A JSON tree of ``value``; every container is tagged so lists, tuples and dicts with any
    plain keys come back as they were."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"v": value}
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise _NotPlainError
        arrays.append(array)
        return {"array" if isinstance(value, np.ndarray) else "scalar": len(arrays) - 1}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode("ascii")}
    if type(value) in (list, tuple):
        return {type(value).__name__: [_encode(item, arrays) for item in value]}
    if type(value) is dict:
        return {"dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    raise _NotPlainError


def _from_plain(archive: zipfile.ZipFile) -> Any:
    def array(index: int) -> np.ndarray:
        with archive.open(f"{index}.npy") as member:
            return np.load(io.BytesIO(member.read()), allow_pickle=False)

    def decode(node: dict[str, Any]) -> Any:
        ((kind, payload),) = node.items()
        if kind == "v":
            return payload
        if kind == "array":
            return array(payload)
        if kind == "scalar":
            return array(payload)[()]
        if kind == "bytes":
            return base64.b64decode(payload)
        if kind in ("list", "tuple"):
            items = [decode(item) for item in payload]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            return {decode(key): decode(value) for key, value in payload}
        raise ValueError(f"unknown node {kind!r} in a saved state")

    return decode(json.loads(archive.read(TREE)))
