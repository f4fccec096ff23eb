"""Settings as data: the values a run directory keeps, written as JSON and rebuilt without pickle.

A run directory is shared (copied between machines, attached to bug reports), so resuming one
must not run code it carries: ``pickle.loads`` of a file in it would. The run's settings are
therefore JSON, and each value is rebuilt from what JSON can say: numbers, strings, lists,
dicts, search-space domains (their JSON form, ``ashasim.space.json_form``), and objects as the
constructor call that makes them (``{"object": "ashasim.core.asha:ASHA", "arguments": {...}}``,
the arguments read back from the object's attributes of the same names).

Which code a rebuilt value may name is the trust boundary. Classes and functions of ashasim
itself are always allowed. Anything else (the user's objective, a scheduler class of their own)
is named by import path plus the folder its module came from, and is imported from that folder
only: that folder held code the user ran when they started the run, so importing it again is
their consent. A folder inside the run directory, the standard library or an installed package
is refused (a run directory naming ``os:system`` runs nothing). ``encode`` refuses a value it
cannot say (a lambda, a closure, a class whose arguments are not attributes), and
``check_round_trip`` refuses one whose rebuilt copy differs: those travel by value, and only
with the run's explicit ``allow_pickle`` switch (``ashasim.run.settings``).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import importlib
import importlib.util
import inspect
import math
import os
import sys
import types
from pathlib import Path
from typing import Any

from ashasim.space import Domain, space_from_json

__all__ = [
    "NoJSONFormError",
    "ShadowedModuleError",
    "UntrustedCodeError",
    "decode",
    "encode",
    "module_folder",
    "reference",
]


class NoJSONFormError(ValueError):
    """A value the settings cannot say as data (it can travel by value, with ``allow_pickle``)."""


class ShadowedModuleError(ImportError):
    """The module of the recorded name is found elsewhere first (a file named like a standard
    module beside the objective)."""


class UntrustedCodeError(ValueError):
    """Settings that name code from outside ashasim and the run's own code folder."""


_PLAIN = (type(None), bool, int, str)
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, type)


def encode(value: Any) -> Any:
    """*value* as JSON-able data that ``decode`` turns back into an equal value; NoJSONFormError
    naming what cannot be said."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if type(value) in (list, tuple):
        return {type(value).__name__: [encode(item) for item in value]}
    if type(value) is dict:
        if not all(isinstance(key, str) for key in value):
            raise NoJSONFormError(f"a dict with keys that are not strings ({list(value)[:3]})")
        return {"dict": {key: encode(item) for key, item in value.items()}}
    if isinstance(value, Path):
        return {"path": str(value)}
    if isinstance(value, Domain):
        try:
            return {"domain": value.to_json()}
        except ValueError as error:  # sample_from: a Python function
            raise NoJSONFormError(str(error)) from None
    if type(value) is functools.partial:
        return {
            "partial": encode(value.func),
            "args": encode(list(value.args)),
            "keywords": encode(dict(value.keywords)),
        }
    if isinstance(value, _FUNCTIONS):
        return {"import": reference(value)}
    return {"object": reference(type(value)), "arguments": _arguments(value)}


def reference(thing: Any) -> dict[str, str | None]:
    """A module-level function or class by import path (``module:qualname``) and, outside
    ashasim, the folder its module was imported from; NoJSONFormError for anything else."""
    module_name = getattr(thing, "__module__", None) or ""
    qualname = getattr(thing, "__qualname__", "") or ""
    name = f"{module_name}:{qualname}"
    if module_name == "__main__" or "<" in qualname or not module_name or not qualname:
        raise NoJSONFormError(
            f"{name} has no import path (defined in a script, notebook or function)"
        )
    try:
        found = _attribute(sys.modules[module_name], qualname)
    except (KeyError, AttributeError):
        found = None
    if found is not thing:
        raise NoJSONFormError(f"{name} is not what its import path names")
    return {"name": name, "folder": None if _is_ashasim(module_name) else module_folder(thing)}


def module_folder(thing: Any) -> str | None:
    """The ``sys.path`` entry *thing*'s module was imported from (None: a module without a file)."""
    module_name = getattr(thing, "__module__", "") or ""
    file = getattr(sys.modules.get(module_name), "__file__", None)
    if not file:
        return None
    path = Path(file).resolve()
    depth = module_name.count(".") + (1 if path.stem == "__init__" else 0)
    return str(path.parents[depth])


