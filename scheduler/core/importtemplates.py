"""What an import template holds: the header row of a units, people or events file (in
Chinese, the aliases the imports accept, or in English, the column names), one example row
that imports as it stands, and the choices of the columns that take a vocabulary (unit kinds,
roles, event kinds) for a spreadsheet's drop-down lists. Pure: the files are written by
`scheduler.tables`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from scheduler.core.records import COLUMN_ALIASES, FILE_COLUMNS
from scheduler.core.rules import RuleBook, SumRequirement
from scheduler.core.words import words

KINDS = tuple(FILE_COLUMNS)


@dataclass(frozen=True)
class ExampleUnit:
    """A unit the example row may name (a real one of the database, when there is one)."""

    code: str
    name: str
    kind: str
    parent: str | None


SAMPLE_UNIT = ExampleUnit("101", "东山镇", "township", "100")


@dataclass(frozen=True)
class Template:
    """The header, the example row and the drop-down choices (by column name) of one file.
    ``open_choices`` are columns that take several ``;``-separated values, so their list only
    suggests; other columns with choices take one of them."""

    kind: str
    header: tuple[str, ...]
    columns: tuple[str, ...]
    example: tuple[str, ...]
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    open_choices: frozenset[str] = frozenset()


def import_template(
    kind: str, book: RuleBook, language: str, unit: ExampleUnit, today: date
) -> Template:
    """The template of a ``kind`` file (``units``, ``people``, ``events``) for ``book``, with
    ``unit`` in its example row and ``today`` as its date."""
    if kind not in KINDS:
        raise ValueError(f"unknown import file {kind!r} (known: {', '.join(KINDS)})")
    columns = FILE_COLUMNS[kind] + (_attributes(book) if kind == "units" else ())
    aliases = {key: alias for alias, key in COLUMN_ALIASES[kind].items()}
    header = tuple(aliases.get(c, c) if language == "zh" else c for c in columns)
    kinds = tuple(title(language) for title in book.event_kinds.values())
    roles = tuple(title(language) for title in book.roles.values())
    unit_kinds = _unit_kind_names(book, language)
    day = today.isoformat()
    if kind == "units":
        cells = {"code": unit.code, "name": unit.name, "kind": unit_kinds[unit.kind],
                 "parent": unit.parent or "", "active_from": day}  # fmt: skip
        choices = {"kind": tuple(unit_kinds.values())}
    elif kind == "people":
        cells = {"name": "王芳", "email": "wangfang@example.org", "phone": "13800000000",
                 "unit": unit.code, "role": roles[0], "from": day}  # fmt: skip
        choices = {"role": roles}
    else:
        cells = {"unit": unit.code, "kinds": kinds[0], "date": day, "time": "09:30",
                 "title": kinds[0], "attended": roles[0], "ref": f"{today.year}-001"}  # fmt: skip
        choices = {"kinds": kinds, "attended": roles}
    example = tuple(cells.get(column, "") for column in columns)
    return Template(kind, header, columns, example, choices, frozenset({"kinds", "attended"}))


def _attributes(book: RuleBook) -> tuple[str, ...]:
    """The unit attributes the rules read (``at_least: {per: ATTRIBUTE}``)."""
    found: dict[str, None] = {}
    for rule in book.rules:
        requirement = rule.requirement
        if isinstance(requirement, SumRequirement) and requirement.per:
            found[requirement.per] = None
    return tuple(found)


def _unit_kind_names(book: RuleBook, language: str) -> dict[str, str]:
    """Each unit kind of ``book`` by its name in ``language`` (the kind itself without one)."""
    names = words(language, "demo.kind.")
    return {kind: names.get(kind, kind) for kind in book.unit_kinds}


def example_unit(units: Sequence[ExampleUnit], book: RuleBook) -> ExampleUnit:
    """The unit an example row names: the first that owes an obligation and has a parent,
    else the first unit, else `SAMPLE_UNIT`."""
    owing = {kind for rule in book.rules for kind in rule.applies_to}
    for unit in units:
        if unit.parent and unit.kind in owing:
            return unit
    return units[0] if units else SAMPLE_UNIT
