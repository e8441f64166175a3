"""The operations commands through the installed ``huiqi``: backup, restore, export, import-all."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import SCHEMA_HEAD, HuiqiRunner


def test_backup_then_restore_puts_the_county_back(county: HuiqiRunner, tmp_path: Path) -> None:
    target = tmp_path / "backups" / "huiqi.backup"
    files = tmp_path / "files"  # the attachments' folder: named, not copied
    files.mkdir()
    taken = county("backup", str(target), env={"HUIQI_FILES__FOLDER": str(files)})
    said, kept = taken.stdout.splitlines()
    assert said.startswith(f"{target}：") and said.endswith(f" 字节，数据库结构版本 {SCHEMA_HEAD}")
    assert kept.startswith("以下文件不在备份中，请另外保存副本：") and "xihe-fulian.yaml、" in kept
    assert str(files) in kept and kept.endswith("，以及存放密钥的环境变量文件")
    english = county("--lang", "en", "backup", str(target), env={"HUIQI_FILES__FOLDER": str(files)})
    assert english.stdout.startswith(f"{target}: ") and f"schema {SCHEMA_HEAD}" in english.stdout
    assert (
        "not in the backup, keep copies too: " in english.stdout
        and "xihe-fulian.yaml" in english.stdout
        and str(files) in english.stdout
    )
    county("events", "add", "--unit", "101", "--kinds", "hearing", "--date", "2021-03-12")
    refused = county("restore", str(target), check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"{target}：数据库中已有数据（")
    assert (
        refused.stderr.endswith("）：restore --force 会用备份替换它\n")
        and "units" in refused.stderr
    )
    refused = county("--lang", "en", "restore", str(target), check=False)
    assert refused.stderr.startswith(f"{target}: the database holds data (")
    assert refused.stderr.endswith("): restore --force replaces it\n") and "units" in refused.stderr
    restored = county("restore", str(target), "--force")
    assert restored.stdout == (
        f"{target}：已恢复（数据库结构版本 {SCHEMA_HEAD}），数据库现为 {SCHEMA_HEAD}\n"
    )
    restored = county("--lang", "en", "restore", str(target), "--force")
    assert f"restored (schema {SCHEMA_HEAD}), database now at {SCHEMA_HEAD}" in restored.stdout
    status = county("status", "--as-of", "2021-03-31", "--unit", "101", "--format", "json")
    assert '"evidence": []' in status.stdout


def test_export_and_import_all_move_a_database(
    county: HuiqiRunner, tmp_path: Path, database_url: str
) -> None:
    county("events", "add", "--unit", "101", "--kinds", "hearing", "--date", "2021-03-12")
    first = tmp_path / "first.jsonl"
    exported = county("export", "--format", "jsonl", "-o", str(first))
    assert re.fullmatch(f"{re.escape(str(first))}：\\d+ 个表，共 \\d+ 行\n", exported.stderr)
    english = county("--lang", "en", "export", "-o", str(first))
    assert re.fullmatch(f"{re.escape(str(first))}: \\d+ rows in \\d+ tables\n", english.stderr)
    other = {"HUIQI_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    loaded = county("import-all", str(first), env=other)
    assert re.fullmatch(f"{re.escape(str(first))}：已导入 \\d+ 个表，共 \\d+ 行\n", loaded.stdout)
    again = county("export", env=other).stdout
    if database_url.startswith("sqlite"):
        assert again == first.read_text(encoding="utf-8")
    else:  # moved from PostgreSQL to SQLite: the same rows, times written as each stores them
        assert len(again.splitlines()) == len(first.read_text(encoding="utf-8").splitlines())
    refused = county("import-all", str(first), env=other, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"{first}：数据库中已有数据（people、units")
    assert refused.stderr.endswith("）：import-all 只能导入空数据库\n")
    refused = county("--lang", "en", "import-all", str(first), env=other, check=False)
    assert refused.stderr.startswith(f"{first}: the database holds data (people, units")
    assert refused.stderr.endswith("): import-all loads only into an empty one\n")


def test_a_postgresql_backup_without_pg_dump_says_what_to_install(
    county: HuiqiRunner, tmp_path: Path, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite backs up without outside tools")
    bare = tmp_path / "bin"
    bare.mkdir()
    os.symlink(shutil.which("true") or "/bin/true", bare / "true")
    result = county("backup", str(tmp_path / "x.backup"), env={"PATH": str(bare)}, check=False)
    assert result.returncode == 1
    assert result.stderr == (
        "pg_dump：未安装：请安装 PostgreSQL 客户端工具"
        "（Debian：apt-get install postgresql-client）\n"
    )
    env = {"PATH": str(bare)}
    result = county("--lang", "en", "backup", str(tmp_path / "x.backup"), env=env, check=False)
    assert result.stderr == (
        "pg_dump: not installed: install the PostgreSQL client tools "
        "(Debian: apt-get install postgresql-client)\n"
    )
    assert not (tmp_path / "x.backup").exists()
