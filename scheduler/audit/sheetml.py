"""A small streaming XLSX (SpreadsheetML) writer for the 台账's workbook, standard library only.

It writes what the audit workbook uses and nothing more: sheets of text, number and date cells
with inline strings (as openpyxl writes them), a fixed list of cell styles (bold or sized font,
solid fill, number format, alignment with wrapped text, the built-in Hyperlink style), column
widths, a frozen header row repeated on each printed page, A4 landscape fitted to the page width,
and relative hyperlinks; fonts name their colour (the package has no theme part). A county's
year is some 100,000 cells: openpyxl makes an object for each cell and writes it through an XML
library, some 10 µs a cell; this writes each cell as one string, so the workbook costs a fifth
of the time and holds one sheet's text at a time.

Text cells are always text (``t="inlineStr"``), never formulas, whatever they start with;
characters XML cannot hold (controls other than tab and line breaks) are left out, and a text
longer than Excel's 32,767 characters is cut there.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import BinaryIO

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OFFICE = "application/vnd.openxmlformats-officedocument"
EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (Windows dates)
TEXT_LIMIT = 32_767
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SPECIAL = re.compile(r'[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f]')


@dataclass(frozen=True)
class Style:
    """A cell style: font, fill (an RGB colour), number format, alignment (with wrapped text);
    ``link``: the built-in Hyperlink style (blue, underlined)."""

    bold: bool = False
    size: float = 11
    fill: str | None = None
    number_format: str | None = None
    vertical: str | None = None
    link: bool = False


@dataclass(frozen=True)
class Layout:
    """A sheet's column widths; the header row (frozen with the rows above it, and on a
    printable sheet repeated on each page); printable: A4 landscape, one page wide, centred."""

    widths: Sequence[float]
    header: int = 1
    printable: bool = True


NORMAL, LINK = (False, 11, False), (False, 11, True)  # the fonts of Normal and Hyperlink
Cell = tuple[object, int, str | None]  # value, index in the workbook's styles, link target
Row = Sequence[Cell | None]


def cell(value: object, style: int = 0, link: str | None = None) -> Cell | None:
    """A cell, or none for an empty value (``None`` or ``""``)."""
    return None if value is None or value == "" else (value, style, link)


def column_letter(number: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


LETTERS = [column_letter(n) for n in range(1, 101)]


def escape(text: str) -> str:
    """Text for an XML element or attribute."""
    if not SPECIAL.search(text):
        return text  # most texts: one scan
    if ILLEGAL.search(text):
        text = ILLEGAL.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def serial(value: date) -> float | int:
    """A date, or a date and time (its zone dropped), as Excel's day number counted from
    1899-12-30, with the time as a fraction of a day (Excel's day 60 is a 29 February 1900
    that never was: dates before March 1900 are not written here)."""
    if not isinstance(value, datetime):
        return (value - EPOCH.date()).days
    moment = value.replace(tzinfo=None)
    clock = moment.time()
    seconds = clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6
    return (moment - EPOCH).days + seconds / 86400


def cell_xml(ref: str, value: object, style: int) -> str:
    """One cell's XML."""
    s = f' s="{style}"' if style else ""
    if isinstance(value, str):
        text = value[:TEXT_LIMIT]
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        if not _finite(value):
            return f'<c r="{ref}"{s}/>'  # Excel has no NaN or infinity
        return f'<c r="{ref}"{s} t="n"><v>{value:.16g}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}"{s} t="n"><v>{serial(value):.16g}</v></c>'
    raise TypeError(f"cannot write {value!r} into a cell")


def _finite(number: int | float | Decimal) -> bool:
    if isinstance(number, Decimal):
        return number.is_finite()
    return isinstance(number, int) or math.isfinite(number)


