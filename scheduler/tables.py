"""Reading CSV and XLSX files into rows of text, numbered as a spreadsheet numbers them.

The header is row 1 and data rows start at 2. CSV is read as UTF-8 (with or without BOM) and,
failing that, as GB18030, the encoding Excel uses for CSV on Chinese Windows. Blank rows are
skipped. Cell values become trimmed strings; XLSX dates become ISO dates.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from scheduler.core.problems import InputError, Problem
from scheduler.core.records import Table


def read_table(path: Path) -> Table:
    """Read a .csv or .xlsx file; raise InputError naming the file when it cannot be read."""
    if not path.exists():
        raise InputError([Problem(str(path), None, None, "no such file")])
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        grid = _xlsx_grid(path)
    elif suffix in (".csv", ".txt"):
        grid = _csv_grid(path)
    else:
        raise InputError([Problem(str(path), None, None, "expected a .csv or .xlsx file")])
    return _table(str(path), grid)


def _csv_grid(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise InputError(
                [Problem(str(path), None, None, "not UTF-8 or GB18030 text")]
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return list(reader)
    except csv.Error as error:
        problem = Problem(str(path), reader.line_num or None, None, f"malformed CSV: {error}")
        raise InputError([problem]) from None


def _xlsx_grid(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise InputError([Problem(str(path), None, None, f"unreadable XLSX: {error}")]) from None
    sheet = workbook.worksheets[0]
    grid = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return grid


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(filename: str, grid: list[list[str]]) -> Table:
    if not grid or not any(cell.strip() for cell in grid[0]):
        raise InputError([Problem(filename, 1, None, "the file has no header row")])
    columns = tuple(cell.strip().lower() for cell in grid[0])
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise InputError([Problem(filename, 1, column, "column appears twice in the header")])
        seen.add(column)
    rows = []
    for number, cells in enumerate(grid[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
            raise InputError([Problem(filename, number, None, "more cells than header columns")])
        values = {column: cell.strip() for column, cell in zip(columns, cells, strict=False)}
        rows.append((number, {column: values.get(column, "") for column in columns if column}))
    return Table(filename, tuple(column for column in columns if column), tuple(rows))
