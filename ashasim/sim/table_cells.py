"""Typed columns of a learning-curve table, with errors that name the row and the column.

``Tabular`` builds its configs and curves from these: config-identity columns parsed once per
distinct cell (CSV text to int/float/str) and refused when a cell is empty or when one column mixes
``1`` and ``1.0`` (two configs that would print alike), and numeric columns as floats with the first
bad cell named. Reading the file itself is ``table_io``'s job.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NoReturn

from ashasim.sim.table_io import ABSENT, Columns

__all__ = ["config_cells", "numbers", "parse_cell"]

RowError = Callable[[int, str], NoReturn]  # (row, problem): raise, naming the row's config


def config_cells(table: Columns, column: str) -> list[Any]:
    """The cells of a config-identity column, parsed, checked for empty cells and for a mix of
    1 and 1.0."""
    cells = table.data[column]
    values: list[Any]
    if table.texts:  # parse each distinct cell once
        parsed = {text: parse_cell(text) for text in dict.fromkeys(cells)}  # in order
        values = [parsed[c] for c in cells]
        distinct = list(parsed.values())
    else:
        values = list(cells)
        distinct = list({(type(v), v): v for v in values if v == v}.values())
    if any(_empty(v) for v in distinct):
        row = next(row for row, value in enumerate(values) if _empty(value))
        raise ValueError(
            f"Tabular: row {row + 1} of {table.source}: empty cell in column {column!r}"
        )
    numbers_seen: dict[Any, Any] = {}
    for value in distinct:
        if type(value) in (int, float, bool):
            other = numbers_seen.setdefault(value, value)
            if type(other) is not type(value):
                rows = [
                    next(i for i, v in enumerate(values) if type(v) is type(x) and v == x) + 1
                    for x in (other, value)
                ]
                raise ValueError(
                    f"Tabular: column {column!r} of {table.source} mixes {other!r} (row "
                    f"{rows[0]}) and {value!r} (row {rows[1]}): they would look like one value "
                    f"but make two configs; write every value of it the same way"
                )
    return values


def numbers(
    table: Columns, column: str, row_error: RowError, *, allow_non_finite: bool = False
) -> list[float]:
    """A numeric column as floats; ``row_error`` names the first empty, non-numeric or (unless
    allowed) non-finite cell."""
    cells = table.data[column]
    to_float = float if table.texts else _as_float
    try:
        values = list(map(to_float, cells))
    except (TypeError, ValueError):
        for row, cell in enumerate(cells):
            try:
                to_float(cell)
            except (TypeError, ValueError):
                what = "is empty" if cell in ("", None, ABSENT) else f"= {cell!r} is not a number"
                row_error(row, f"{column} {what}")
        raise  # pragma: no cover - the loop above finds the cell
    if not allow_non_finite and not all(map(math.isfinite, values)):
        row = next(row for row, value in enumerate(values) if not math.isfinite(value))
        row_error(row, f"{column} = {values[row]} is not finite")
    return values


def _empty(value: Any) -> bool:
    return value is None or value is ABSENT or value == ""


def parse_cell(text: str) -> Any:
    """A CSV cell back to a number where it is one."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def _as_float(cell: Any) -> float:
    if cell is None or cell is ABSENT or isinstance(cell, bool):
        raise TypeError(cell)
    return float(cell)
