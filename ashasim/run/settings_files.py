"""A run's settings on disk: ``settings.json``, and code by value only when the user allows it.

``settings.json`` says each setting as data (``ashasim.run.codec``): the frame (scheduler and
searcher as their constructor calls, the space in its JSON form, workers, stop, faults), the
objective as an import path with the folder it came from, the backend and checkpoint configs.
Every value is rebuilt from its data before the run starts and compared with the original, so a
setting that would come back different is known at once, not on resume.

A setting with no JSON form (an objective defined in a notebook cell, a lambda, a scheduler
whose arguments are not attributes) is kept by value in ``by_value.pkl`` only when the run was
started with ``allow_pickle=True`` (``--trust-run-dir``); ``settings.json`` records which, and
the pickle's SHA-256. Resume reads that pickle only with the same switch; otherwise it says in
one line what it would load and how to allow it. Without the switch such a setting is not kept
at all, the run warns when it starts, and resume explains why it cannot continue.

A run directory of the previous format (``tuner.pkl``, the whole settings pickled) is read only
with ``allow_pickle=True`` too, and refused in one line without it.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import os
import pickle
import sys
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ashasim.checks import check_flag
from ashasim.errors import first_line
from ashasim.events.journal import sync_directory
from ashasim.frame import Frame
from ashasim.run.codec import (
    NoJSONFormError,
    UntrustedCodeError,
    decode,
    encode,
    import_from_folder,
)
from ashasim.run.resume import ResumeError
from ashasim.run.settings import (
    BY_VALUE_FILE,
    LEGACY_STATE_FILE,
    STATE_FILE,
    RunSettings,
    objective_name,
)
from ashasim.run.worker import dumps_objective

__all__ = ["FORMAT", "SavedSettings", "load_settings", "save_settings", "settings_files"]

FORMAT = "ashasim.run.settings/2"
VALUES = ("frame", "function", "backend", "checkpoints")  # the settings that are objects
PLAIN = ("name", "print_every", "objective_name", "return_ends_trial", "allow_pickle", "allow_nan")
_ADDED = {"allow_nan": False}  # settings saved before a field existed: the value those runs had
TRUST_SWITCH = "allow_pickle=True (ashasim tune --trust-run-dir)"
_SUGGESTIONS_COMPARED = 5  # a rebuilt scheduler must suggest the same first jobs


@dataclass(frozen=True)
class SavedSettings:
    """The files a new run writes: ``settings.json`` and, if any setting went by value,
    ``by_value.pkl``."""

    text: bytes
    by_value: bytes | None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text).hexdigest()


def settings_files(settings: RunSettings) -> SavedSettings:
    """*settings* as files; ValueError when a setting with no JSON form cannot be pickled."""
    directory = settings.frame.directory or Path(".")
    data: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    unsaved: dict[str, str] = {}
    for name in VALUES:
        value = _value(settings, name)
        try:
            data[name] = as_data(name, value, directory)
        except NoJSONFormError as error:
            if settings.allow_pickle:
                kept[name] = value
            else:
                unsaved[name] = first_line(error)
    by_value = _pickled(kept) if kept else None
    document = {
        "format": FORMAT,
        **{name: getattr(settings, name) for name in PLAIN},
        "objective_file": _objective_file(settings.function),
        "values": data,
        "by_value": None
        if by_value is None
        else {"fields": sorted(kept), "sha256": hashlib.sha256(by_value).hexdigest()},
        "unsaved": unsaved,
    }
    if unsaved:
        warnings.warn(_unsaved_line(directory, settings.objective_name, unsaved), stacklevel=4)
    return SavedSettings(json.dumps(document, indent=1).encode(), by_value)


def _objective_file(objective: Any) -> str | None:
    """The file of the objective's module, for the message when it cannot be loaded again."""
    while isinstance(objective, functools.partial):
        objective = objective.func
    if not isinstance(objective, (types.FunctionType, type)):
        objective = getattr(objective, "fn", type(objective))  # e.g. a façade's trainable
    module = sys.modules.get(getattr(objective, "__module__", "") or "")
    return getattr(module, "__file__", None)


def _value(settings: RunSettings, name: str) -> Any:
    if name == "frame":
        return settings.frame.replace(directory=None)  # a run directory may be moved
    return getattr(settings, name)