class Workbook:
    """An XLSX written into ``out`` sheet by sheet; `close` writes the workbook's own parts.
    ``styles`` are the cells' styles (a cell names one by its index; 0 is the default)."""

    def __init__(self, out: BinaryIO, styles: Sequence[Style], created: datetime) -> None:
        # the fastest deflate: a third of the default level's time, the parts some 30% larger
        self.archive = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.styles = [Style(), *styles]
        self.created = created
        self.sheets: list[tuple[str, Layout]] = []

    def add_sheet(self, title: str, layout: Layout, rows: Iterable[Row]) -> None:
        """A sheet of ``rows`` (row 1 first; a row's cells from column A, None for none; at
        most 100 columns)."""
        number = len(self.sheets) + 1
        self.sheets.append((self._unique(title), layout))
        body, links, width = [], [], 1
        for index, row in enumerate(rows, 1):
            cells = []
            for column, item in enumerate(row):
                if item is not None:
                    ref = f"{LETTERS[column]}{index}"
                    cells.append(cell_xml(ref, item[0], item[1]))
                    if item[2] is not None:
                        links.append((ref, item[2]))
            width = max(width, len(row))
            body.append(f'<row r="{index}">{"".join(cells)}</row>')
        last = f"{LETTERS[width - 1]}{max(len(body), 1)}"
        with self.archive.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
            part.write(_sheet_head(layout, last).encode())
            for start in range(0, len(body), 1000):
                part.write("".join(body[start : start + 1000]).encode())
            part.write(_sheet_tail(layout, links).encode())
        if links:
            self._write(f"xl/worksheets/_rels/sheet{number}.xml.rels", _link_rels(links))

    def _unique(self, title: str) -> str:
        """``title``, or with a number after it (within Excel's 31 characters) when another
        sheet has it already: Excel refuses a workbook with two sheets of one name."""
        taken = {name.casefold() for name, _ in self.sheets}
        candidate, number = title, 1
        while candidate.casefold() in taken:
            suffix = str(number)
            candidate, number = title[: 31 - len(suffix)] + suffix, number + 1
        return candidate

    def close(self) -> None:
        """Write the workbook, its styles and the package's parts, and end the ZIP."""
        self._write("xl/workbook.xml", _workbook_xml(self.sheets))
        self._write("xl/_rels/workbook.xml.rels", _workbook_rels(len(self.sheets)))
        self._write("xl/styles.xml", _styles_xml(self.styles))
        self._write("docProps/core.xml", _core_xml(self.created))
        self._write("docProps/app.xml", _APP)
        self._write("_rels/.rels", _ROOT_RELS)
        self._write("[Content_Types].xml", _content_types(len(self.sheets)))
        self.archive.close()

    def _write(self, name: str, text: str) -> None:
        self.archive.writestr(name, text.encode())


def _sheet_head(layout: Layout, last: str) -> str:
    fit = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if layout.printable else ""
    below = f"A{layout.header + 1}"
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{w:g}" customWidth="1"/>'
        for n, w in enumerate(layout.widths, 1)
    )
    return (
        f'{_XML}<worksheet xmlns="{MAIN}" '
        f'xmlns:r="{DOC_RELS}">{fit}<dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{layout.header}" '
        f'topLeftCell="{below}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="{below}" sqref="{below}"/></sheetView>'
        f'</sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
    )


def _sheet_tail(layout: Layout, links: Sequence[tuple[str, str]]) -> str:
    hyperlinks = "".join(
        f'<hyperlink ref="{ref}" r:id="rId{n}"/>' for n, (ref, _) in enumerate(links, 1)
    )
    listed = f"<hyperlinks>{hyperlinks}</hyperlinks>" if links else ""
    return f"</sheetData>{listed}{_print_xml(layout)}</worksheet>"


def _print_xml(layout: Layout) -> str:
    if not layout.printable:
        margins = 'left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"'
        return f"<pageMargins {margins}/>"
    margins = 'left="0.4" right="0.4" top="1" bottom="1" header="0.5" footer="0.5"'
    return (
        f'<printOptions horizontalCentered="1"/><pageMargins {margins}/>'
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
    )


def _link_rels(links: Sequence[tuple[str, str]]) -> str:
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{DOC_RELS}/hyperlink" Target="{escape(target)}" '
        'TargetMode="External"/>'
        for n, (_, target) in enumerate(links, 1)
    )
    return f'{_XML}<Relationships xmlns="{RELS}">{rels}</Relationships>'


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _workbook_xml(sheets: Sequence[tuple[str, Layout]]) -> str:
    listed = "".join(
        f'<sheet name="{escape(title)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, (title, _) in enumerate(sheets, 1)
    )
    names = "".join(
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{n}">'
        f"{escape(_quoted(title))}!${layout.header}:${layout.header}</definedName>"
        for n, (title, layout) in enumerate(sheets)
        if layout.printable
    )
    defined = f"<definedNames>{names}</definedNames>" if names else ""
    return (
        f'{_XML}<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><workbookPr/>'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets>{listed}</sheets>{defined}<calcPr calcId="124519" fullCalcOnLoad="1"/>'
        "</workbook>"
    )


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    styles = f'<Relationship Id="rId{count + 1}" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
    return f'{_XML}<Relationships xmlns="{RELS}">{sheets}{styles}</Relationships>'


