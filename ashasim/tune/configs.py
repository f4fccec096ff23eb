"""Nested Ray Tune configs as ashasim's flat config spaces, and the names of trials.

Ray Tune configs nest (``{"model": {"l1": tune.choice([64, 128])}}``); ashasim's spaces, journals
and searchers are flat. The façade flattens a config with "/" between the levels
(``"model/l1"``, the column names Ray Tune's result tables use as well) and hands a trainable its
config nested again, so neither side sees the other's shape.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ashasim.space import Domain

__all__ = [
    "NAMES_DIR",
    "SEP",
    "experiment_tag",
    "flatten",
    "flatten_result",
    "recorded_names",
    "trainable_name",
    "trial_name",
    "unflatten",
]

SEP = "/"
#: under the experiment directory: one record per trial named by trial_name_creator or
#: trial_dirname_creator (``ashasim.tune.naming``), written once, when the trial first starts
NAMES_DIR = ".trial_names"


def flatten(config: Mapping[str, Any], *, what: str = "config") -> dict[str, Any]:
    """``{"a": {"b": x}}`` -> ``{"a/b": x}``; domains and constants are the leaves (an empty dict
    is a constant). Keys must be non-empty strings without "/" (it would be ambiguous)."""
    if not isinstance(config, Mapping):
        raise ValueError(f"{what} must be a dict of name -> value or tune domain, got {config!r}")
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str) or not key or SEP in key:
            raise ValueError(
                f"{what}: keys must be non-empty strings without {SEP!r} (nested dicts are "
                f"flattened as 'outer{SEP}inner'), got {key!r}"
            )
        if isinstance(value, Mapping) and value:
            for inner, leaf in flatten(value, what=f"{what}[{key!r}]").items():
                flat[f"{key}{SEP}{inner}"] = leaf
        elif isinstance(value, (list, tuple)) and any(isinstance(v, Domain) for v in value):
            raise ValueError(
                f"{what}[{key!r}]: a list holding tune domains is not supported; give each "
                f"element its own key (e.g. a nested dict) or use tune.choice([...])"
            )
        else:
            flat[key] = value
    return flat


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten`: ``{"a/b": x}`` -> ``{"a": {"b": x}}``."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *path, last = key.split(SEP)
        node = nested
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


def trainable_name(trainable: Callable[..., Any]) -> str:
    """The name Ray Tune gives a trainable: its function's name (through ``partial``s)."""
    while isinstance(trainable, functools.partial):
        trainable = trainable.func
    name = getattr(trainable, "__name__", None) or type(trainable).__name__
    return "trainable" if name == "<lambda>" else name


def trial_name(prefix: str, trial_id: int) -> str:
    """``train_mnist_00003``: the trial's name and the name of its directory."""
    return f"{prefix}_{trial_id:05d}"


def recorded_names(directory: Path) -> dict[int, tuple[str, str]]:
    """The (name, directory name) of each trial named by a creator, by trial id, as recorded
    under *directory* (empty when no creator was given)."""
    names = {}
    for record in sorted((directory / NAMES_DIR).glob("*.json")):
        found = json.loads(record.read_text(encoding="utf-8"))
        names[int(record.stem)] = (found["name"], found["dirname"])
    return names


def flatten_result(result: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested result dicts as "a/b" columns (Ray Tune's dataframe columns)."""
    flat: dict[str, Any] = {}
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_result(value, f"{name}{SEP}"))
        else:
            flat[name] = value
    return flat


def experiment_tag(trial_id: int, config: dict[str, Any]) -> str:
    """Ray Tune's tag: the trial's number and its config, e.g. "3_lr=0.01,batch_size=4"."""
    values = ",".join(
        f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in flatten_result(config).items()
    )
    return f"{trial_id}_{values}"
