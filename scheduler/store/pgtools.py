"""PostgreSQL backups through the client tools: ``pg_dump``, ``pg_restore`` and ``psql``.

A backup is ``pg_dump --format=custom`` of the schema huiqi uses (``current_schema()``, usually
``public``), without owners or privileges, so it restores under another role. A restore drops
huiqi's tables in that schema and loads the archive in one ``psql --single-transaction`` run: it
lands whole or not at all. The connection comes from the engine's URL (the password through
``PGPASSWORD``, never on a command line). A missing tool is one line saying what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, inspect, text

from scheduler.core.problems import Message, single
from scheduler.store import schema

DUMP_MAGIC = b"PGDMP"
_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ")
_TOC_SCHEMA = re.compile(r"^\d+; \d+ \d+ (SCHEMA|COMMENT) - ")


def tool(name: str) -> str:
    """The path of a PostgreSQL client tool, or one line saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise single(Message("pg_tools_missing"), name)
    return found


def _connection(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq connection string for ``engine`` and the environment carrying its password."""
    url = engine.url
    params = {key: value for key, value in url.query.items() if isinstance(value, str)}
    parts = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    conninfo = make_conninfo(**{k: str(v) for k, v in parts.items() if v}, **params)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    return conninfo, environment


def current_schema(engine: Engine) -> str:
    with engine.connect() as connection:
        name = connection.execute(text("SELECT current_schema()")).scalar()
    if not name:
        raise single(Message("pg_no_schema"), "database")
    return str(name)


def _run(command: list[str], environment: dict[str, str], where: str) -> str:
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["failed"]
        raise single(Message("tool_failed", tool=Path(command[0]).name, reason=lines[0]), where)
    return result.stdout


def dump(engine: Engine, target: Path) -> None:
    """``pg_dump`` the schema huiqi uses into ``target`` (custom format)."""
    conninfo, environment = _connection(engine)
    command = [tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
               f"--schema={current_schema(engine)}", f"--file={target}",
               f"--dbname={conninfo}"]  # fmt: skip
    _run(command, environment, str(target))


def dump_revisions(path: Path) -> tuple[str, ...]:
    """The rows of ``alembic_version`` in a custom-format archive."""
    command = [tool("pg_restore"), "--data-only", f"--table={schema.VERSION_TABLE}",
               "--file=-", str(path)]  # fmt: skip
    script = _run(command, dict(os.environ), str(path))
    found, copying = [], False
    for line in script.splitlines():
        if line.startswith("COPY ") and schema.VERSION_TABLE in line:
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying and line.strip():
            found.append(line.strip())
    return tuple(sorted(found))


def _archive_schema(listing: str, path: Path) -> str:
    schemas = {match.group(1) for match in map(_TOC_TABLE.match, listing.splitlines()) if match}
    if len(schemas) != 1:
        raise single(Message("archive_no_schema"), str(path))
    return schemas.pop()


def restore(engine: Engine, path: Path) -> None:
    """Replace huiqi's tables in the engine's schema by the archive's, in one transaction."""
    conninfo, environment = _connection(engine)
    listing = _run([tool("pg_restore"), "--list", str(path)], environment, str(path))
    target = current_schema(engine)
    source = _archive_schema(listing, path)
    if source != target:
        other = Message("archive_other_schema", source=source, target=target)
        raise single(other, str(path))
    kept = [line for line in listing.splitlines() if not _TOC_SCHEMA.match(line)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as chosen:
        chosen.write("\n".join(kept) + "\n")
    try:
        _load(engine, path, Path(chosen.name), target, conninfo, environment)
    finally:
        os.unlink(chosen.name)
    engine.dispose()


def _drops(engine: Engine, target: str) -> str:
    ours = {table.name for table in schema.tables()} | {
        schema.VERSION_TABLE,
        schema.SCHEDULER_TABLE,
    }
    present = [name for name in inspect(engine).get_table_names() if name in ours]
    tables = "".join(f'DROP TABLE IF EXISTS "{target}"."{name}" CASCADE;\n' for name in present)
    return tables + "".join(
        f'DROP FUNCTION IF EXISTS "{target}"."{name}"() CASCADE;\n'
        for name in _trigger_functions(engine, target)
    )


def _trigger_functions(engine: Engine, target: str) -> list[str]:
    """The trigger functions of ``target`` (the trail's append-only guards): a dropped table
    leaves them behind, and the backup's script creates them again."""
    query = text(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = :schema AND p.prorettype = 'trigger'::regtype"
    )
    with engine.connect() as connection:
        return sorted(connection.execute(query, {"schema": target}).scalars())


def _load(
    engine: Engine, path: Path, chosen: Path, target: str, conninfo: str, env: dict[str, str]
) -> None:
    """Pipe BEGIN, the drops and ``pg_restore``'s script into ``psql``; COMMIT only when the
    whole script came through, so a failure or a kill at any point leaves the database as it was."""
    restore_command = [tool("pg_restore"), "--no-owner", "--no-privileges",
                       f"--use-list={chosen}", "--file=-", str(path)]  # fmt: skip
    psql_command = [tool("psql"), "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
                    f"--dbname={conninfo}", "--file=-"]  # fmt: skip
    drops = _drops(engine, target)
    engine.dispose()  # no pooled connection may hold a lock on the tables being dropped
    with tempfile.TemporaryFile() as errors:
        psql = subprocess.Popen(
            psql_command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, env=env
        )
        assert psql.stdin is not None
        try:
            psql.stdin.write(f"SET client_min_messages = warning;\nBEGIN;\n{drops}".encode())
            psql.stdin.flush()
            script = subprocess.run(restore_command, env=env, stdout=psql.stdin, stderr=errors)
            if script.returncode == 0:
                psql.stdin.write(b"COMMIT;\n")
            psql.stdin.close()
        except BrokenPipeError:  # psql stopped at an error: its message is in errors
            script = None
        code = psql.wait()
        if script is None or script.returncode != 0 or code != 0:
            errors.seek(0)
            lines = errors.read().decode("utf-8", "replace").strip().splitlines() or ["failed"]
            raise single(Message("pg_restore_failed", reason=lines[-1]), str(path))
