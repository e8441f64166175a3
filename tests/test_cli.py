"""The ``huiqi`` command end to end, through the installed entry point."""

from __future__ import annotations

import csv
import importlib
import io
import json
from pathlib import Path

import pytest
from alembic import command as alembic
from sqlalchemy import text

from scheduler.store.database import alembic_config, make_engine
from tests.conftest import EVENT_HEADER, ROOT, UNIT_HEADER, HuiqiRunner, write_csv

STATUS_FIELDS = {
    "unit",
    "unit_name",
    "rule",
    "period",
    "due",
    "status",
    "required",
    "actual",
    "evidence",
    "days_left",
}


@pytest.fixture
def recorded(county: HuiqiRunner, tmp_path: Path) -> HuiqiRunner:
    """The small county with a few events of early 2021."""
    rows = [
        (
            "101",
            "hearing;study;party_meeting",
            "2021-02-02",
            "09:30",
            "镇党委会议",
            "fulian_chair",
            "",
            "m1",
        ),
        ("101", "funding", "2021-03-01", "", "经费第一笔", "", "6000", "f1"),
        ("101", "funding", "2021-04-01", "", "经费第二笔", "", "5000", "f2"),
        ("102", "research", "2021-01-20", "", "调研", "", "", "r1"),
    ]
    county("events", "import", str(write_csv(tmp_path / "events.csv", EVENT_HEADER, rows)))
    return county


