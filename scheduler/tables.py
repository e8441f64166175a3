"""Reading CSV and XLSX files into rows of text, numbered as a spreadsheet numbers them, with
bounds; writing cells that a spreadsheet never runs as formulas.

The header is row 1 and data rows start at 2. CSV is read as UTF-8 (with or without BOM) and,
failing that, as GB18030, the encoding Excel uses for CSV on Chinese Windows. Blank rows are
skipped. Cell values become trimmed strings; XLSX date cells become ISO dates, time cells
HH:MM, numbers their digits (no ``.0`` on a whole number).

A file is checked before it is parsed and refused with one line naming it: larger than
`Limits.max_bytes`, of another type than its name says (a ``.csv`` that is a ZIP archive, an
``.xlsx`` that is not), an XLSX that unpacks to more than `Limits.max_unpacked_bytes` or holds
a DTD, more data rows, columns or characters in a cell than the limits allow. An XLSX is read
by its real cells (openpyxl's read-only mode), never by the range its ``<dimension>`` claims.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from scheduler.core.importtemplates import Template
from scheduler.core.problems import InputError, Message, Problem
from scheduler.core.records import Table

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the pre-2007 Excel .xls format
SHEET_COLUMNS = 16_384  # the most columns a worksheet can have (A … XFD)
SHEET_ROWS = 1_048_576  # and rows


@dataclass(frozen=True)
class Limits:
    """The bounds of one import file (config.yaml ``imports``)."""

    max_bytes: int = 5_000_000
    max_unpacked_bytes: int = 50_000_000
    max_rows: int = 50_000
    max_columns: int = 50
    max_cell_chars: int = 2_000

    @classmethod
    def of(cls, settings: Any) -> Limits:
        """The limits named like this class's fields on ``settings`` (``Settings.imports``)."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


def _refuse(filename: str, message: Message, row: int | None = None) -> InputError:
    return InputError([Problem(filename, row, None, message)])