def _arguments(value: Any) -> dict[str, Any]:
    """The constructor arguments of *value*: a dataclass's init fields, or the parameters of
    ``__init__`` read back from attributes named like them (``name`` or ``_name``)."""
    kind = type(value)
    recorded = getattr(value, "_init_arguments", None)  # ashasim.checks.RecordsArguments
    if recorded is not None:
        args, kwargs = recorded
        if args:  # positional ones under their parameters' names
            kwargs = _named(kind, args, kwargs)
        return {name: encode(item) for name, item in kwargs.items()}
    if dataclasses.is_dataclass(value):
        fields = [f.name for f in dataclasses.fields(value) if f.init]
        return {name: encode(getattr(value, name)) for name in fields}
    arguments: dict[str, Any] = {}
    for parameter in _parameters(kind):
        for attribute in (
            parameter.name,
            f"_{parameter.name}",
            *_ELSEWHERE.get(parameter.name, ()),
        ):
            found = _attribute(value, attribute, None)
            if found is not None or hasattr(value, attribute):
                arguments[parameter.name] = encode(_plain_sequence(found))
                break
        else:
            if parameter.default is parameter.empty:
                raise NoJSONFormError(
                    f"{kind.__qualname__}'s argument {parameter.name!r} is not kept as an "
                    f"attribute, so it cannot be saved as data"
                )
    return arguments


# constructor arguments kept under another name: a scheduler hands its first points to its searcher
_ELSEWHERE = {"points_to_evaluate": ("searcher._points",)}


def _plain_sequence(value: Any) -> Any:
    return list(value) if isinstance(value, collections.deque) else value


def _named(kind: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A constructor call's arguments, all by name."""
    signature = inspect.signature(kind)
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments
    except TypeError as error:
        raise NoJSONFormError(f"{kind.__qualname__}'s arguments: {error}") from None
    named: dict[str, Any] = {}
    for name, item in bound.items():
        parameter = signature.parameters[name]
        if parameter.kind is parameter.VAR_POSITIONAL:
            raise NoJSONFormError(f"{kind.__qualname__} was given *args")
        if parameter.kind is parameter.VAR_KEYWORD:
            named.update(item)
        else:
            named[name] = item
    return named


def _parameters(kind: type) -> list[inspect.Parameter]:
    """The parameters of ``kind.__init__``, and of its bases' while each passes ``**kwargs`` on."""
    found: dict[str, inspect.Parameter] = {}
    for owner in kind.__mro__:
        if "__init__" not in vars(owner) or owner is object:
            continue
        parameters = list(inspect.signature(vars(owner)["__init__"]).parameters.values())[1:]
        for parameter in parameters:
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                found.setdefault(parameter.name, parameter)
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return list(found.values())


def decode(data: Any, run_directory: Path) -> Any:
    """The value ``encode`` made *data* from; UntrustedCodeError when it names code outside
    ashasim and the run's code folders, ValueError when it is not such data."""
    if isinstance(data, (*_PLAIN, float)):
        return data
    if isinstance(data, list):  # only inside "list"/"tuple" (handled below)
        return [decode(item, run_directory) for item in data]
    if not isinstance(data, dict) or len(data) not in (1, 2, 3):
        raise ValueError(f"not a saved value: {str(data)[:80]}")
    kind = next(iter(data))
    body = data[kind]
    if kind == "float":
        return float(body)
    if kind in ("list", "tuple"):
        items = [decode(item, run_directory) for item in _typed(body, list)]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {str(key): decode(item, run_directory) for key, item in _typed(body, dict).items()}
    if kind == "path":
        return Path(_typed(body, str))
    if kind == "domain":
        return space_from_json({"value": body})["value"]
    if kind == "partial":
        function = decode(body, run_directory)
        args = decode(data.get("args", {"list": []}), run_directory)
        keywords = decode(data.get("keywords", {"dict": {}}), run_directory)
        return functools.partial(function, *args, **keywords)
    if kind == "import":
        return resolve(body, run_directory)
    if kind == "object":
        cls = resolve(body, run_directory)
        arguments = decode({"dict": _typed(data.get("arguments", {}), dict)}, run_directory)
        return cls(**arguments)
    raise ValueError(f"not a saved value: unknown kind {kind!r}")


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"not a saved value: {str(value)[:80]}")
    return value