def status_json(huiqi: HuiqiRunner, *args: str) -> list[dict[str, object]]:
    out = huiqi(
        "status",
        "--as-of",
        "2021-05-10",
        "--from",
        "2021-01-01",
        "--to",
        "2021-05-10",
        "--format",
        "json",
        *args,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_status_json_has_exactly_the_contract_fields(recorded: HuiqiRunner) -> None:
    rows = status_json(recorded, "--unit", "101", "--rule", "township-funding")
    assert rows == [
        {
            "unit": "101",
            "unit_name": "东山镇",
            "rule": "township-funding",
            "period": {"label": "2021", "start": "2021-01-01", "end": "2021-12-31"},
            "due": "2021-12-31",
            "status": "met",
            "required": 10000,
            "actual": 11000,
            "evidence": rows[0]["evidence"],
            "days_left": None,
        }
    ]
    assert len(rows[0]["evidence"]) == 2  # type: ignore[arg-type]


def test_status_without_filters_covers_every_unit_and_rule(recorded: HuiqiRunner) -> None:
    rows = status_json(recorded)
    assert all(set(row) == STATUS_FIELDS for row in rows)
    assert {row["unit"] for row in rows} == {"100", "101", "102", "10101"}
    open_hearing = next(
        r
        for r in rows
        if r["unit"] == "102"
        and r["rule"] == "township-hearing"
        and r["period"]["label"] == "2021-B3"
    )  # type: ignore[index]
    assert open_hearing["status"] == "open" and open_hearing["days_left"] == 51


def test_status_csv_and_table_agree_with_json(recorded: HuiqiRunner) -> None:
    args = ("status", "--as-of", "2021-05-10", "--unit", "101", "--rule", "township-hearing")
    table = recorded(*args).stdout
    rows = list(csv.DictReader(io.StringIO(recorded(*args, "--format", "csv").stdout)))
    assert [(r["period"], r["status"]) for r in rows] == [
        ("2021-B1", "met"),
        ("2021-B2", "missed"),
        ("2021-B3", "open"),
        ("2021-B4", "upcoming"),
        ("2021-B5", "upcoming"),
        ("2021-B6", "upcoming"),
    ]
    assert "2021年2月28日" in table and "✔ 按时完成" in table and "✗ 未完成" in table


def test_status_csv_writes_a_formula_like_name_as_text_and_numbers_as_numbers(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    renamed = [("102", "=cmd|' /C calc'!A0", "township", "100", "2000-01-01", "", "")]
    county("units", "import", str(write_csv(tmp_path / "u.csv", UNIT_HEADER, renamed)))
    args = ("status", "--as-of", "2021-05-10", "--unit", "102", "--rule", "township-hearing")
    rows = list(csv.DictReader(io.StringIO(county(*args, "--format", "csv").stdout)))
    assert {row["unit_name"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert [row["days_left"] for row in rows if row["status"] == "open"] == ["51"]
    assert {row["required"] for row in rows} == {"1"}


def test_the_table_speaks_english_when_configured(recorded: HuiqiRunner) -> None:
    out = recorded(
        "status",
        "--as-of",
        "2021-05-10",
        "--unit",
        "101",
        "--rule",
        "township-hearing",
        env={"HUIQI_LANGUAGE": "en"},
    ).stdout
    assert "28 Feb 2021" in out and "✔ met" in out and "Due" in out


def test_matrix_shows_symbols_and_on_time_rates(recorded: HuiqiRunner) -> None:
    out = recorded(
        "matrix", "--year", "2021", "--as-of", "2021-05-10", "--rule", "township-hearing"
    ).stdout
    lines = out.splitlines()
    assert "乡镇党委每两月至少听取1次妇联工作汇报" in lines[0]
    assert "2021-B1" in lines[1] and "按时率" in lines[1]
    east = next(line for line in lines if line.startswith("101 "))
    assert east.split()[2:6] == ["✔", "✗", "○", "·"] and east.endswith("50%")
    assert "图例" in out


def test_events_add_void_and_waive_change_the_status(recorded: HuiqiRunner) -> None:
    added = recorded(
        "events",
        "add",
        "--unit",
        "102",
        "--kinds",
        "hearing",
        "--date",
        "2021-03-15",
        "--title",
        "听取汇报",
    ).stdout
    event_id = added.split()[1]
    assert (
        status_json(recorded, "--unit", "102", "--rule", "township-hearing")[1]["status"] == "met"
    )
    recorded("events", "void", event_id, "--reason", "录入错误")
    assert (
        status_json(recorded, "--unit", "102", "--rule", "township-hearing")[1]["status"]
        == "missed"
    )
    recorded(
        "waive",
        "--unit",
        "102",
        "--rule",
        "township-hearing",
        "--period",
        "2021-B2",
        "--reason",
        "乡镇合并",
        "--by",
        "县妇联",
    )
    assert (
        status_json(recorded, "--unit", "102", "--rule", "township-hearing")[1]["status"]
        == "exempt"
    )


def test_rules_check_summarises_the_configured_rules(huiqi: HuiqiRunner, tmp_path: Path) -> None:
    out = huiqi("rules", "check").stdout.splitlines()
    assert out[0] == "xihe-fulian：12 条规则；9 种事件类型、3 种角色、5 种单位类型"
    assert "  township-hearing             每 2 个月  乡镇党委听取妇联工作汇报" in out
    assert "每 2 个月" in "\n".join(out) and "每次活动" in "\n".join(out)
    english = huiqi("--lang", "en", "rules", "check").stdout.splitlines()
    assert english[0] == "12 rules in xihe-fulian; 9 event kinds, 3 roles, 5 unit kinds"
    assert "every 2 month(s)" in "\n".join(english) and "every event" in "\n".join(english)
    rolling = tmp_path / "rolling.yaml"
    text = (ROOT / "rules" / "xihe-fulian.yaml").read_text(encoding="utf-8")
    rolling.write_text(text.replace("every: half-year", "within: 30 days", 1), encoding="utf-8")
    assert (
        "county-standing-study        滚动期限 30 天  "
        in huiqi("rules", "check", str(rolling)).stdout
    )
    english = huiqi("--lang", "en", "rules", "check", str(rolling)).stdout
    assert "county-standing-study        within 30 days  " in english


def test_a_ruleset_file_that_cannot_be_read_is_named(huiqi: HuiqiRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = huiqi("rules", "check", str(missing), check=False)
    assert result.stderr.startswith(f"{missing} 第1行：无法读取：")
    english = huiqi("--lang", "en", "rules", "check", str(missing), check=False)
    assert english.stderr == f"{missing}:1: cannot read: No such file or directory\n"
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("ruleset: caf\xe9\n".encode("latin-1"))
    result = huiqi("rules", "check", str(latin), check=False)
    assert result.stderr == f"{latin} 第1行：无法读取：不是 UTF-8 文本\n"
    english = huiqi("--lang", "en", "rules", "check", str(latin), check=False)
    assert english.stderr == f"{latin}:1: cannot read: not UTF-8 text\n"
    none = huiqi("rules", "check", env={"HUIQI_RULES": ":"}, check=False)
    assert none.stderr == "(configuration) 第1行：没有配置规则集文件\n"
    english = huiqi("--lang", "en", "rules", "check", env={"HUIQI_RULES": ":"}, check=False)
    assert english.stderr == "(configuration):1: no ruleset files configured\n"


def test_rules_check_names_file_line_and_rule(huiqi: HuiqiRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "rules" / "xihe-fulian.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace(
            "require: {count: hearing, at_least: 1}", "require: {count: hearings, at_least: 1}"
        ),
        encoding="utf-8",
    )
    result = huiqi("rules", "check", str(bad), check=False)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "count: hearing," in t)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"{bad} 第{line}行，规则 township-hearing：没有这个事件类型“hearings”（已知："
        "branch_meeting、conference、funding、hearing、party_meeting、report、research、"
        "standing_study、study）"
    )
    result = huiqi("--lang", "en", "rules", "check", str(bad), check=False)
    assert result.stderr.strip() == (
        f"{bad}:{line}: rule township-hearing: unknown event kind 'hearings' (known: "
        "branch_meeting, conference, funding, hearing, party_meeting, report, research, "
        "standing_study, study)"
    )


def test_bad_input_is_one_line_on_stderr_and_exit_1(county: HuiqiRunner, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        EVENT_HEADER,
        [
            ("101", "hearing", "2021-01-05", "", "", "", "", "ok"),
            ("101", "funding", "2021-01-06", "", "", "", "-100", "neg"),
        ],
    )
    result = county("events", "import", str(path), check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{path} 第3行，“金额”列：金额“-100”不能为负数"]
    english = county("--lang", "en", "events", "import", str(path), check=False)
    assert english.stderr.splitlines() == [f"{path}:3: amount: negative amount '-100'"]
    assert (
        county(
            "status",
            "--as-of",
            "2021-05-10",
            "--unit",
            "101",
            "--rule",
            "township-hearing",
            "--format",
            "json",
        ).stdout.count('"met"')
        == 0
    )


def test_an_unknown_config_key_fails_naming_file_line_and_key(
    huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("language: zh\nmail:\n  hots: smtp.example.org\n", encoding="utf-8")
    result = huiqi("status", "--config", str(config), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"{config} 第3行：没有这个键“mail.hots”"
    english = huiqi("--lang", "en", "status", "--config", str(config), check=False)
    assert english.stderr.strip() == f"{config}:3: unknown key 'mail.hots'"
    config.write_text("language: en\nmail:\n  hots: smtp.example.org\n", encoding="utf-8")
    asked = huiqi("status", "--config", str(config), check=False)  # the file's language
    assert asked.stderr.strip() == f"{config}:3: unknown key 'mail.hots'"


def test_a_bad_config_value_names_the_key(huiqi: HuiqiRunner, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("timezone: Mars/Olympus\n", encoding="utf-8")
    result = huiqi("init", "--config", str(config), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"{config} 第1行，timezone：没有这个时区“Mars/Olympus”"
    english = huiqi("--lang", "en", "init", "--config", str(config), check=False)
    assert english.stderr.strip() == f"{config}:1: timezone: unknown time zone 'Mars/Olympus'"
    config.write_text("mail:\n  port: 70000\n  security: tls\n", encoding="utf-8")
    result = huiqi("status", "--config", str(config), check=False)
    assert result.stderr.strip() == f"{config} 第2行，mail.port：应不大于 65535"
    english = huiqi("--lang", "en", "status", "--config", str(config), check=False)
    assert english.stderr.strip() == (
        f"{config}:2: mail.port: Input should be less than or equal to 65535"
    )
    config.write_text("mail:\n  security: tls\n", encoding="utf-8")
    result = huiqi("status", "--config", str(config), check=False)
    assert result.stderr.strip() == (
        f"{config} 第2行，mail.security：应为以下之一：'none'、'starttls'、'ssl'"
    )
    missing = tmp_path / "nowhere.yaml"
    result = huiqi("status", "--config", str(missing), check=False)
    assert result.stderr.strip() == f"{missing}：找不到这个配置文件"
    english = huiqi("--lang", "en", "status", "--config", str(missing), check=False)
    assert english.stderr.strip() == f"{missing}: no such configuration file"
    config.write_text("mail: [\n", encoding="utf-8")
    result = huiqi("status", "--config", str(config), check=False)
    assert result.stderr.startswith(f"{config} 第2行：YAML 格式有误：")
    english = huiqi("--lang", "en", "status", "--config", str(config), check=False)
    assert english.stderr.startswith(f"{config}:2: malformed YAML: ")


def test_commands_refuse_an_uninitialised_database(huiqi: HuiqiRunner) -> None:
    result = huiqi("status", check=False)
    assert result.returncode == 1
    assert "huiqi init" in result.stderr


def test_a_bad_date_option_is_refused(county: HuiqiRunner) -> None:
    result = county("status", "--as-of", "2021-02-30", check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "错误：'--as-of' 的值无效：日期“2021-02-30”不存在"
    english = county("--lang", "en", "status", "--as-of", "2021-02-30", check=False)
    assert english.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--as-of': bad date '2021-02-30': no such day"
    )


USAGE_ERRORS = [  # the command line, its last line in Chinese, in English
    (
        ["status", "--nope"],
        "错误：没有这个选项“--nope”。 是否想用 '--to'？",
        "Error: No such option '--nope'. Did you mean '--to'?",
    ),
    (["nosuch"], "错误：没有这个命令“nosuch”。", "Error: No such command 'nosuch'."),
    (["events", "import"], "错误：缺少参数 'FILE'.", "Error: Missing argument 'FILE'."),
    (
        ["status", "--format", "xml"],
        "错误：'--format' 的值无效：“xml”不是以下之一：'table', 'json', 'csv'。",
        "Error: Invalid value for '--format': 'xml' is not one of 'table', 'json', 'csv'.",
    ),
    (
        ["restore", "/nowhere/huiqi.backup"],
        "错误：'FILE' 的值无效：“/nowhere/huiqi.backup”不存在。",
        "Error: Invalid value for 'FILE': File '/nowhere/huiqi.backup' does not exist.",
    ),
    (
        ["status", "extra"],
        "错误：多余的参数（extra）",
        "Error: Got unexpected extra argument (extra)",
    ),
    (
        ["status", "--as-of"],
        "错误：选项“--as-of”需要一个值。",
        "Error: Option '--as-of' requires an argument.",
    ),
]


@pytest.mark.parametrize(("arguments", "chinese", "english"), USAGE_ERRORS)
def test_click_s_usage_errors_are_said_in_the_configured_language(
    huiqi: HuiqiRunner, arguments: list[str], chinese: str, english: str
) -> None:
    result = huiqi(*arguments, check=False)
    assert result.returncode == 2 and result.stderr.splitlines()[-1] == chinese
    assert result.stderr.startswith("用法： huiqi") or arguments == ["status", "--as-of"]
    said = huiqi("--lang", "en", *arguments, check=False)
    assert said.returncode == 2 and said.stderr.splitlines()[-1] == english
    assert said.stderr.startswith("Usage: huiqi") or arguments == ["status", "--as-of"]


def test_a_usage_error_follows_the_configuration_s_language(
    huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("language: en\n", encoding="utf-8")
    result = huiqi("--config", str(config), "status", "--nope", check=False)
    assert result.stderr.splitlines()[-1].startswith("Error: No such option '--nope'.")
    result = huiqi("status", "--nope", env={"HUIQI_LANGUAGE": "en"}, check=False)
    assert result.stderr.splitlines()[-1].startswith("Error: No such option '--nope'.")
    result = huiqi("--lang", "fr", "status", check=False)
    assert result.stderr.splitlines()[-1] == (
        "错误：'--lang' 的值无效：“fr”不是以下之一：'zh', 'en'。"
    )


def test_every_text_of_click_said_in_chinese_is_one_click_says() -> None:
    """The catalogue's English of each ``click.*`` word is a text of click's own source: a click
    that rewords one would leave it in English, and this test says so."""
    import inspect

    from scheduler.cli import clickwords
    from scheduler.core.words import word

    sources = "".join(
        inspect.getsource(importlib.import_module(f"click.{name}")) for name in clickwords.MODULES
    )
    for key in clickwords.KEYS:
        english = word(f"click.{key}", "en")
        assert repr(english)[1:-1] in sources or english in sources, key
        assert word(f"click.{key}", "zh") != english, key


def test_every_command_has_help() -> None:
    from click.testing import CliRunner

    from scheduler.cli.records import main

    runner = CliRunner()
    for path in _command_paths(main):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "--config" in result.output or (len(path) == 1 and result.output), path


def _command_paths(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import click

    assert isinstance(group, click.Group)
    paths = []
    for name, sub in group.commands.items():
        paths.append((*prefix, name))
        if isinstance(sub, click.Group):
            paths.extend(_command_paths(sub, (*prefix, name)))
    return paths


def test_a_unit_without_the_attribute_a_rule_needs_is_warned_about(
    huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    huiqi("init")
    units = [("100", "示例县", "county", "", "2000-01-01", "", "")]
    huiqi("units", "import", str(write_csv(tmp_path / "u.csv", UNIT_HEADER, units)))
    result = huiqi(
        "status", "--as-of", "2021-05-10", "--rule", "county-funding", "--format", "json"
    )
    assert json.loads(result.stdout)[0]["required"] is None
    assert result.stderr.splitlines() == [
        "注意：单位 100 没有数值“female_population”：规则 county-funding 无法达成"
        "（请在单位文件中加上这一列）"
    ]
    english = huiqi(
        "--lang", "en", "status", "--as-of", "2021-05-10", "--rule", "county-funding"
    )  # fmt: skip
    assert english.stderr.splitlines() == [
        "warning: unit 100 has no numeric 'female_population': rule county-funding cannot be met "
        "(add the column to the units file)"
    ]


def set_revision(database_url: str, revision: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


NEWER = "the database was written by a newer huiqi (revision 0999); upgrade huiqi"
NEWER_ZH = "数据库由更新版本的 huiqi 写入（结构版本 0999）：请升级 huiqi"


def test_no_command_works_on_a_database_a_newer_huiqi_wrote(
    county: HuiqiRunner, database_url: str
) -> None:
    set_revision(database_url, "0999")
    for command in (["status"], ["run"], ["serve"], ["init"], ["tokens", "list"], ["remind"]):
        result = county(*command, check=False)
        assert (result.returncode, result.stderr, result.stdout) == (1, NEWER_ZH + "\n", ""), (
            command
        )
        result = county("--lang", "en", *command, check=False)
        assert (result.returncode, result.stderr, result.stdout) == (1, NEWER + "\n", ""), command
    doctor = county("doctor", check=False)
    assert doctor.returncode == 1 and "✗ 数据库：" in doctor.stdout and NEWER_ZH in doctor.stdout
    doctor = county("--lang", "en", "doctor", check=False)
    assert doctor.returncode == 1 and NEWER in doctor.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_older_schema_asks_for_huiqi_init_which_migrates_it(
    county: HuiqiRunner, database_url: str
) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    with engine.begin() as connection:  # the county as an older huiqi left it
        config.attributes["connection"] = connection
        alembic.downgrade(config, "0007")
    engine.dispose()
    result = county("status", check=False)
    assert (result.returncode, result.stderr) == (
        1,
        "数据库结构较旧（版本 0007）：请运行 huiqi init 迁移\n",
    )
    result = county("--lang", "en", "status", check=False)
    assert (result.returncode, result.stderr) == (
        1,
        "the database has an older schema (revision 0007): run huiqi init to migrate\n",
    )
    county("init")
    assert county("status", "--as-of", "2021-05-10").returncode == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("url", "message", "chinese"),
    [
        (
            "mysql://u@localhost/huiqi",
            "database_url: unsupported database 'mysql'",
            "database_url：不支持数据库“mysql”：请用 sqlite:///文件 或 postgresql+psycopg://…",
        ),
        ("nonsense", "database_url: not a database URL 'nonsense'", "不是数据库地址“nonsense”"),
    ],
)
def test_an_unsupported_database_url_is_one_line(
    huiqi: HuiqiRunner, url: str, message: str, chinese: str
) -> None:
    for command in ("status", "init"):
        result = huiqi(command, env={"HUIQI_DATABASE_URL": url}, check=False)
        assert result.returncode == 1 and result.stderr.count("\n") == 1
        assert chinese in result.stderr
        english = huiqi("--lang", "en", command, env={"HUIQI_DATABASE_URL": url}, check=False)
        assert message in english.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_file_that_is_no_database_is_one_line_and_stays_as_it_was(
    huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "units.csv", UNIT_HEADER, [])
    before = path.read_bytes()
    for command in ("status", "init"):
        env = {"HUIQI_DATABASE_URL": f"sqlite:///{path}"}
        result = huiqi(command, env=env, check=False)
        assert (result.returncode, result.stderr) == (1, f"{path}：不是 SQLite 数据库\n")
        result = huiqi("--lang", "en", command, env=env, check=False)
        assert (result.returncode, result.stderr) == (1, f"{path}: not a SQLite database\n")
    assert path.read_bytes() == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_server_that_does_not_answer_is_a_database_error(huiqi: HuiqiRunner) -> None:
    env = {"HUIQI_DATABASE_URL": "postgresql+psycopg://huiqi@127.0.0.1:1/huiqi"}
    result = huiqi("status", env=env, check=False)
    assert result.returncode == 1 and result.stderr.startswith("数据库错误：")
    english = huiqi("--lang", "en", "status", env=env, check=False)
    assert english.returncode == 1 and english.stderr.startswith("database error: ")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_read_commands_never_create_a_database_file(huiqi: HuiqiRunner, tmp_path: Path) -> None:
    missing = tmp_path / "new" / "huiqi.db"
    env = {"HUIQI_DATABASE_URL": f"sqlite:///{missing}"}
    for command in (["status"], ["tokens", "list"], ["outbox"], ["serve"], ["doctor"]):
        result = huiqi(*command, env=env, check=False)
        assert result.returncode == 1, command
    assert not missing.parent.exists()


def test_the_program_loads_the_module_of_each_command() -> None:
    """`scheduler.cli.entry` names, for every command of ``main``, the module that registers
    it: the ``huiqi`` program imports only that one."""
    import click

    from scheduler.cli import main
    from scheduler.cli.entry import COMMANDS

    assert isinstance(main, click.Group)
    registered = {name: command.callback.__module__ for name, command in main.commands.items()}
    assert {name: f"scheduler.cli.{module}" for name, module in COMMANDS.items()} == registered


@pytest.mark.parametrize(
    ("arguments", "word"),
    [
        (["status", "--format", "json"], "status"),
        (["--config", "status", "events", "import"], "events"),
        (["--lang=en", "-h"], None),
        (["--lang", "zh", "trail"], "trail"),
    ],
)
def test_the_command_word_follows_the_main_options(arguments: list[str], word: str) -> None:
    from scheduler.cli.entry import command_word

    assert command_word(arguments) == word


def test_the_installed_program_runs_one_command_without_the_others(tmp_path: Path) -> None:
    """``huiqi status --help`` through the entry point, in a process of its own, loads the
    status module and not the web app's."""
    import subprocess
    import sys

    probe = (
        "import sys; sys.argv = ['huiqi', 'status', '--help']\n"
        "from scheduler.cli.entry import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print('scheduler.cli.web' in sys.modules, 'scheduler.cli.status' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.splitlines()[-1] == "False True"