def _styles_xml(styles: Sequence[Style]) -> str:
    """The styles part: one font, fill and format entry per distinct one, one cell format
    (``xf``) per style, in order; the Normal and Hyperlink cell styles."""
    formats = list(dict.fromkeys(s.number_format for s in styles if s.number_format))
    format_id = {code: 164 + n for n, code in enumerate(formats)}
    fonts = list(dict.fromkeys([NORMAL, LINK, *((s.bold, s.size, s.link) for s in styles)]))
    fills = list(dict.fromkeys(s.fill for s in styles if s.fill))
    xfs = "".join(_xf(s, format_id, fonts, fills) for s in styles)
    return (
        f'{_XML}<styleSheet xmlns="{MAIN}">'
        f'<numFmts count="{len(formats)}">'
        + "".join(
            f'<numFmt numFmtId="{format_id[code]}" formatCode="{escape(code)}"/>'
            for code in formats
        )
        + f'</numFmts><fonts count="{len(fonts)}">'
        + "".join(_font(*font) for font in fonts)
        + f'</fonts><fills count="{len(fills) + 2}"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        + "".join(
            f'<fill><patternFill patternType="solid"><fgColor rgb="00{rgb}"/></patternFill></fill>'
            for rgb in fills
        )
        + '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        f'</borders><cellStyleXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(styles)}">{xfs}</cellXfs><cellStyles count="2">'
        '<cellStyle name="Normal" xfId="0" builtinId="0"/>'
        '<cellStyle name="Hyperlink" xfId="1" builtinId="8"/></cellStyles></styleSheet>'
    )


def _font(bold: bool, size: float, link: bool) -> str:
    weight = '<b val="1"/>' if bold else ""
    if link:
        return (
            f'<font>{weight}<u val="single"/><sz val="{size:g}"/><color rgb="FF0563C1"/>'
            '<name val="Calibri"/><family val="2"/></font>'
        )
    return f'<font>{weight}<sz val="{size:g}"/><name val="Calibri"/><family val="2"/></font>'


def _xf(
    style: Style,
    format_id: dict[str, int],
    fonts: list[tuple[bool, float, bool]],
    fills: list[str],
) -> str:
    number = format_id.get(style.number_format or "", 0)
    font = fonts.index((style.bold, style.size, style.link))
    fill = fills.index(style.fill) + 2 if style.fill else 0
    applied = (
        (' applyNumberFormat="1"' if number else "")
        + (' applyFont="1"' if font else "")
        + (' applyFill="1"' if fill else "")
        + (' applyAlignment="1"' if style.vertical else "")
    )
    attributes = (
        f'numFmtId="{number}" fontId="{font}" fillId="{fill}" borderId="0" '
        f'xfId="{1 if style.link else 0}"{applied}'
    )
    if not style.vertical:
        return f"<xf {attributes}/>"
    return f'<xf {attributes}><alignment vertical="{style.vertical}" wrapText="1"/></xf>'


def _core_xml(created: datetime) -> str:
    when = (
        f"{created:%Y-%m-%dT%H:%M:%S}Z"
        if created.tzinfo is None
        else (created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    dated = f'xsi:type="dcterms:W3CDTF">{when}'
    return (
        f'{_XML}<cp:coreProperties xmlns:cp="{RELS}/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>huiqi</dc:creator>'
        f"<dcterms:created {dated}</dcterms:created><dcterms:modified {dated}</dcterms:modified>"
        "</cp:coreProperties>"
    )


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        f'ContentType="{OFFICE}.spreadsheetml.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{OFFICE}.spreadsheetml.sheet.'
        f'main+xml"/><Override PartName="/xl/styles.xml" ContentType="{OFFICE}.spreadsheetml.'
        f'styles+xml"/>{sheets}<Override PartName="/docProps/core.xml" ContentType="'
        'application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="'
        f'/docProps/app.xml" ContentType="{OFFICE}.extended-properties+xml"/></Types>'
    )


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_APP = (
    f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Application>huiqi</Application></Properties>'
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{RELS}/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{DOC_RELS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
