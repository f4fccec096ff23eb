"""``Tabular``: replay a learning-curve table, (config, fidelity) -> (seconds, metric).

Tables as users have them: a tabular benchmark or learning-curve database (configs x training-set
sizes, epochs or fractions), or a recorded real run (``ashasim.run.export``). Every column has a
role, named by the user: the config's columns (its identity and the names plots and results show),
the fidelity, the seconds, the metric, optionally ``config_id`` (the user's own id, kept as it is)
and a label column; any other column is information, never a hyperparameter.

Levels. The scheduler core counts integer resources. With ``fidelity=COLUMN`` the table's distinct
fidelity values, sorted, are levels 1..L (16, 23, 32, ... training samples are levels 1, 2, 3, ...);
the real values travel with the trace (``fidelity_name``/``fidelity_values`` in the journal's
header) and are what results and plots show, and ``levels_of`` turns fidelity values into levels
for ``rung_levels=``. Without it (the older form, ``resource_attr``) the column holds epochs 1, 2,
... and level k is epoch k.

Everything is checked before a simulation starts, with the config's named values in the message:
missing columns, empty cells, numbers that are not numbers, a column mixing ``1`` and ``1.0`` (two
configs that print alike), repeated rows, and gaps in a curve (levels missing at its start or in its
middle). ``missing="hold"`` fills a gap in the middle with the level below it and answers beyond
the end of a curve with its last level; the start of a curve is never invented. A curve that
simply ends early (a recorded run stopped that trial) is fine until the scheduler asks for more:
then ``missing="error"`` stops the run naming the config.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

from ashasim._gc import cyclic_gc_paused
from ashasim.checks import check_choice
from ashasim.search import GridSearcher, Searcher, make_searcher
from ashasim.sim.costs import CostModel, CostModelError, EpochFn
from ashasim.sim.table_cells import config_cells, numbers
from ashasim.sim.table_io import ABSENT, Columns, read_columns
from ashasim.space import choice, randint

__all__ = ["MISSING", "Tabular"]

MISSING = ("error", "hold")
_Curve = list[tuple[float, float] | None]  # index = level (0 unused)


class Tabular(CostModel):
    """Replay a table of (config, level) -> (seconds, metric); see the module docstring.

    *source*: a path (``.csv``, ``.csv.gz``, ``.json``, ``.jsonl``, ``.parquet``, ...), a list of
    row dicts, or a pandas DataFrame. *config_columns*: the columns that make a config (default:
    every column without another role). *fidelity*: the fidelity column, whose sorted values become
    levels 1..L (default: epochs in *resource_attr*). *seconds* and *metric*: those columns
    (*time_attr* is the older name of *seconds*). *label*: a column naming each config in plots.
    *missing*: "error" or "hold" (see the module docstring). *cost*: "resume" (the seconds of level
    k are its increment over k-1) or "restart" (they are the time to fit at level k from scratch),
    and the overheads, as in ``CostModel``.

    The scheduler tunes over ``config_space`` (``{"config_id": ...}``); ``searcher()`` draws the
    table's configs without replacement, each with its named values, and ends the run cleanly when
    all are used: ``ASHA(table.config_space, ..., searcher=table.searcher())``.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Sequence[Mapping[str, Any]] | Any,
        *,
        config_columns: Sequence[str] | None = None,
        fidelity: str | None = None,
        seconds: str | None = None,
        metric: str = "metric",
        label: str | None = None,
        missing: str = "error",
        resource_attr: str | None = None,
        time_attr: str | None = None,
        **model: Any,
    ) -> None:
        super().__init__(**model)
        self.missing = check_choice("missing", missing, MISSING)
        if fidelity is not None and resource_attr is not None:
            raise ValueError("give fidelity= or its older form resource_attr=, not both")
        if seconds is not None and time_attr is not None:
            raise ValueError("give seconds= or its older form time_attr=, not both")
        self.levels_from_values = fidelity is not None
        self.resource_attr = fidelity if fidelity is not None else (resource_attr or "epoch")
        self.time_attr = seconds if seconds is not None else (time_attr or "seconds")
        self.metric = metric
        self.label = label
        self.explicit_columns = config_columns is not None
        with cyclic_gc_paused():  # a million rows are millions of objects, and no cycles
            table = read_columns(source)
            self.source = table.source
            if table.n_rows == 0:
                raise ValueError(f"Tabular: {self.source} has no rows")
            self._roles(table, config_columns)
            self._load(table)

    # -- loading ----------------------------------------------------------------------------------

    def _roles(self, table: Columns, config_columns: Sequence[str] | None) -> None:
        """Check the role columns exist; decide the config columns and the information ones."""
        roles = [self.resource_attr, self.time_attr, self.metric]
        if self.label is not None:
            roles.append(self.label)
        named = set(table.names)
        if config_columns is not None:
            if isinstance(config_columns, str) or not all(
                isinstance(c, str) for c in config_columns
            ):
                raise ValueError(
                    f"config_columns must be a list of column names, got {config_columns!r}"
                )
            overlap = sorted(set(config_columns) & set(roles))
            if overlap:
                raise ValueError(f"config_columns {overlap} also have another role")
            unknown = [c for c in config_columns if c not in named]
            if unknown:
                raise ValueError(
                    f"Tabular: {self.source} has no column(s) {unknown} (config_columns); its "
                    f"columns are {table.names}"
                )
        absent = sorted(set(roles) - named)
        if absent:
            raise ValueError(
                f"Tabular: {self.source} has no column(s) {absent}; columns are the config's "
                f"plus {sorted(set(roles))} (name them with config_columns=, fidelity=, "
                f"seconds=, metric=)"
            )
        self.has_ids = "config_id" in named and "config_id" not in (config_columns or ())
        taken = {*roles, "config_id"} if self.has_ids else set(roles)
        if config_columns is None:
            self.config_columns = [c for c in table.names if c not in taken]
        else:
            self.config_columns = list(config_columns)
        used = taken | set(self.config_columns)
        self.info_columns = [c for c in table.names if c not in used]  # (no config columns at
        # all: the whole table is one config's curve)

    def _load(self, table: Columns) -> None:
        n_rows = table.n_rows
        parsed = {c: config_cells(table, c) for c in self.config_columns}
        ids = config_cells(table, "config_id") if self.has_ids else None
        labels = config_cells(table, self.label) if self.label is not None else None
        # group rows into configs: by the user's config_id, else by the config columns' values
        keys: Iterable[Any]
        if ids is not None:
            keys = ids
        elif parsed:
            keys = zip(*parsed.values(), strict=True)
        else:
            keys = [()] * n_rows  # no config columns: the whole table is one curve
        index: dict[Any, int] = {}
        row_config = [index.setdefault(key, len(index)) for key in keys]
        first_row = [0] * len(index)
        for row in range(n_rows - 1, -1, -1):
            first_row[row_config[row]] = row
        self.configs = [{c: parsed[c][row] for c in self.config_columns} for row in first_row]
        self.config_ids = list(index) if ids is not None else list(range(len(index)))
        self._first_row = first_row
        self._check_constant_per_config(table, parsed, row_config, labels)
        self._labels = None if labels is None else [labels[row] for row in first_row]
        self._info = self._constant_info(table, row_config, len(index))
        levels = self._levels(table, row_config)

        def row_error(row: int, problem: str) -> NoReturn:
            self._row_error(row, row_config[row], problem)

        seconds = numbers(table, self.time_attr, row_error)
        metrics = numbers(table, self.metric, row_error, allow_non_finite=True)
        if seconds and min(seconds) < 0:  # (finite already checked)
            for row, value in enumerate(seconds):
                if value < 0:
                    self._row_error(
                        row, row_config[row], f"{self.time_attr} must be finite and >= 0"
                    )
        n_levels = self.max_epochs or 0  # set by _levels above
        curves: list[_Curve] = [[None] * (n_levels + 1) for _ in index]
        for row, (config, level) in enumerate(zip(row_config, levels, strict=True)):
            curve = curves[config]
            if curve[level] is not None:
                self._row_error(
                    row,
                    config,
                    f"repeats {self.resource_attr}={self._fidelity_text(level)} of the config",
                )
            curve[level] = (seconds[row], metrics[row])
        self._last = [self._check_curve(config, curve) for config, curve in enumerate(curves)]
        self._curves = curves
        self._position = None if self.config_ids == list(range(len(index))) else dict(index)
        if self._position is None:
            self.config_space: dict[str, Any] = {"config_id": randint(0, len(index) - 1)}
        else:
            self.config_space = {"config_id": choice(list(self.config_ids))}
        if self.explicit_columns or self.label is not None:
            labelled = (self.label,) if self.label is not None else tuple(self.config_columns)
            self.config_label = labelled or ("config_id",)

    def _check_constant_per_config(
        self,
        table: Columns,
        parsed: dict[str, list[Any]],
        row_config: list[int],
        labels: list[Any] | None,
    ) -> None:
        """With the user's config_id, every config column (and the label) must hold one value per
        id; without it, the label must be constant within a config."""
        columns = dict(parsed) if self.has_ids else {}
        if labels is not None:
            columns[self.label] = labels  # type: ignore[index]
        for column, values in columns.items():
            for row, value in enumerate(values):
                first = self._first_row[row_config[row]]
                if value != values[first]:
                    raise ValueError(
                        f"Tabular: {self.source}: config {self._name(row_config[row])} has two "
                        f"values of {column!r}: {values[first]!r} (row {first + 1}) and {value!r} "
                        f"(row {row + 1})"
                    )

    def _constant_info(self, table: Columns, row_config: list[int], n: int) -> list[dict[str, Any]]:
        """Information columns whose value is the same on every row of a config, per config."""
        info: list[dict[str, Any]] = [{} for _ in range(n)]
        for column in self.info_columns:
            cells = table.data[column]
            firsts = [cells[row] for row in self._first_row]
            varying = {c for c, cell in zip(row_config, cells, strict=True) if cell != firsts[c]}
            for config in range(n):
                if config not in varying and firsts[config] is not ABSENT:
                    info[config][column] = firsts[config]
        return info

    def _levels(self, table: Columns, row_config: list[int]) -> list[int]:
        """Each row's level; sets ``max_epochs`` (the number of levels) and the fidelity values."""
        values = numbers(
            table,
            self.resource_attr,
            lambda row, problem: self._row_error(row, row_config[row], problem),
        )
        if not self.levels_from_values:
            for row, value in enumerate(values):
                if value != int(value) or value < 1:
                    self._row_error(
                        row,
                        row_config[row],
                        f"need an integer {self.resource_attr} >= 1, got {value:g} (for "
                        f"fidelities that are not epochs 1, 2, ..., name the column with "
                        f"fidelity=)",
                    )
            levels = [int(value) for value in values]
            self.max_epochs = max(levels)
            return levels
        distinct = sorted(set(values))
        integral = all(value == int(value) for value in distinct)
        shown = tuple(int(v) if integral else v for v in distinct)
        self.max_epochs = len(distinct)
        if shown != tuple(range(1, len(distinct) + 1)):  # level k is not simply k
            self.fidelity_name, self.fidelity_values = self.resource_attr, shown
        position = {value: level for level, value in enumerate(distinct, start=1)}
        return [position[value] for value in values]

    def _check_curve(self, config: int, curve: _Curve) -> int:
        """Gaps: none at the start; in the middle only under "hold" (filled from below). Returns
        the curve's last level."""
        last = max(level for level, entry in enumerate(curve) if entry is not None)
        gaps = [level for level in range(1, last + 1) if curve[level] is None]
        if not gaps:
            return last
        where = ", ".join(self._fidelity_text(level) for level in gaps)
        if gaps[0] == 1:
            raise ValueError(
                f"Tabular: {self.source}: config {self._name(config)} has no rows for "
                f"{self.resource_attr} {where}: its curve must start at the table's first level "
                f"({self._fidelity_text(1)}); missing='hold' fills gaps in the middle only"
            )
        if self.missing == "error":
            raise ValueError(
                f"Tabular: {self.source}: config {self._name(config)} has a gap: no rows for "
                f"{self.resource_attr} {where} (recorded up to {self._fidelity_text(last)}); "
                f"complete the table or pass missing='hold' to repeat the level below a gap"
            )
        for level in gaps:
            curve[level] = curve[level - 1]
        return last

    def _row_error(self, row: int, config: int, problem: str) -> NoReturn:
        raise ValueError(
            f"Tabular: row {row + 1} of {self.source} (config {self._name(config)}): {problem}"
        )

    # -- naming -----------------------------------------------------------------------------------

    def _name(self, config: int) -> str:
        """``7 (learner='svm', C=0.1)``: the id and the named values of a config."""
        values = ", ".join(f"{k}={v!r}" for k, v in self.configs[config].items())
        config_id = self.config_ids[config] if hasattr(self, "config_ids") else config
        return f"{config_id!r} ({values})" if values else repr(config_id)

    def _fidelity_text(self, level: int) -> str:
        if self.fidelity_values is None:
            return str(level)
        return f"{self.fidelity_values[level - 1]:g}"

    @property
    def named_configs(self) -> list[dict[str, Any]]:
        """Each config as the table's searcher hands it out: config_id, its values, its label."""
        named = []
        for position, config_id in enumerate(self.config_ids):
            config = {"config_id": config_id, **self.configs[position]}
            if self._labels is not None:
                config[self.label] = self._labels[position]  # type: ignore[index]
            named.append(config)
        return named

    def info(self, config_id: Any) -> dict[str, Any]:
        """The information columns that hold one value for the whole config."""
        return dict(self._info[self._config_position(config_id, -1)])

    def levels_of(self, values: Iterable[float]) -> list[int]:
        """The levels of fidelity values (e.g. rung levels given as training-set sizes); a value
        that is not one of the table's is an error listing them."""
        known = self.fidelity_values or tuple(range(1, (self.max_epochs or 0) + 1))
        levels = []
        for value in values:
            matches = [level for level, v in enumerate(known, start=1) if v == value]
            if not matches:
                shown = ", ".join(f"{v:g}" for v in known)
                raise ValueError(
                    f"{self.resource_attr} {value!r} is not one of the table's levels ({shown})"
                )
            levels.append(matches[0])
        return levels

    def searcher(self, name: str | None = None, **options: Any) -> Searcher:
        """A searcher over the table's configs, each once, with its named values; the run ends
        cleanly when all are used. *name* None or "grid": in a seeded random order. "kde" or
        "gp" (with that searcher's *options*): the model sees the config columns (numbers as
        numbers, strings as categories) and scores the remaining configs with its acquisition
        function, instead of an arbitrary row index."""
        if name is None or name == "grid":
            return GridSearcher(configs=self.named_configs, **options)
        if name not in ("kde", "gp"):
            raise ValueError(f"Tabular.searcher: name must be 'grid', 'kde' or 'gp', got {name!r}")
        searcher = make_searcher(name, **options)
        return searcher.over_table(self.named_configs, self.config_columns)  # type: ignore[attr-defined]

    def describe(self) -> dict[str, Any]:
        described = {
            **super().describe(),
            "source": self.source,
            "configs": len(self.configs),
            "missing": self.missing,
        }
        if self.explicit_columns:
            described["config_columns"] = list(self.config_columns)
        if self.levels_from_values:
            described["fidelity"] = self.resource_attr
            described["levels"] = self.max_epochs
        if self.label is not None:
            described["label"] = self.label
        return described

    def seconds_hint(self) -> float | None:
        firsts = sorted(curve[1][0] for curve in self._curves if curve[1] is not None)
        return firsts[len(firsts) // 2] if firsts else None

    # -- replay -----------------------------------------------------------------------------------

    def epoch_fn(self, noise_seed: int) -> EpochFn:
        return self._epoch  # a table is replayed as recorded: no noise

    def _config_position(self, config_id: Any, trial_id: int) -> int:
        if self._position is None:
            if type(config_id) is int and 0 <= config_id < len(self._curves):
                return config_id
        elif config_id in self._position:
            return self._position[config_id]
        if self._position is None:
            known = f"configs 0..{len(self._curves) - 1}"
        else:
            shown = ", ".join(repr(k) for k in self.config_ids[:8])
            more = ", ..." if len(self.config_ids) > 8 else ""
            known = f"config_id values {shown}{more} ({len(self.config_ids)} configs)"
        raise CostModelError(
            f"Tabular: trial {trial_id} has config_id={config_id!r}; the table has {known} "
            f"(tune over Tabular.config_space)"
        )

    def _epoch(self, trial_id: int, config: dict, level: int) -> tuple[float, float]:
        position = self._config_position(config.get("config_id"), trial_id)
        last = self._last[position]
        if 1 <= level <= last:
            return self._curves[position][level]  # type: ignore[return-value]
        if self.missing == "hold" and level > last:
            return self._curves[position][last]  # type: ignore[return-value]
        recorded = f"recorded: {self._fidelity_text(1)}..{self._fidelity_text(last)}"
        wanted = self._fidelity_text(level) if 1 <= level <= (self.max_epochs or 0) else level
        raise CostModelError(
            f"Tabular: config {self._name(position)} has no row for "
            f"{self.resource_attr}={wanted} ({recorded}); a recorded run only holds the levels "
            f"it observed (missing='hold' repeats the last one)"
        )
