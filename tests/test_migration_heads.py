"""The schema check reads the migrations' revisions from their files, as Alembic reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from scheduler.store import database


def test_the_heads_and_revisions_are_alembics() -> None:
    script = ScriptDirectory(str(database.MIGRATIONS))
    known = frozenset(revision.revision for revision in script.walk_revisions())
    assert database._migrations() == (frozenset(script.get_heads()), known)


def test_a_merge_has_one_head_and_a_branch_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    for name, down in (("a", None), ("b", "a"), ("c", "a")):
        (versions / f"{name}.py").write_text(f"revision = {name!r}\ndown_revision = {down!r}\n")
    (versions / "d.py").write_text('revision: str = "d"\ndown_revision = ("b", "c")\n')
    monkeypatch.setattr(database, "MIGRATIONS", tmp_path)
    try:
        database._migrations.cache_clear()
        assert database._migrations() == (frozenset({"d"}), frozenset("abcd"))
        (versions / "d.py").unlink()
        database._migrations.cache_clear()
        assert database._migrations() == (frozenset({"b", "c"}), frozenset("abc"))
    finally:
        database._migrations.cache_clear()  # the next call reads the shipped ones again
