"""Colours and names of configs, shared by every plot of a run.

A colour belongs to a *config*, not to a trial: trials that replay the same config (a table drawn
with replacement, a retrained point) share one, and a config keeps its colour between the Gantt
chart and the learning curves. Each colour comes in a dark shade (for trials promoted later) and a
light one. Up to ten configs use tab10's hues, as the chapter's figures do; beyond that, hues come
from a continuous colormap at golden-ratio steps, so any number of configs get distinct colours and
configs that follow each other never get neighbouring hues.

Names: a run whose header has ``config_label`` (a table's hyperparameter or label columns) names a
config by those values; any other run says "Trial-k".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap

from ashasim.events import JobStarted, Trace

__all__ = ["ConfigColors", "label_function", "lighten", "listed_colors", "trial_color"]

RGB = tuple[float, float, float]


def listed_colors(name: str) -> tuple[RGB, ...]:
    """The colours of matplotlib's listed colormap *name* (tab10, tab20, ...), as RGB tuples."""
    colormap = colormaps[name]
    if not isinstance(colormap, ListedColormap):
        raise ValueError(f"{name} is not a listed colormap")
    rgb = np.asarray(colormap.colors, dtype=float)[:, :3]
    return tuple((float(r), float(g), float(b)) for r, g, b in rgb)


_PAIRS = listed_colors("tab20")  # (dark, light) pairs of 10 hues
_SCALE = colormaps["turbo"]
_GOLDEN = 0.6180339887498949


def lighten(rgb: Sequence[float], amount: float = 0.55) -> RGB:
    """The colour mixed with white (the light shade of a hue)."""
    r, g, b = rgb[:3]
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _config_key(config: Mapping[str, Any]) -> str:
    if "config_id" in config:  # a table's config: its id is its identity
        return json.dumps(config["config_id"], default=str)
    return json.dumps(config, sort_keys=True, default=str)


class ConfigColors:
    """Colour of each trial of a trace, by its config (see the module docstring)."""

    def __init__(self, trace: Trace) -> None:
        index: dict[str, int] = {}
        self.config_of: dict[int, int] = {}
        for event in trace.events:
            if type(event) is JobStarted and event.trial_id not in self.config_of:
                key = _config_key(event.config)
                self.config_of[event.trial_id] = index.setdefault(key, len(index))
        self.n_configs = len(index)

    def hue(self, config: int) -> RGB:
        if self.n_configs <= len(_PAIRS) // 2:
            return _PAIRS[2 * config]
        position = 0.05 + 0.9 * ((config * _GOLDEN) % 1.0)
        red, green, blue, _ = _SCALE(position)
        return red, green, blue

    def __call__(self, trial_id: int, promoted: bool = True) -> RGB:
        """The trial's colour: its config's hue, dark if it was promoted, else light."""
        config = self.config_of.get(trial_id, trial_id)
        if self.n_configs <= len(_PAIRS) // 2:
            return trial_color(config, promoted)
        dark = self.hue(config)
        return dark if promoted else lighten(dark)


def label_function(
    trace: Trace, label: str | Sequence[str] | Callable[[int, dict], str] | None
) -> Callable[[int, dict], list[str]]:
    """Texts naming a trial, longest first (a plot uses the longest that fits its space).

    *label*: None (the header's ``config_label`` when the run has one, else "Trial-k"),
    "trial" (always "Trial-k"), a config key or list of keys, or a callable (trial_id, config) ->
    text."""
    if callable(label):
        chosen = label
        return lambda trial_id, config: [str(chosen(trial_id, config)), f"T{trial_id}"]
    keys: list[str] | None
    if label is None:
        header = trace.info.get("config_label")
        keys = [str(k) for k in header] if isinstance(header, list) and header else None
    elif label == "trial":
        keys = None
    else:
        keys = [label] if isinstance(label, str) else [str(k) for k in label]

    def texts(trial_id: int, config: dict) -> list[str]:
        if keys is None or not all(k in config for k in keys):
            return [f"Trial-{trial_id}", f"T{trial_id}", str(trial_id)]
        values = [_short(config[k]) for k in keys]
        if len(keys) == 1:
            return [values[0], f"T{trial_id}"]
        return [
            " ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)),
            " ".join(values),
            f"T{trial_id}",
        ]

    return texts


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def trial_color(index: int, promoted: bool = True) -> RGB:
    """Hue ``index`` of tab10 (cycling), the dark shade if promoted, else the light: the colours
    of the first ten configs, and of legends and plots that have no trace's configs."""
    hue = index % (len(_PAIRS) // 2)
    return _PAIRS[2 * hue + (0 if promoted else 1)]