def resolve(ref: Any, run_directory: Path) -> Any:
    """The function or class *ref* names, imported from its recorded folder (see the module
    docstring for what may be named)."""
    name, folder = _typed(ref, dict).get("name"), ref.get("folder")
    module_name, _, qualname = _typed(name, str).partition(":")
    if not module_name or not qualname:
        raise ValueError(f"not an import path: {name!r}")
    if _is_ashasim(module_name):
        module = importlib.import_module(module_name)
    else:
        module = import_from_folder(module_name, _trusted_folder(name, folder, run_directory))
    try:
        return _attribute(module, qualname)
    except AttributeError:
        raise ValueError(f"{name}: {module_name} has no {qualname}") from None


def _trusted_folder(name: str, folder: Any, run_directory: Path) -> Path:
    if not isinstance(folder, str) or not os.path.isabs(folder):
        raise UntrustedCodeError(f"{name} names no folder it came from, and it is not ashasim's")
    path = Path(folder).resolve()
    inside = Path(run_directory).resolve()
    if path == inside or inside in path.parents:
        raise UntrustedCodeError(f"{name} would be imported from inside the run directory ({path})")
    if _installed(path):
        raise UntrustedCodeError(
            f"{name} is not the run's own code (it names {path}, a library folder)"
        )
    if not path.is_dir():
        raise ImportError(f"{name} came from {path}, which is no longer there")
    return path


def import_from_folder(module_name: str, folder: Path, *, strict: bool = True) -> types.ModuleType:
    """*module_name* as found in *folder*, which goes at the end of ``sys.path`` (never ahead of
    the standard library or installed packages); ShadowedModuleError, naming the file, when
    another module of that name is found first (e.g. a ``concurrent.py`` beside the objective). Not
    *strict*: a module found elsewhere is fine when *folder* holds none of that name (an
    installed package named on the command line)."""
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
        importlib.invalidate_caches()
    module = importlib.import_module(module_name)
    file = getattr(module, "__file__", None)
    if not file or folder not in Path(file).resolve().parents:
        top = module_name.split(".")[0]
        clash = folder / f"{top}.py"
        mine = clash if clash.exists() else folder / top
        if not strict and not mine.exists():
            return module
        raise ShadowedModuleError(
            f"{mine} is shadowed by {file or 'a built-in module'} of the same name; rename "
            f"{mine.name} (a module named like a standard-library or installed one)"
        )
    return module


def _attribute(owner: Any, dotted: str, *default: Any) -> Any:
    """``owner.a.b`` for *dotted* ``"a.b"`` (*default*, if given, when one is missing)."""
    value = owner
    for part in dotted.split("."):
        if default and not hasattr(value, part):
            return default[0]
        value = getattr(value, part)
    return value


def _is_ashasim(module_name: str) -> bool:
    return module_name.split(".")[0] == "ashasim"


def _installed(path: Path) -> bool:
    """A folder of the standard library or of installed distributions."""
    text = str(path)
    if "site-packages" in text or "dist-packages" in text:
        return True
    stdlib = Path(os.__file__).resolve().parent
    return path == stdlib or stdlib in path.parents