def read_table(
    path: Path, limits: Limits = Limits(), name: str | None = None, stream: bool = False
) -> Table:
    """Read a .csv or .xlsx file within ``limits``; ``name`` is how problems name the file
    (default: the path). Raise InputError naming the file when it cannot or may not be read.
    With ``stream`` the header is read now and the rows as the table's reader iterates them,
    once (a problem further down the file is raised then)."""
    filename = name or str(path)
    if not path.is_file():
        raise _refuse(filename, Message("no_such_file"))
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise _refuse(
            filename, Message("file_too_large", size=f"{size:,}", limit=f"{limits.max_bytes:,}")
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        if not head.startswith(ZIP_MAGIC):
            raise _refuse(filename, Message("not_xlsx"))
        grid = _xlsx_rows(path, filename, limits)
    elif suffix == ".xls" or head.startswith(OLE_MAGIC):
        raise _refuse(filename, Message("old_xls"))
    elif suffix in (".csv", ".txt"):
        if head.startswith(ZIP_MAGIC):
            raise _refuse(filename, Message("zip_not_csv"))
        grid = _csv_rows(path, filename)
    else:
        raise _refuse(filename, Message("csv_or_xlsx"))
    return _table(filename, _bounded(grid, filename, limits), stream)


# ----------------------------------------------------------------------------------------------
# CSV


def _csv_rows(path: Path, filename: str) -> Iterator[list[str]]:
    """The CSV rows of ``path``, read from the file as they are asked for (memory does not grow
    with the file)."""
    encoding = _encoding(path, filename)
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            yield from reader
        except csv.Error as error:
            raise _refuse(
                filename, Message("bad_csv", error=error), reader.line_num or None
            ) from None


def _encoding(path: Path, filename: str) -> str:
    """``utf-8-sig`` when the whole file decodes as UTF-8, else ``gb18030`` when it decodes as
    that; checked a megabyte at a time, before any row is read."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise _refuse(filename, Message("not_text"))


# ----------------------------------------------------------------------------------------------
# XLSX


def _xlsx_rows(path: Path, filename: str, limits: Limits) -> Iterator[list[str]]:
    """The first sheet's rows of values (trailing empty cells dropped), after `_scan_xlsx`
    checked the archive."""
    from openpyxl import load_workbook

    _scan_xlsx(path, filename, limits)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise _refuse(filename, Message("bad_xlsx", error=error)) from None
    try:
        if not workbook.worksheets:
            raise _refuse(filename, Message("no_worksheet"))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # never trust <dimension>: read the cells that are there
        # `_scan_xlsx` saw no value past max_rows + 1: stop there, not at a claimed last row
        for values in sheet.iter_rows(max_row=limits.max_rows + 1, values_only=True):
            yield [_cell_text(value) for value in _trimmed(values)]
    except InputError:
        raise
    except Exception as error:  # a damaged sheet surfaces while its rows are read
        raise _refuse(filename, Message("bad_xlsx", error=error)) from None
    finally:
        workbook.close()


def _trimmed(values: Sequence[Any]) -> Sequence[Any]:
    """A row without its trailing empty cells."""
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    return values[:end]


def _scan_xlsx(path: Path, filename: str, limits: Limits) -> None:
    """Check the archive before openpyxl reads it: its unpacked size, no DTD in any XML part,
    and in each worksheet at most ``max_rows`` rows with values and at most a sheet's width
    of cells in a row, so that no part can make the reader allocate without bound."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _refuse(filename, Message("damaged_xlsx")) from None
    with archive:
        members = archive.infolist()
        unpacked = sum(member.file_size for member in members)
        if unpacked > limits.max_unpacked_bytes:
            raise _refuse(
                filename,
                Message(
                    "unpacks_too_large",
                    size=f"{unpacked:,}",
                    limit=f"{limits.max_unpacked_bytes:,}",
                ),
            )
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                sheet = member.filename.startswith("xl/worksheets/")
                with archive.open(member) as stream:
                    _SheetScan(filename, limits, sheet).read(stream)


class _SheetScan:
    """A streaming pass over one XML part (expat: no tree is built)."""

    def __init__(self, filename: str, limits: Limits, count: bool) -> None:
        self.filename, self.limits = filename, limits
        self.rows = self.cells = self.number = 0
        self.has_value = False
        self.parser = expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = self._doctype
        if count:
            self.parser.StartElementHandler = self._start
            self.parser.EndElementHandler = self._end

    def read(self, stream: IO[bytes]) -> None:
        try:
            while chunk := stream.read(1 << 16):
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except (expat.ExpatError, zipfile.BadZipFile, OSError) as error:
            raise _refuse(self.filename, Message("bad_xlsx", error=error)) from None

    def _doctype(self, *_: Any) -> None:
        raise _refuse(self.filename, Message("xlsx_dtd"))

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            self.number = _row_number(attributes.get("r"), self.number + 1, self.filename)
            self.cells, self.has_value = 0, False
        elif local == "c":
            self.cells += 1
            if self.cells > SHEET_COLUMNS:
                raise _refuse(self.filename, Message("row_too_wide"))
        elif local in ("v", "is", "f"):
            self.has_value = True

    def _end(self, name: str) -> None:
        if name.rpartition(":")[2] == "row" and self.has_value:
            self.rows += 1
            if self.rows > self.limits.max_rows + 1 or self.number > self.limits.max_rows + 1:
                raise _too_many_rows(self.filename, self.limits)


def _row_number(text: str | None, default: int, filename: str) -> int:
    try:
        number = default if text is None else int(float(text))
    except ValueError:
        raise _refuse(filename, Message("bad_xlsx", error=f"bad row number {text!r}")) from None
    if not 1 <= number <= SHEET_ROWS:
        raise _refuse(filename, Message("bad_xlsx", error=f"no worksheet has a row {text}"))
    return number


def _too_many_rows(filename: str, limits: Limits) -> InputError:
    return _refuse(filename, Message("too_many_rows", limit=f"{limits.max_rows:,}"))


EXCEL_EPOCHS = (date(1899, 12, 30), date(1899, 12, 31), date(1904, 1, 1))  # a time-only serial


def _cell_text(value: Any) -> str:
    """A cell's value as text: a date cell as 2021-03-12, a time cell (Excel keeps 9:30 as
    a fraction of a day) as 09:30, a date and time as 2021-03-12 09:30, a whole number
    without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.date() in EXCEL_EPOCHS and value.time() != time(0):
            return _clock(value.time())
        day = value.date().isoformat()
        return day if value.time() == time(0) else f"{day} {_clock(value.time())}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _clock(value)
    if isinstance(value, timedelta):  # a duration cell ([h]:mm) read as a time of day
        return _clock((datetime.min + value).time()) if value < timedelta(days=1) else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(round(value, 10)).removesuffix(".0")
    return str(value)


def _clock(moment: time) -> str:
    """A time of day to the nearest minute (a serial fraction may miss it by microseconds)."""
    minutes = round((moment.hour * 3600 + moment.minute * 60 + moment.second
                     + moment.microsecond / 1e6) / 60)  # fmt: skip
    minutes = min(minutes, 24 * 60 - 1)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ----------------------------------------------------------------------------------------------
# Bounds and the table


def _bounded(
    grid: Iterable[list[str]], filename: str, limits: Limits
) -> Iterator[tuple[int, list[str]]]:
    """Number the rows from 1 and refuse, as soon as it shows, a row past ``max_rows`` rows
    after the header (blank ones count), more than ``max_columns`` columns, or a cell longer
    than ``max_cell_chars``."""
    longest = limits.max_cell_chars
    for number, cells in enumerate(grid, start=1):
        if number > limits.max_rows + 1:
            raise _too_many_rows(filename, limits)
        width = len(cells)
        while width and not cells[width - 1].strip():
            width -= 1
        if width > limits.max_columns:
            raise _refuse(
                filename, Message("too_many_columns", count=width, limit=limits.max_columns), number
            )
        if width < len(cells):
            cells = cells[:width]
        if cells and max(map(len, cells)) > longest:
            cell = next(cell for cell in cells if len(cell) > longest)
            message = Message("cell_too_long", size=f"{len(cell):,}", limit=f"{longest:,}")
            raise _refuse(filename, message, number)
        yield number, cells


def _table(filename: str, rows: Iterator[tuple[int, list[str]]], stream: bool = False) -> Table:
    first = next(rows, None)
    if first is None or not any(cell.strip() for cell in first[1]):
        raise _refuse(filename, Message("no_header"), 1)
    columns = tuple(cell.strip().lower() for cell in first[1])
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise InputError([Problem(filename, 1, column, Message("column_twice"))])
        seen.add(column)
    named = tuple(column for column in columns if column)
    body = _body(filename, columns, named, rows)
    return Table(filename, named, body if stream else tuple(body))


def _body(
    filename: str, columns: tuple[str, ...], named: tuple[str, ...],
    rows: Iterator[tuple[int, list[str]]],
) -> Iterator[tuple[int, dict[str, str]]]:  # fmt: skip
    """The data rows by column name, blank rows skipped."""
    every = columns == named  # no column without a name: a full row is its cells by name
    for number, cells in rows:
        stripped = list(map(str.strip, cells))
        if not any(stripped):
            continue
        if len(cells) > len(columns):
            raise _refuse(filename, Message("more_cells"), number)
        if every and len(stripped) == len(columns):
            yield number, dict(zip(named, stripped, strict=True))
            continue
        values = dict(zip(columns, stripped, strict=False))
        yield number, {column: values.get(column, "") for column in named}


# ----------------------------------------------------------------------------------------------
# Writing: cells that are never formulas

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as written and never runs: text starting with
    ``= + - @``, a tab or a carriage return gets a leading ``'`` (OWASP's advice); numbers,
    including text that is only a number such as ``-5``, stay as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """`csv_cell` applied to every value of a row."""
    return [csv_cell(value) for value in values]


def never_formulas(cells: Iterable[Any]) -> None:
    """Mark the text cells of a row of openpyxl cells as strings: openpyxl would otherwise
    write a text starting with ``=`` as a formula. The text reads the same."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


# ----------------------------------------------------------------------------------------------
# Import templates

TEMPLATE_ROWS = 1_000  # the rows of a template sheet its drop-down lists cover
_DATE_COLUMNS = ("date", "from", "to", "active_from", "active_to")


def template_csv(template: Template) -> bytes:
    """The template as CSV: header and example row, UTF-8 with a BOM (so Excel reads it)."""
    out = io.StringIO(newline="")
    csv.writer(out).writerows([template.header, csv_row(template.example)])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(template: Template) -> bytes:
    """The template as an XLSX workbook: the header, the example row (its date and time as
    date and time cells, as Excel keeps them) and a drop-down list (data validation) on each
    column that takes a vocabulary, fed from a hidden sheet of the choices."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = template.kind
    sheet.append(list(template.header))
    sheet.append(
        [_example_cell(c, v) for c, v in zip(template.columns, template.example, strict=True)]
    )
    never_formulas(sheet[1])
    never_formulas(sheet[2])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    lists = workbook.create_sheet("choices")
    lists.sheet_state = "hidden"
    listed = 0
    for number, column in enumerate(template.columns, start=1):
        letter = get_column_letter(number)
        sheet.column_dimensions[letter].width = 16 if column != "title" else 30
        if column in _DATE_COLUMNS:
            sheet.cell(2, number).number_format = "yyyy-mm-dd"
        if column == "time":
            sheet.cell(2, number).number_format = "hh:mm"
        choices = template.choices.get(column)
        if not choices:
            continue
        listed += 1
        source = get_column_letter(listed)
        name = template.header[number - 1]
        for row, choice in enumerate((name, *choices), start=1):
            lists[f"{source}{row}"] = choice
        strict = column not in template.open_choices
        validation = DataValidation(
            type="list",
            formula1=f"=choices!${source}$2:${source}${len(choices) + 1}",
            allow_blank=True,
            showErrorMessage=strict,
            errorStyle="stop" if strict else "information",
        )
        sheet.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
    never_formulas(cell for row in lists.iter_rows() for cell in row)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _example_cell(column: str, value: str) -> Any:
    """An example value as the cell a clerk would type: a date or a time, else text."""
    if not value:
        return None
    if column in _DATE_COLUMNS:
        return date.fromisoformat(value)
    if column == "time":
        return time.fromisoformat(value)
    return value
