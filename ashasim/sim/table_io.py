"""Reading a learning-curve table into columns: CSV (also gzipped), JSON, JSON lines, rows, and
(when pandas is installed) a DataFrame or a Parquet file (that also needs pyarrow).

Everything becomes one shape, ``Columns``: the column names in order and one list of cells per
column, so ``Tabular`` validates and groups a million rows column by column instead of building a
dict per row. Cells keep what the source gives: strings from CSV (``texts`` is True: numbers are
parsed later, once per distinct cell), Python values from JSON, rows and DataFrames. A cell a row
does not have is ``ABSENT``; an empty one is ``""`` (CSV) or None.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ABSENT", "FORMATS", "Columns", "read_columns"]

FORMATS = (".csv", ".csv.gz", ".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".parquet")


class _Absent:
    """A cell missing from its row (a JSON object without the key)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


@dataclass
class Columns:
    """A table as columns: ``data[name][i]`` is row i's cell (row numbers start at 1 in
    messages). *source* names the table in messages."""

    source: str
    names: list[str]
    data: dict[str, Sequence[Any]]
    n_rows: int
    texts: bool  # cells are CSV strings


def read_columns(source: Any) -> Columns:
    """The table in ``source``: a path (see ``FORMATS``), a sequence of row mappings, or a pandas
    DataFrame. Raises ``FileNotFoundError`` for a missing file, ``ImportError`` when a format needs
    a package that is not installed, ``ValueError`` for anything that is not a table."""
    if isinstance(source, (str, os.PathLike)):
        return _read_path(Path(source))
    if _is_dataframe(source):
        return _from_dataframe(source, "<DataFrame>")
    if isinstance(source, Sequence) and not isinstance(source, (str, bytes)):
        return _from_rows(list(source), "<rows>")
    raise ValueError(
        f"Tabular: source must be a path ({', '.join(FORMATS)}), a list of rows or a pandas "
        f"DataFrame, got {type(source).__name__}"
    )


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _read_path(path: Path) -> Columns:
    if not path.exists():
        raise FileNotFoundError(f"Tabular: no file {path}")
    suffix = _suffix(path)
    if suffix not in FORMATS:
        raise ValueError(f"Tabular: {path} must be one of {', '.join(FORMATS)}")
    if suffix == ".parquet":
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                f"Tabular: reading {path} needs pandas and pyarrow (pip install pandas pyarrow)"
            ) from None
        try:
            frame = pd.read_parquet(path)
        except ImportError as error:
            raise ImportError(f"Tabular: reading {path} needs pyarrow: {error}") from None
        return _from_dataframe(frame, str(path))
    opener: Any = gzip.open if suffix.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        if suffix.startswith(".csv"):
            return _from_csv(handle, str(path))
        if suffix.startswith(".json") and not suffix.startswith(".jsonl"):
            try:
                data = json.load(handle)
            except json.JSONDecodeError as error:
                raise ValueError(f"Tabular: {path} is not JSON ({error})") from None
            if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
                raise ValueError(f"Tabular: {path} must hold a JSON list of objects")
            return _from_rows(data, str(path))
        rows = []
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                problem = f"Tabular: line {number} of {path} is not JSON ({error})"
                raise ValueError(problem) from None
            if not isinstance(row, dict):
                raise ValueError(f"Tabular: line {number} of {path} is not a JSON object")
            rows.append(row)
        return _from_rows(rows, str(path))


def _from_csv(handle: io.TextIOBase, source: str) -> Columns:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise ValueError(f"Tabular: {source} is empty (no header line)")
    rows = list(reader)
    if [] in rows:
        rows = [row for row in rows if row]  # blank lines are not rows
    width = len(header)
    if len(set(header)) != width:
        repeated = sorted({name for name in header if header.count(name) > 1})
        raise ValueError(f"Tabular: {source} repeats column(s) {repeated} in its header")
    if set(map(len, rows)) - {width}:
        for number, row in enumerate(rows, start=1):
            if len(row) != width:
                more = "more" if len(row) > width else "fewer"
                raise ValueError(
                    f"Tabular: row {number} of {source} has {more} cells ({len(row)}) than the "
                    f"header ({width})"
                )
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    return Columns(source, list(header), dict(zip(header, columns, strict=True)), len(rows), True)


def _from_rows(rows: list[Any], source: str) -> Columns:
    names: dict[str, None] = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise ValueError(f"Tabular: row {number} of {source} is not a mapping: {row!r}")
        names.update(dict.fromkeys(row))
    data: dict[str, Sequence[Any]] = {
        name: [row.get(name, ABSENT) for row in rows] for name in names
    }
    return Columns(source, [str(name) for name in names], data, len(rows), False)


def _is_dataframe(value: Any) -> bool:
    return type(value).__module__.startswith("pandas") and hasattr(value, "columns")


def _from_dataframe(frame: Any, source: str) -> Columns:
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"Tabular: {source} repeats column names")
    data = {str(name): frame[name].tolist() for name in frame.columns}
    return Columns(source, names, data, len(frame), False)
