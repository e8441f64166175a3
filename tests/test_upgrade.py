"""Upgrading a database of the first released schema (0001…0005) to the newest one.

The code of that release is not at hand, so its data is made by today's code in a scratch
database and copied, table by table and column by column, into a database that Alembic brought
only to revision 0005 (SQLAlchemy Core against the reflected old schema). Then the upgrade runs
and the result must be indistinguishable from a database built at the newest schema: the same
export, byte for byte, and the same statuses; the contract scenarios hold on it too.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import pytest
from alembic import command
from sqlalchemy import Engine, MetaData, func, select, text
from sqlalchemy.orm import Session

from scheduler.core.rules import RuleBook
from scheduler.demo import county as demo
from scheduler.rulefiles import read_rulebook
from scheduler.store import obligations, registry, reports, schema, waivers
from scheduler.store.database import alembic_config, migrate, transaction
from scheduler.tables import read_table
from tests.conftest import BUNDLED_RULES, CONTRACT, SCENARIOS, huiqi_executable
from tests.countyfacts import SHANGHAI
from tests.opsworld import counts, exported, fresh_engine

FIRST_RELEASE = "0005"
LOADED = datetime(2026, 9, 15, 18, 0, tzinfo=SHANGHAI)


def at_revision(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def copy_rows(source: Engine, target: Engine) -> dict[str, int]:
    """Every row of ``source`` that the (older) schema of ``target`` has room for."""
    old = MetaData()
    old.reflect(target)
    copied = {}
    with source.connect() as reading, target.begin() as writing:
        for table in schema.tables():
            if table.name not in old.tables:
                continue
            into = old.tables[table.name]
            names = [column.name for column in table.columns if column.name in into.c]
            query = select(*(table.c[name] for name in names)).order_by(*table.primary_key.columns)
            rows = [dict(row) for row in reading.execute(query).mappings()]
            own = [c.name for c in into.c if any(k.column.table is into for k in c.foreign_keys)]
            if rows:  # references within the table (a newer version, a parent) are set after
                writing.execute(into.insert(), [row | dict.fromkeys(own) for row in rows])
                for row in (row for row in rows if any(row[name] for name in own)):
                    keys = [into.c[c.name] == row[c.name] for c in table.primary_key.columns]
                    writing.execute(into.update().where(*keys).values({n: row[n] for n in own}))
            copied[table.name] = len(rows)
        if target.dialect.name == "postgresql":
            _reset_sequences(writing, old)
    return copied


def _reset_sequences(connection: object, old: MetaData) -> None:
    for table in old.tables.values():
        if "id" in table.c and table.name != schema.VERSION_TABLE:
            top = connection.execute(select(func.max(table.c.id))).scalar()  # type: ignore[attr-defined]
            if top is not None:
                connection.execute(  # type: ignore[attr-defined]
                    text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                    {"t": table.name, "v": top},
                )


def test_a_first_release_database_with_the_demo_upgrades_to_the_newest_schema(
    engine: Engine, book: RuleBook, tmp_path: Path
) -> None:
    county = demo.generate()
    with transaction(engine) as session:
        demo.load_demo(session, book, county, LOADED)
    selection = reports.Selection(date(2026, 9, 15), date(2026, 1, 1), date(2026, 12, 31))
    with fresh_engine(engine.dialect.name, tmp_path) as old:
        at_revision(old, FIRST_RELEASE)
        with old.connect() as connection:
            assert schema.revisions(connection) == (FIRST_RELEASE,)
        copied = copy_rows(engine, old)
        source_counts = counts(engine)
        assert copied == {name: source_counts[name] for name in copied}
        assert copied["events"] and copied["waivers"] and copied["role_assignments"]
        migrate(old)
        with old.connect() as connection:
            assert schema.revisions(connection) == schema.code_heads()
        with transaction(old) as session:  # as the daemon's sweep or `obligations refresh`
            obligations.settle(session, book, LOADED.date())
        with engine.begin() as connection:  # events written before 0014 keep no digest
            connection.execute(text("UPDATE events SET digest = NULL"))
        assert exported(old, with_secrets=True) == exported(engine, with_secrets=True)
        assert _statuses(old, book, selection) == _statuses(engine, book, selection)


def _statuses(
    engine: Engine, book: RuleBook, selection: reports.Selection
) -> list[dict[str, object]]:
    with transaction(engine) as session:
        return [row.to_json() for row in reports.status_rows(session, book, selection)]


# ----------------------------------------------------------------------------------------------
# The contract on upgraded databases


def contract_runner() -> ModuleType:
    """../shared/contract/run.py as a module, leaving no bytecode cache in that folder."""
    spec = importlib.util.spec_from_file_location("contract_run", CONTRACT / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes
    return module


def load_scenario(session: Session, book: RuleBook, folder: Path) -> None:
    """What ../shared/contract/run.py loads through the command, through the same services."""
    registry.import_units(session, book, read_table(folder / "units.csv"), "import", LOADED)
    if (folder / "people.csv").exists():
        registry.import_people(session, book, read_table(folder / "people.csv"), "import", LOADED)
    for events in sorted(glob.glob(str(folder / "events*.csv"))):
        registry.import_events(session, book, read_table(Path(events)), "import", LOADED)
    if (folder / "waive.json").exists():
        for unit, rule, period in json.loads((folder / "waive.json").read_text(encoding="utf-8")):
            waivers.waive(
                session, book, unit, rule, period, "contract scenario", "contract", LOADED
            )


@pytest.mark.skipif(not SCENARIOS, reason="../shared/contract is not beside the project")
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_contract_holds_on_an_upgraded_database(
    engine: Engine, tmp_path: Path, scenario: str
) -> None:
    folder = CONTRACT / scenario
    rules = folder / "rules.yaml" if (folder / "rules.yaml").exists() else BUNDLED_RULES
    book = read_rulebook([rules])
    with transaction(engine) as session:
        load_scenario(session, book, folder)
    runner = contract_runner()
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    with fresh_engine(engine.dialect.name, tmp_path) as old:
        at_revision(old, FIRST_RELEASE)
        copy_rows(engine, old)
        migrate(old)
        bin_dir = str(Path(huiqi_executable()).parent)
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               "HUIQI_DATABASE_URL": old.url.render_as_string(hide_password=False),
               "HUIQI_RULES": str(rules)}  # fmt: skip
        rows = runner.status(env, expected)
    assert runner.differences(rows, expected) == []
    assert len(rows) >= len(expected["expect"])
