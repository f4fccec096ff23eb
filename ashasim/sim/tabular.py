"""``Tabular``: replay a table of (config, epoch) -> (seconds, metric), e.g. a recorded real run."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ashasim.sim.costs import CostModel, CostModelError, EpochFn
from ashasim.space import randint

__all__ = ["Tabular"]


class Tabular(CostModel):
    """Replay a table of (config, epoch) -> (seconds, metric).

    Rows come from a CSV or JSON file (a list of objects) or directly as dicts. Columns: the
    config's hyperparameters, ``resource_attr`` (epoch), ``time_attr`` (seconds of that epoch) and
    ``metric``. Distinct hyperparameter combinations become configs 0..n-1; the scheduler samples
    ``config_id`` from ``config_space`` = {"config_id": randint(0, n-1)} and the replay looks the
    rows up. A recorded real run has only the (config, epoch) pairs it observed: asking for an epoch
    the table lacks is an error (``missing="error"``) or repeats the config's last recorded epoch
    (``missing="hold"``), which is only an approximation.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Sequence[Mapping[str, Any]],
        *,
        metric: str = "metric",
        resource_attr: str = "epoch",
        time_attr: str = "seconds",
        missing: str = "error",
        **overheads: float,
    ) -> None:
        super().__init__(**overheads)
        if missing not in ("error", "hold"):
            raise ValueError(f"missing must be 'error' or 'hold', got {missing!r}")
        self.missing = missing
        self.metric, self.resource_attr, self.time_attr = metric, resource_attr, time_attr
        self.source = str(source) if isinstance(source, (str, os.PathLike)) else "<rows>"
        rows = _read_rows(source) if isinstance(source, (str, os.PathLike)) else list(source)
        if not rows:
            raise ValueError(f"Tabular: {self.source} has no rows")
        needed = {metric, resource_attr, time_attr}
        index: dict[tuple, int] = {}
        self.configs: list[dict[str, Any]] = []
        self._table: list[dict[int, tuple[float, float]]] = []
        for number, row in enumerate(rows, start=1):
            absent = needed - set(row)
            if absent:
                raise ValueError(
                    f"Tabular: row {number} of {self.source} lacks column(s) {sorted(absent)}; "
                    f"columns are the hyperparameters plus {sorted(needed)}"
                )
            config = {k: v for k, v in row.items() if k not in needed}
            key = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in config.items()))
            if key not in index:
                index[key] = len(self.configs)
                self.configs.append(config)
                self._table.append({})
            try:
                raw_epoch = float(row[resource_attr])
                epoch = int(raw_epoch)
                seconds = float(row[time_attr])
                value = float(row[metric])
            except (TypeError, ValueError, OverflowError) as error:
                raise ValueError(f"Tabular: row {number} of {self.source}: {error}") from None
            if epoch != raw_epoch or epoch < 1 or not seconds >= 0 or not math.isfinite(seconds):
                raise ValueError(
                    f"Tabular: row {number} of {self.source}: need an integer {resource_attr} >= 1 "
                    f"and a finite {time_attr} >= 0, got {row[resource_attr]!r}, {seconds}"
                )
            if epoch in self._table[index[key]]:
                raise ValueError(
                    f"Tabular: row {number} of {self.source} repeats {resource_attr}={epoch} of "
                    f"config {index[key]} ({config})"
                )
            self._table[index[key]][epoch] = (seconds, value)
        self.max_epochs = max(max(epochs) for epochs in self._table)
        self.config_space = {"config_id": randint(0, len(self.configs) - 1)}

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "source": self.source,
            "configs": len(self.configs),
            "missing": self.missing,
        }

    def epoch_fn(self, seed: int) -> EpochFn:
        return self._epoch

    def _epoch(self, trial_id: int, config: dict, epoch: int) -> tuple[float, float]:
        config_id = config.get("config_id")
        if not isinstance(config_id, int) or not 0 <= config_id < len(self._table):
            raise CostModelError(
                f"Tabular: trial {trial_id} has config_id={config_id!r}; the table has configs "
                f"0..{len(self._table) - 1} (tune over Tabular.config_space)"
            )
        epochs = self._table[config_id]
        found = epochs.get(epoch)
        if found is not None:
            return found
        if self.missing == "hold":
            below = [e for e in epochs if e < epoch]
            if below:
                return epochs[max(below)]
        raise CostModelError(
            f"Tabular: config {config_id} has no row for {self.resource_attr}={epoch} "
            f"(recorded: {sorted(epochs)}); a recorded run only holds the epochs it observed "
            f"(missing='hold' repeats the last one)"
        )


def _read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Tabular: no file {path}")
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise ValueError(f"Tabular: {path} must hold a JSON list of objects")
        return data
    if path.suffix.lower() == ".csv":
        rows = []
        with open(path, newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=1):
                # DictReader files extra cells under None and fills missing ones with None
                if None in row or None in row.values():
                    raise ValueError(
                        f"Tabular: row {number} of {path} has "
                        f"{'more' if None in row else 'fewer'} cells than the header"
                    )
                rows.append({k: _parse_cell(v) for k, v in row.items()})
        return rows
    raise ValueError(f"Tabular: {path} must be .csv or .json")


def _parse_cell(text: str) -> Any:
    """CSV cells back to numbers where they are numbers."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text