def as_data(name: str, value: Any, directory: Path) -> Any:
    """*value* as data that rebuilds it; NoJSONFormError when it cannot or would rebuild
    another."""
    data = encode(value)
    try:
        rebuilt = decode(data, directory)
    except UntrustedCodeError as error:
        raise NoJSONFormError(str(error)) from None
    except Exception as error:
        raise NoJSONFormError(
            f"{name} cannot be rebuilt from its data ({first_line(error)})"
        ) from None
    if encode(rebuilt) != data:
        raise NoJSONFormError(f"{name} rebuilds differently from its data")
    if isinstance(value, Frame):
        value, rebuilt = value.scheduler, rebuilt.scheduler
    if name in ("frame", "scheduler") and not _same_scheduler(value, rebuilt):
        raise NoJSONFormError(
            f"scheduler {type(value).__name__} rebuilt from its arguments behaves "
            f"differently (state that is not a constructor argument)"
        )
    return data


def _same_scheduler(original: Any, rebuilt: Any) -> bool:
    """Same description and same first suggestions (on a copy: the original stays fresh)."""
    if original.describe() != rebuilt.describe():
        return False
    try:
        first = copy.deepcopy(original)
    except Exception:
        return False
    for _ in range(_SUGGESTIONS_COMPARED):
        a, b = first.suggest(), rebuilt.suggest()
        if (a is None) != (b is None):
            return False
        if a is None:
            return True
        if encode(dataclasses.astuple(a)) != encode(dataclasses.astuple(b)):
            return False
    return True


def _pickled(values: dict[str, Any]) -> bytes:
    import cloudpickle

    try:
        return cloudpickle.dumps(values)
    except Exception as error:
        raise ValueError(
            f"{', '.join(sorted(values))} cannot be saved by value for resume (cloudpickle: "
            f"{type(error).__name__}: {first_line(error)})"
        ) from None


def _unsaved_line(directory: Path, objective: str, unsaved: dict[str, str]) -> str:
    name, why = next(iter(unsaved.items()))
    if name == "function":  # the script that made the run can give it again
        return (
            f"{directory}: the objective {objective} was not saved ({why}); a resume must be "
            f"given it again (objective=...; tune.run(resume=True) does), or start the run with "
            f"{TRUST_SWITCH} to keep it by value"
        )
    return (
        f"{directory} cannot be resumed: {name} was not saved ({why}); it is kept by value "
        f"only when the run is started with {TRUST_SWITCH}"
    )


def save_settings(directory: Path, saved: SavedSettings) -> None:
    """Write the files atomically (temporary file, fsync, rename), ``settings.json`` last: a
    crash leaves all of them or no ``settings.json``."""
    if saved.by_value is not None:
        _write_atomically(directory / BY_VALUE_FILE, saved.by_value)
    _write_atomically(directory / STATE_FILE, saved.text)
    sync_directory(directory)


