"""The demo county of ``huiqi demo``: invented sample data shaped like Xihe County's.

`generate(seed, year, as_of, shape)` is deterministic (a seeded `random.Random`, no clock): the
same arguments give the same rows. By default it makes one county (621225 西和县, with
``female_population``), 20 townships, 384 villages, 10 communities and 13 poverty-relief
workshops, people in every role, and the events of ``year`` up to ``as_of`` (see
`scheduler.demo.events` for the townships' habits). Every unit carries a ``note`` attribute
saying the data is invented. The rows are cells of the import CSV files of DESIGN.md, and
`load_demo` loads them through the same validated imports as ``huiqi … import``, in the caller's
transaction. `Shape` scales the tree (the benchmark builds a province with it).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.core.problems import Message, single
from scheduler.core.records import EVENT_COLUMNS, PEOPLE_COLUMNS, UNIT_COLUMNS, Table
from scheduler.core.rules import RuleBook
from scheduler.core.words import words
from scheduler.demo import tree as demo_tree
from scheduler.demo.events import Row, county_events, township_events, village_events
from scheduler.demo.tree import XIHE, Place, Shape
from scheduler.store import obligations, registry, waivers
from scheduler.store.models import Unit

DEFAULT_SEED = 1016
DEMO_YEAR = 2026
DEMO_AS_OF = date(2026, 9, 15)
ACTOR = "huiqi demo"  # who the demo's records are written by, in the trail
NOTE_MARK = "示例数据,纯属虚构 (sample data, invented): "
UNIT_FILE_COLUMNS = (*UNIT_COLUMNS, "female_population", "note")
KINDS = ("county", "township", "village", "community", "workshop")
ROLES = ("fulian_chair", "party_secretary", "clerk")
EVENT_KINDS = ("conference", "standing_study", "hearing", "research", "study", "report",
               "party_meeting", "branch_meeting", "funding")  # fmt: skip


@dataclass(frozen=True)
class Waiving:
    """A waiver the demo records: (unit, rule, period label) with why and who approved."""

    unit: str
    rule: str
    period: str
    reason: str
    by: str


@dataclass(frozen=True)
class Demo:
    """The generated rows: cells of units.csv, people.csv and events.csv, and waivers."""

    seed: int
    year: int
    as_of: date
    units: tuple[Row, ...]
    people: tuple[Row, ...]
    events: tuple[Row, ...]
    waivers: tuple[Waiving, ...]

    @property
    def note(self) -> str:
        return demo_note(self.seed, self.year, self.as_of)

    def tables(self) -> tuple[Table, Table, Table]:
        """The rows as the importers read them (row 1 is the header)."""
        return (
            _table("demo/units.csv", UNIT_FILE_COLUMNS, self.units),
            _table("demo/people.csv", PEOPLE_COLUMNS, self.people),
            _table("demo/events.csv", EVENT_COLUMNS, self.events),
        )

    def count(self, kind: str) -> int:
        return sum(row["kind"] == kind for row in self.units)

    def write_csv(self, folder: Path) -> list[Path]:
        """Write units.csv, people.csv and events.csv (UTF-8 with BOM, for Excel)."""
        paths = []
        for table in self.tables():
            path = folder / Path(table.filename).name
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with path.open("w", newline="", encoding="utf-8-sig") as handle:
                    writer = csv.DictWriter(handle, table.columns)
                    writer.writeheader()
                    writer.writerows(row for _, row in table.rows)
            except OSError as error:
                unwritten = Message("cannot_write", reason=error.strerror)
                raise single(unwritten, str(path)) from None
            paths.append(path)
        return paths


def demo_note(seed: int, year: int, as_of: date) -> str:
    """The note every demo unit carries: the data is invented, and how it was made."""
    made = f"huiqi demo --seed {seed} --year {year} --as-of {as_of.isoformat()}"
    return f"{NOTE_MARK}{made}"


def _table(filename: str, columns: Sequence[str], rows: Sequence[Row]) -> Table:
    numbered = tuple(
        (number, {column: row.get(column, "") for column in columns})
        for number, row in enumerate(rows, start=2)
    )
    return Table(filename, tuple(columns), numbered)


# ----------------------------------------------------------------------------------------------
# Generation


def demo_dates(year: int | None, as_of: date | None, today: date) -> tuple[int, date]:
    """The demo year and as-of day from what was given: by default ``today`` (the demo looks
    like a county on the day it is loaded); a year alone gets today when it is this year, else
    15 September of it; an as-of day alone its own year."""
    if as_of is not None:
        return year or as_of.year, as_of
    if year is None or year == today.year:
        return today.year, today
    return year, DEMO_AS_OF.replace(year=year)


def generate(
    seed: int = DEFAULT_SEED,
    year: int = DEMO_YEAR,
    as_of: date = DEMO_AS_OF,
    shape: Shape = XIHE,
) -> Demo:
    """The demo: units, people, and the events of ``year`` dated up to ``as_of``."""
    if as_of < date(year, 1, 1):
        early = Message("demo_before_year", as_of=as_of, year=year)
        raise single(early, "huiqi demo", field="as-of")
    if min(shape.counties, shape.townships - shape.counties + 1) < 1:
        raise single(Message("demo_shape"), "huiqi demo")
    rng = random.Random(seed)
    places = demo_tree.places(rng, shape)
    people = demo_tree.people(rng, places, year, as_of)
    events = _events(rng, places, year, as_of)
    note = demo_note(seed, year, as_of)
    units = tuple(_unit_row(unit, note) for unit in places)
    waivers = _waivers(places, events, year, as_of)
    return Demo(seed, year, as_of, units, tuple(people), tuple(events), waivers)


def _unit_row(unit: Place, note: str) -> Row:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent,
        "active_from": unit.active_from.isoformat(),
        "active_to": "",
        "female_population": "" if unit.women is None else str(unit.women),
        "note": note,
    }


# ----------------------------------------------------------------------------------------------
# People and events


def _events(rng: random.Random, places: Sequence[Place], year: int, as_of: date) -> list[Row]:
    rows: list[Row] = []
    for unit in places:
        if unit.kind == "county":
            rows += county_events(rng, unit.code, unit.women or 0, year, as_of)
        elif unit.kind == "township" and unit.profile:
            level = unit.name[-1]
            rows += township_events(rng, unit.code, unit.profile, year, as_of, level)
        elif unit.kind == "village" and unit.profile:
            rows += village_events(rng, unit.code, unit.profile, year, as_of)
    return rows


def _waivers(
    places: Sequence[Place], events: Sequence[Row], year: int, as_of: date
) -> tuple[Waiving, ...]:
    """The first silent township had its committee re-elected: the county waived the hearing
    of its first past two-month period without one."""
    silent = next((p for p in places if p.kind == "township" and _is_silent(p)), None)
    if silent is None:
        return ()
    heard = {
        (int(row["date"][5:7]) - 1) // 2 + 1
        for row in events
        if row["unit"] == silent.code and "hearing" in row["kinds"].split(";")
    }
    for bucket in range(1, 7):
        end = date(year, bucket * 2, 1) + relativedelta(months=1) - timedelta(days=1)
        if bucket not in heard and end < as_of:
            reason = "乡镇党委换届,当期未能听取妇联工作汇报,经县妇联批准豁免"
            return (
                Waiving(silent.code, "township-hearing", f"{year}-B{bucket}", reason, "县妇联"),
            )
    return ()


def _is_silent(unit: Place) -> bool:
    return unit.profile is not None and unit.profile.silent_periods > 0


# ----------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class Loaded:
    """What `load_demo` did: ``already`` when this very demo was in the database before."""

    demo: Demo
    already: bool = False
    people: int = 0
    assignments: int = 0


def check_vocabulary(book: RuleBook) -> None:
    """Refuse rulesets that lack the unit kinds, roles or event kinds the demo records."""
    for what, needed, known in (
        ("unit_kinds", KINDS, book.unit_kinds),
        ("roles", ROLES, book.roles),
        ("event_kinds", EVENT_KINDS, book.event_kinds),
    ):
        missing = [name for name in needed if name not in known]
        if missing:
            words = Message(f"demo_words.{what}")
            raise single(Message("demo_vocabulary", what=words, missing=missing), "huiqi demo")


def load_demo(session: Session, book: RuleBook, demo: Demo, now: datetime) -> Loaded:
    """Load the demo into an empty database, in the caller's transaction, and store its
    obligations.

    A database that already holds this very demo (same seed, year and as-of) is left as it
    is; one holding any other unit is refused (InputError), so the demo never mixes with
    real data."""
    check_vocabulary(book)
    notes = [attributes.get("note") for attributes in session.scalars(select(Unit.attributes))]
    if notes and all(note == demo.note for note in notes):
        return Loaded(demo, already=True)
    if notes:
        other = next((note for note in notes if str(note).startswith(NOTE_MARK)), None)
        held = (
            Message("demo_held_other", other=other)
            if other
            else Message("demo_held_units", count=len(notes))
        )
        raise single(Message("demo_not_empty", held=held), "huiqi demo")
    units, people, events = demo.tables()
    registry.import_units(session, book, units, ACTOR, now)
    assigned = registry.import_people(session, book, people, ACTOR, now)
    registry.import_events(session, book, events, ACTOR, now)
    for waiver in demo.waivers:
        waivers.waive(
            session, book, waiver.unit, waiver.rule, waiver.period, waiver.reason, waiver.by, now
        )
    obligations.settle(session, book, now.date())  # the pages read them (scale.md)
    distinct = len({row["email"] for row in demo.people})
    return Loaded(demo, people=distinct, assignments=assigned.created)


def describe(loaded: Loaded, language: str = "zh") -> str:
    """What was loaded and the commands to try next, in ``language`` (zh or en)."""
    demo, en = loaded.demo, language == "en"
    kinds = words(language, "demo.kind.")
    counts = (", " if en else "、").join(f"{demo.count(kind)} {kinds[kind]}" for kind in KINDS)
    span = _span(demo, en)
    if loaded.already:
        head = (
            "The demo county is already loaded; nothing changed."
            if en
            else "示例县已载入，未作改动。"
        )
    elif en:
        head = (f"Loaded the demo county (sample data, invented; seed {demo.seed}): {counts}; "
                f"{loaded.people} people in {loaded.assignments} roles; {len(demo.events)} "
                f"events {span}; {len(demo.waivers)} waiver(s).")  # fmt: skip
    else:
        head = (f"已载入示例县（虚构的示例数据，种子 {demo.seed}）：{counts}；{loaded.people} 人，"
                f"职务 {loaded.assignments} 项；事件 {len(demo.events)} 条（{span}）；"
                f"豁免 {len(demo.waivers)} 项。")  # fmt: skip
    return "\n".join([head, "Try next:" if en else "接下来可以试试：", *_next_commands(demo)])


def _span(demo: Demo, en: bool) -> str:
    first, last = date(demo.year, 1, 1), min(demo.as_of, date(demo.year, 12, 31))
    if en:
        return f"from {first} to {last}"
    return f"{first.year}年1月1日至{last.year}年{last.month}月{last.day}日"


def _next_commands(demo: Demo) -> list[str]:
    when = f"--year {demo.year} --as-of {demo.as_of.isoformat()}"
    township = next(row["code"] for row in demo.units if row["kind"] == "township")
    return [
        f"  huiqi matrix {when}",
        f"  huiqi scorecard {when} --kind township",
        f"  huiqi status --as-of {demo.as_of.isoformat()} --unit {township} --subtree",
    ]
