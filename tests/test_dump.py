"""``huiqi export --format jsonl`` / ``import-all``: every table round-trips, byte for byte."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import accounts, dump, registry
from scheduler.store.database import transaction
from tests.conftest import UNIT_HEADER
from tests.countyfacts import table
from tests.opsworld import (
    EVERY_TABLE,
    NOW,
    PASSWORD,
    counts,
    exported,
    fill,
    fresh_engine,
    world_settings,
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, book: RuleBook
) -> Iterator[Engine]:
    """One filled database per backend for the whole module: the tests only read it."""
    folder = tmp_path_factory.mktemp("world")
    with fresh_engine(request.param, folder, migrated=True) as engine:
        fill(engine, book, world_settings(engine.url.render_as_string(False), folder / "mail"))
        yield engine


@pytest.fixture
def twin(world: Engine, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on the same backend as ``world``."""
    with fresh_engine(world.dialect.name, tmp_path) as engine:
        yield engine


def write(tmp_path: Path, data: bytes, name: str = "export.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("with_secrets", [False, True])
def test_an_export_imported_into_an_empty_database_exports_the_same_bytes(
    world: Engine, twin: Engine, tmp_path: Path, with_secrets: bool
) -> None:
    first = exported(world, with_secrets)
    summary = dump.import_all(twin, write(tmp_path, first))
    assert exported(twin, with_secrets) == first
    expected = counts(world) | ({} if with_secrets else {"web_sessions": 0})
    assert counts(twin) == expected
    assert summary.total == len(first.splitlines()) - 2


def test_the_fixture_fills_every_table_the_export_must_carry(world: Engine) -> None:
    lines = [json.loads(line) for line in exported(world, with_secrets=True).splitlines()]
    tables = {line["table"] for line in lines if "table" in line}
    assert set(EVERY_TABLE) <= tables


def test_the_export_leaves_password_hashes_and_sessions_out_unless_asked(
    world: Engine, twin: Engine, tmp_path: Path
) -> None:
    lines = [json.loads(line) for line in exported(world).splitlines()]
    rows = [line for line in lines if "table" in line]
    users = [line["row"] for line in rows if line["table"] == "web_users"]
    tokens = [line["row"] for line in rows if line["table"] == "web_tokens"]
    assert users and all(user["password_hash"] is None for user in users)
    assert not [line for line in rows if line["table"] == "web_sessions"]
    assert tokens and all(len(token["token_hash"]) == 64 for token in tokens)
    assert lines[0] == {"huiqi": "export", "format": 1, "revisions": lines[0]["revisions"],
                        "secrets": False}  # fmt: skip
    dump.import_all(twin, write(tmp_path, exported(world)))
    with transaction(twin) as session:
        assert accounts.authenticate(session, "admin", PASSWORD) is None
        accounts.set_password(session, "admin", "a new password", NOW, "县妇联")
        assert accounts.authenticate(session, "admin", "a new password") is not None


def test_users_keep_their_passwords_with_secrets(
    world: Engine, twin: Engine, tmp_path: Path
) -> None:
    dump.import_all(twin, write(tmp_path, exported(world, with_secrets=True)))
    with transaction(twin) as session:
        assert accounts.authenticate(session, "liu", PASSWORD) is not None


def test_an_imported_database_takes_new_rows_after_the_imported_ids(
    world: Engine, twin: Engine, tmp_path: Path, book: RuleBook
) -> None:
    dump.import_all(twin, write(tmp_path, exported(world)))
    new = [("300", "北岭镇", "township", "100", "2000-01-01", "", "")]
    with transaction(twin) as session:
        registry.import_units(session, book, table("new.csv", UNIT_HEADER, new), "x", NOW)
        registry.add_event(
            session, book, {"unit": "300", "kinds": "hearing", "date": "2026-05-01"}, "x", NOW
        )
    assert counts(twin)["units"] == counts(world)["units"] + 1


def test_import_all_refuses_a_database_that_holds_data(world: Engine, tmp_path: Path) -> None:
    before = counts(world)
    with pytest.raises(InputError, match="holds data"):
        dump.import_all(world, write(tmp_path, exported(world)))
    assert counts(world) == before


def _lines(world: Engine) -> list[str]:
    return exported(world).decode().splitlines(keepends=True)


def _replace_row(lines: list[str], name: str, **cells: object) -> list[str]:
    index = next(i for i, line in enumerate(lines) if f'"table":"{name}"' in line)
    item = json.loads(lines[index])
    item["row"].update(cells)
    return [*lines[:index], json.dumps(item, ensure_ascii=False) + "\n", *lines[index + 1 :]]


BAD_FILES = {
    "truncated": (lambda lines: lines[:-1], "truncated: no end line", "文件不完整："),
    "cut in the middle": (lambda lines: lines[: len(lines) // 2], "truncated", "行之后没有结束行"),
    "not json": (
        lambda lines: [*lines[:3], "{oops\n", *lines[3:]],
        ":4: not JSON",
        " 第4行：不是 JSON：",
    ),
    "unknown table": (
        lambda lines: [*lines[:2], '{"table":"nope","row":{}}\n', *lines[2:]],
        ":3: table: unknown table 'nope'",
        " 第3行，table：没有这个数据表“nope”",
    ),
    "bad date": (
        lambda lines: _replace_row(lines, "units", active_from="2021-13-01"),
        "units.active_from: not a valid date",
        "units.active_from：不是有效的 date：",
    ),
    "unknown column": (
        lambda lines: _replace_row(lines, "people", age=3),
        "unknown column 'age'",
        "没有这个列“age”",
    ),
    "wrong count": (
        lambda lines: [*lines[:-1], '{"end":{"rows":1}}\n'],
        "the end line counts 1 rows",
        "结束行记有 1 行，文件中有",
    ),
    "duplicate row": (
        lambda lines: [*lines[:2], lines[1], *lines[2:]],
        "refused by the database",
        "：数据库拒绝写入：",
    ),
    "no header": (lambda lines: lines[1:], ":1: not a huiqi export", " 第1行：不是 huiqi 导出文件"),
    "newer schema": (
        lambda lines: [lines[0].replace('"revisions":[', '"revisions":["9999",'), *lines[1:]],
        "schema revision 9999 is newer than this huiqi",
        "数据库结构版本 9999 比本 huiqi 新：请先升级 huiqi",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_import_all_writes_nothing_from_a_bad_file(
    world: Engine, twin: Engine, tmp_path: Path, case: str
) -> None:
    change, message, chinese = BAD_FILES[case]
    path = write(tmp_path, "".join(change(_lines(world))).encode())
    with pytest.raises(InputError) as refused:
        dump.import_all(twin, path)
    assert message in str(refused.value)
    assert len(str(refused.value).splitlines()) == 1
    assert str(refused.value).startswith(str(path))
    assert chinese in refused.value.said("zh") and refused.value.said("zh").startswith(str(path))
    assert sum(counts(twin).values()) == 0