def _write_atomically(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def load_settings(
    directory: Path, allow_pickle: bool = False, objective: Any = None
) -> tuple[RunSettings, str]:
    """The saved settings and the SHA-256 of their file, rebuilt without unpickling anything
    unless *allow_pickle*; ResumeError, in one line, when they are missing, damaged, name code
    they may not, or need the switch. *objective*, given again by the caller, replaces the
    saved one (which then need not have been kept), if it has the saved one's name."""
    directory = Path(directory)
    path = directory / STATE_FILE
    if not path.exists() and (directory / LEGACY_STATE_FILE).exists():
        return _load_legacy(directory, allow_pickle)
    document = _document(directory, path)
    given = {} if objective is None else {"function": _given(document, objective)}
    unsaved = {k: v for k, v in (document.get("unsaved") or {}).items() if k not in given}
    if unsaved:
        raise ResumeError(_unsaved_line(directory, document.get("objective_name", "?"), unsaved))
    values = {**_by_value(directory, document, allow_pickle, skip=set(given)), **given}
    try:
        for name in VALUES:
            if name not in values:
                values[name] = decode(document["values"][name], directory)
    except UntrustedCodeError as error:
        raise ResumeError(f"{path}: {error}; nothing was run") from None
    except ImportError as error:
        file = document.get("objective_file")
        where = f" (it came from {file})" if file else ""
        raise ResumeError(
            f"cannot load the objective {document.get('objective_name', '?')}{where}: "
            f"{type(error).__name__}: {first_line(error)}; put its folder on PYTHONPATH or "
            f"resume from the directory the run was started in"
        ) from None
    except Exception as error:
        raise ResumeError(f"{path} is damaged ({first_line(error)})") from None
    return _settings(path, document, values), hashlib.sha256(path.read_bytes()).hexdigest()


def _document(directory: Path, path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ResumeError(f"{directory} holds no resumable run (no {STATE_FILE})") from None
    except OSError as error:
        raise ResumeError(f"{path}: cannot read it ({error.strerror})") from None
    if not text:
        raise ResumeError(f"{path} is empty: the run's saved settings are lost")
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ResumeError(f"{path} is damaged ({first_line(error)})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ResumeError(f"{path} does not hold a run's settings in the format {FORMAT}")
    return document


def _given(document: dict[str, Any], objective: Any) -> Any:
    """The objective a resume was given, if it is the run's (by name)."""
    saved, name = document.get("objective_name"), objective_name(objective)
    if saved != name:
        raise ResumeError(f"the run's objective is {saved}, not {name}")
    return objective


def _by_value(
    directory: Path, document: dict[str, Any], allow_pickle: bool, skip: set[str]
) -> dict[str, Any]:
    """The settings kept by value (but those in *skip*): read only with *allow_pickle*, and
    only when the pickle is the one ``settings.json`` records."""
    record = document.get("by_value")
    if not record or not set(record.get("fields", [])) - skip:
        return {}
    fields = record.get("fields", [])
    what = ", ".join(
        f"the objective {document.get('objective_name', '?')}" if name == "function" else name
        for name in fields
    )
    if not allow_pickle:
        raise ResumeError(
            f"{directory} keeps {what} by value ({BY_VALUE_FILE}, a pickle: reading it runs "
            f"code); resume with {TRUST_SWITCH} only if you trust this directory"
        )
    path = directory / BY_VALUE_FILE
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ResumeError(f"{path}: cannot read it ({error.strerror})") from None
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        raise ResumeError(f"{path} is not the one {STATE_FILE} records (changed or damaged)")
    try:
        values = pickle.loads(data)
    except Exception as error:
        raise ResumeError(
            f"{path} is damaged ({type(error).__name__}: {first_line(error)})"
        ) from None
    if not isinstance(values, dict) or sorted(values) != sorted(fields):
        raise ResumeError(f"{path} does not hold {what}")
    return {name: value for name, value in values.items() if name not in skip}


def _settings(path: Path, document: dict[str, Any], values: dict[str, Any]) -> RunSettings:
    frame = values["frame"]
    if not isinstance(frame, Frame) or not callable(values["function"]):
        raise ResumeError(f"{path} does not hold a run's settings")
    frame.limit_trials()  # as the run did when it started
    try:
        shipped = dumps_objective(values["function"], ship=values["backend"].remote)
        plain = {
            name: document.get(name, _ADDED[name]) if name in _ADDED else document[name]
            for name in PLAIN
        }
        check_flag("allow_nan", plain["allow_nan"])  # a crafted "yes" is damage, not a switch
    except Exception as error:
        raise ResumeError(f"{path} is damaged ({first_line(error)})") from None
    return RunSettings(
        frame=frame,
        objective=shipped,
        config_space=dict(frame.scheduler.config_space),
        backend=values["backend"],
        checkpoints=values["checkpoints"],
        **plain,
        function=values["function"],
        by_value=tuple(document["by_value"]["fields"]) if document.get("by_value") else (),
    )


def _load_legacy(directory: Path, allow_pickle: bool) -> tuple[RunSettings, str]:
    """A run directory of the previous format: its pickle read only with *allow_pickle*."""
    path = directory / LEGACY_STATE_FILE
    if not allow_pickle:
        raise ResumeError(
            f"{directory} was written by an older ashasim ({LEGACY_STATE_FILE}, a pickle: "
            f"reading it runs code); resume with {TRUST_SWITCH} only if you trust this directory"
        )
    try:
        data = path.read_bytes()
        settings = pickle.loads(data)
    except Exception as error:
        raise ResumeError(
            f"{path} is damaged ({type(error).__name__}: {first_line(error)}); the run's "
            f"saved settings cannot be read"
        ) from None
    if not isinstance(settings, RunSettings) or not isinstance(settings.frame, Frame):
        raise ResumeError(f"{path} does not hold a run's settings of this ashasim")
    origin = settings.origin
    try:
        if origin is not None:
            import_from_folder(origin.module, Path(origin.path))
        function = pickle.loads(settings.objective)
    except Exception as error:
        raise ResumeError(
            f"cannot load the objective {settings.objective_name or '?'}: "
            f"{type(error).__name__}: {first_line(error)}"
        ) from None
    settings = dataclasses.replace(settings, function=function, allow_pickle=True)
    return settings, hashlib.sha256(data).hexdigest()
