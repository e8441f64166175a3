"""Users, sessions, tokens, scopes and the change trail of the web capability."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select

from scheduler.core.access import Principal, Role, can_change, can_read, lineage, readable_units
from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import accounts, trail
from scheduler.store.database import transaction
from scheduler.store.models import Base, ChangeRecord
from scheduler.store.models_accounts import ApiToken, User
from tests.conftest import HuiqiRunner
from tests.countyfacts import SHANGHAI, load_county

NOW = datetime(2021, 3, 1, 9, 0, tzinfo=SHANGHAI)
PARENTS = {100: None, 101: 100, 102: 100, 10101: 101}


def user(role: Role, unit: int | None) -> Principal:
    return Principal(1, "u", "", role, unit)


# ----------------------------------------------------------------------------------------------
# Scope, pure


def test_a_township_clerk_reads_and_changes_its_township_and_villages_only() -> None:
    clerk = user(Role.CLERK, 101)
    assert can_change(clerk, lineage(10101, PARENTS))
    assert can_read(clerk, lineage(101, PARENTS))
    assert not can_read(clerk, lineage(102, PARENTS))
    assert not can_read(clerk, lineage(100, PARENTS))
    assert sorted(readable_units(clerk, PARENTS)) == [101, 10101]


def test_a_viewer_reads_its_subtree_and_changes_nothing() -> None:
    viewer = user(Role.VIEWER, 100)
    assert can_read(viewer, lineage(10101, PARENTS))
    assert not can_change(viewer, lineage(10101, PARENTS))


def test_an_admin_reads_and_changes_everything() -> None:
    admin = user(Role.ADMIN, None)
    assert all(can_change(admin, lineage(unit, PARENTS)) for unit in PARENTS)


def test_lineage_stops_on_a_cycle() -> None:
    assert lineage(1, {1: 2, 2: 1}) == (1, 2)


# ----------------------------------------------------------------------------------------------
# Users, sessions and tokens on real databases


@pytest.fixture
def county_db(engine: Engine, book: RuleBook) -> Engine:
    load_county(engine, book)
    return engine


def test_a_user_logs_in_with_the_right_password_only(county_db: Engine) -> None:
    with transaction(county_db) as session:
        accounts.add_user(session, "liu", "clerk", "101", "correct horse", NOW, "cli", "刘主席")
    with transaction(county_db) as session:
        stored = session.scalar(select(User.password_hash))
        assert stored is not None and stored.startswith("$argon2id$")
        found = accounts.authenticate(session, "liu", "correct horse")
        assert found is not None and found.role is Role.CLERK and found.label == "刘主席"
        assert accounts.authenticate(session, "liu", "wrong horse") is None
        assert accounts.authenticate(session, "nobody", "correct horse") is None


@pytest.mark.parametrize(
    ("role", "unit", "password", "field", "message"),
    [
        ("clerk", None, "long enough", "unit", "a clerk needs a unit"),
        ("clerk", "999", "long enough", "unit", "unknown unit '999'"),
        ("admin", "101", "long enough", "unit", "an admin has no unit"),
        ("boss", "101", "long enough", "role", "unknown role 'boss' (admin, clerk or viewer)"),
        ("viewer", "101", "short", "password", "at least 8 characters"),
    ],
)
def test_a_bad_user_is_refused_naming_the_field(
    county_db: Engine, role: str, unit: str | None, password: str, field: str, message: str
) -> None:
    with pytest.raises(InputError) as caught, transaction(county_db) as session:
        accounts.add_user(session, "x", role, unit, password, NOW, "cli")
    assert str(caught.value) == f"users add: {field}: {message}"
    with transaction(county_db) as session:
        assert session.scalar(select(User.id)) is None


def test_a_session_expires_and_a_password_change_ends_it(county_db: Engine) -> None:
    with transaction(county_db) as session:
        liu = accounts.add_user(session, "liu", "clerk", "101", "correct horse", NOW, "cli")
        opened = accounts.open_session(session, liu, NOW)
    with transaction(county_db) as session:
        found = accounts.session_user(session, opened.cookie, NOW + timedelta(hours=1))
        assert found == (liu, opened.csrf)
        assert accounts.session_user(session, opened.cookie, NOW + timedelta(days=1)) is None
        accounts.set_password(session, "liu", "battery staple", NOW, "cli")
    with transaction(county_db) as session:
        assert accounts.session_user(session, opened.cookie, NOW) is None


def test_a_token_is_stored_hashed_and_stops_when_its_user_is_disabled(county_db: Engine) -> None:
    with transaction(county_db) as session:
        accounts.add_user(session, "api", "viewer", "100", "correct horse", NOW, "cli")
        token = accounts.create_token(session, "api", "sync", NOW, "cli")
    with transaction(county_db) as session:
        assert session.scalar(select(ApiToken.token_hash)) == accounts.digest(token)
        assert accounts.token_user(session, token) is not None
        assert accounts.token_user(session, token + "x") is None
        accounts.disable_user(session, "api", NOW, "cli")
    with transaction(county_db) as session:
        assert accounts.token_user(session, token) is None


def test_every_account_change_lands_in_the_trail_with_its_actor(county_db: Engine) -> None:
    with transaction(county_db) as session:
        accounts.add_user(session, "liu", "clerk", "101", "correct horse", NOW, "cli")
        accounts.create_token(session, "liu", "sync", NOW, "cli")
        accounts.disable_user(session, "liu", NOW, "admin")
    with transaction(county_db) as session:
        day = date(2021, 3, 1)
        found = [e for e in trail.entries(session, None, day, day, SHANGHAI) if e.actor != "县妇联"]
        said = [c for c in trail.changes(session, None, day, day, SHANGHAI) if c.actor != "县妇联"]
    assert [(e.action, e.actor, e.unit_code, e.subject) for e in found] == [
        ("user.disable", "admin", "101", "liu"),
        ("token.create", "cli", "101", "liu: sync"),
        ("user.add", "cli", "101", "liu"),
    ]
    assert found[2].after == {"access": "clerk", "unit": "101"}  # no empty display name
    assert (said[0].action, said[0].before, said[0].after) == ("停用用户", "启用：是", "启用：否")


WEB_TABLES = {"web_users", "web_sessions", "web_tokens", "change_log"}


def table_of(difference: object) -> str | None:
    """The table an Alembic autogenerate difference is about."""
    if isinstance(difference, list):
        return table_of(difference[0])
    assert isinstance(difference, tuple)
    for item in difference[1:]:
        if hasattr(item, "table"):
            return str(item.table.name)
        if hasattr(item, "name") and hasattr(item, "columns"):
            return str(item.name)
    return str(difference[2]) if isinstance(difference[2], str) else None


def test_the_web_migration_matches_the_web_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if table_of(d) in WEB_TABLES] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_huiqi_users_and_tokens_commands(county: HuiqiRunner) -> None:
    env = {"HUIQI_PASSWORD": "correct horse"}
    assert (
        "已添加用户 liu（101 的填报员）"
        in county("users", "add", "liu", "--role", "clerk", "--unit", "101", env=env).stdout
    )
    token = county("tokens", "create", "liu", "--name", "sync").stdout.strip()
    assert token.startswith("hq_")
    county("users", "passwd", "liu", env={"HUIQI_PASSWORD": "battery staple"})
    again = county("users", "add", "liu", "--role", "viewer", "--unit", "101", env=env, check=False)
    assert (again.returncode, again.stderr) == (
        1,
        "users add，用户名：用户“liu”已经存在\n",
    )
    county("users", "disable", "liu")
    twice = county("--lang", "en", "users", "disable", "liu", check=False)
    assert twice.stderr == "users disable: username: user 'liu' is already disabled\n"


def test_a_revoked_token_stops_at_once_and_its_user_keeps_the_others(county_db: Engine) -> None:
    with transaction(county_db) as session:
        accounts.add_user(session, "api", "viewer", "100", "correct horse", NOW, "cli")
        sync = accounts.create_token(session, "api", "sync", NOW, "cli")
        backup = accounts.create_token(session, "api", "backup", NOW, "cli")
    with transaction(county_db) as session:
        listed = accounts.list_tokens(session, "api")
        assert [(t.name, t.revoked_at) for t in listed] == [("sync", None), ("backup", None)]
        label = accounts.revoke_token(session, listed[0].id, NOW, actor="admin")
        assert str(label) == f"token {listed[0].id} sync of api"
        assert label.said("zh") == f"api 的令牌 {listed[0].id}“sync”"
        assert str(accounts.token_label(7, "", "api")) == "token 7 of api"
        assert accounts.token_label(7, "", "api").said("zh") == "api 的令牌 7"
    with transaction(county_db) as session:
        assert accounts.token_user(session, sync) is None
        assert accounts.token_user(session, backup) is not None
        with pytest.raises(InputError, match="already revoked"):
            accounts.revoke_token(session, listed[0].id, NOW, "admin")
        with pytest.raises(InputError, match="no token 999"):
            accounts.revoke_token(session, 999, NOW, "admin")
        actions = session.scalars(select(ChangeRecord.action)).all()
        assert "token.revoke" in actions


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_huiqi_tokens_list_and_revoke(county: HuiqiRunner) -> None:
    county(
        "users", "add", "liu", "--role", "clerk", "--unit", "101", env={"HUIQI_PASSWORD": "x" * 8}
    )
    assert county("tokens", "list").stdout.strip() == "没有访问令牌"
    assert county("--lang", "en", "tokens", "list").stdout.strip() == "no tokens"
    county("tokens", "create", "liu", "--name", "sync")
    listed = county("tokens", "list", "--user", "liu").stdout.splitlines()
    assert listed[0].split() == ["编号", "用户", "名称", "创建时间", "状态"]
    token_id, user, name, *_, state = listed[1].split()
    assert (user, name, state) == ("liu", "sync", "有效")
    listed = county("--lang", "en", "tokens", "list", "--user", "liu").stdout.splitlines()
    assert listed[0].split() == ["id", "user", "name", "created", "state"]
    token_id, user, name, *_, state = listed[1].split()
    assert (user, name, state) == ("liu", "sync", "active")
    assert (
        county("--lang", "en", "tokens", "revoke", token_id).stdout.strip()
        == f"token {token_id} sync of liu: revoked"
    )
    county("tokens", "create", "liu")
    unnamed = county("tokens", "list").stdout.splitlines()[2].split()[0]
    assert county("tokens", "revoke", unnamed).stdout == f"liu 的令牌 {unnamed}：已吊销\n"
    assert "已吊销（" in county("tokens", "list").stdout.splitlines()[1]
    assert "revoked" in county("--lang", "en", "tokens", "list").stdout.splitlines()[1]
    again = county("tokens", "revoke", token_id, check=False)
    assert (again.returncode, again.stderr) == (
        1,
        f"tokens revoke，id：令牌{token_id}已经撤销\n",
    )
    county("tokens", "create", "liu", "--name", "late")
    county("users", "disable", "liu")
    assert county("tokens", "list").stdout.splitlines()[3].split()[-1] == "用户已停用"
    english = county("--lang", "en", "tokens", "list").stdout.splitlines()[3]
    assert english.endswith("user disabled")
