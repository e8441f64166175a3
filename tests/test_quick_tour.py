"""The README's quick tour runs as shown: on a copy of the project folder (config.yaml, rules,
templates, the README, the same .venv) holding the demo county, each line of the README's
``## Quick tour`` block, as ``make demo`` prints it, exits 0 and shows what it says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

TOUR = re.compile(r"^## Quick tour\n.*?^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def tour_lines() -> list[str]:
    found = TOUR.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "the README has no quick tour block"
    return [line for line in found.group(1).splitlines() if line.strip()]


def printed_tour() -> str:
    """What scripts/demo.sh prints as the tour (its awk over the README)."""
    script = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    awk = re.search(r"awk '(.*?)' README.md", script, re.DOTALL)
    assert awk, "demo.sh does not print the tour"
    result = subprocess.run(["awk", awk.group(1), "README.md"], cwd=ROOT, capture_output=True,
                            text=True, check=True)  # fmt: skip
    return result.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project folder a newcomer has after ``make demo``."""
    folder = tmp_path_factory.mktemp("clone")
    for name in ("config.yaml", "README.md"):
        shutil.copy(ROOT / name, folder / name)
    for name in ("rules", "templates"):
        shutil.copytree(ROOT / name, folder / name)
    (folder / ".venv").symlink_to(ROOT / ".venv")
    (folder / "var").mkdir()
    (folder / "var" / "demo.key").write_text("a-demo-key-made-by-make-demo-000000000\n")
    export = tour_lines()[0]
    for command in ("init", "demo --as-of 2026-09-15"):
        run(folder, export, f".venv/bin/huiqi {command}")
    return folder


def run(folder: Path, export: str, line: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUIQI_")}
    result = subprocess.run(["sh", "-c", f"{export}\n{line}"], cwd=folder, env=environment,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, f"{line}: {result.stderr}"
    return result


def test_make_demo_prints_the_readme_tour() -> None:
    assert printed_tour().splitlines() == tour_lines()


def test_the_tour_uses_the_demo_database_and_the_venv_command() -> None:
    export, *commands = tour_lines()
    assert export.startswith("export HUIQI_DATABASE_URL=sqlite:///var/demo.db ")
    assert commands and all(line.startswith(".venv/bin/huiqi ") for line in commands)


def test_each_tour_command_runs_as_shown_on_the_demo(project: Path) -> None:
    export, *commands = tour_lines()
    outputs = {line: run(project, export, line) for line in commands}
    for line, result in outputs.items():
        assert result.stdout.strip(), line
        assert "unknown unit" not in result.stderr and "not initialised" not in result.stderr
        assert "没有这个单位" not in result.stderr and "尚未初始化" not in result.stderr
    text = "\n".join(result.stdout for result in outputs.values())
    assert "621225105 云店镇" in text and "乡镇党委听取妇联工作汇报" in text
    assert (project / "var" / "台账.xlsx").is_file()
    assert (project / "var" / "events-template.xlsx").is_file()
    assert not (project / "var" / "huiqi.db").exists()  # the configured one was never made
    english = next(r for line, r in outputs.items() if "--lang en" in line)
    assert "Due" in english.stdout


# --- --config before the command, serve's base_url warning ------------------------------------


def test_config_is_taken_before_the_command_and_after_it(tmp_path: Path) -> None:
    for name in ("before", "after", "first"):
        (tmp_path / f"{name}.yaml").write_text(f"database_url: sqlite:///{name}.db\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUIQI_")}
    environment["HUIQI_RULES"] = str(ROOT / "rules" / "xihe-fulian.yaml")

    def huiqi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ROOT / ".venv/bin/huiqi"), *args], cwd=tmp_path,
                              env=environment, capture_output=True, text=True)  # fmt: skip

    assert huiqi("--config", "before.yaml", "init").returncode == 0
    assert huiqi("init", "--config", "after.yaml").returncode == 0
    assert huiqi("--config", "first.yaml", "init", "--config", "after.yaml").returncode == 0
    assert sorted(path.name for path in tmp_path.glob("*.db")) == ["after.db", "before.db"]
    missing = huiqi("--config", "nowhere.yaml", "status")
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "nowhere.yaml" in missing.stderr


@pytest.mark.parametrize(
    ("base_url", "host", "port", "warned"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1", 8000, False),
        ("http://127.0.0.1:8000", "127.0.0.1", 8123, True),
        ("http://localhost:8000", "0.0.0.0", 8000, False),
        ("http://127.0.0.1:8000", "10.0.0.5", 8000, True),
        ("https://fulian.example.org", "127.0.0.1", 8000, False),  # behind a proxy
        ("https://fulian.example.org:8443", "0.0.0.0", 8000, True),
    ],
)
def test_serve_warns_when_base_url_does_not_match_its_address(
    base_url: str, host: str, port: int, warned: bool
) -> None:
    from scheduler.cli.web import base_url_mismatch

    assert (base_url_mismatch(base_url, host, port) is not None) == warned


def test_the_base_url_warnings_are_said_in_both_languages() -> None:
    from scheduler.cli.web import base_url_mismatch

    elsewhere = base_url_mismatch("http://127.0.0.1:8000", "10.0.0.5", 8000)
    assert elsewhere is not None
    assert elsewhere.said("zh") == "web.base_url http://127.0.0.1:8000 指向本机，而不是 10.0.0.5"
    assert (
        str(elsewhere)
        == "web.base_url http://127.0.0.1:8000 points at this machine, not at 10.0.0.5"
    )
    bad = base_url_mismatch("http://127.0.0.1:port", "127.0.0.1", 8000)
    assert bad is not None and bad.said("zh") == "web.base_url http://127.0.0.1:port 的端口无效"
    assert str(bad) == "web.base_url http://127.0.0.1:port has no valid port"


SERVE_SAYS = {
    "zh": (
        "huiqi 正在 http://127.0.0.1:0 上服务，1 个工作进程（base_url http://127.0.0.1:8000）",
        "注意：web.base_url http://127.0.0.1:8000 的端口是 8000，服务器在 0 端口："
        "链接（订阅、邮件）会指向别处；请设置 web.base_url（HUIQI_WEB__BASE_URL）",
    ),
    "en": (
        "huiqi serving on http://127.0.0.1:0 with 1 worker(s) (base_url http://127.0.0.1:8000)",
        "warning: web.base_url http://127.0.0.1:8000 is on port 8000, the server on 0: links "
        "(feeds, mails) point elsewhere; set web.base_url (HUIQI_WEB__BASE_URL)",
    ),
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_serve_says_where_it_listens_and_warns_on_stderr(
    county: object, database_url: str, language: str
) -> None:
    environment = {**os.environ, "HUIQI_DATABASE_URL": database_url}
    environment["HUIQI_RULES"] = str(ROOT / "rules" / "xihe-fulian.yaml")
    command = [str(ROOT / ".venv/bin/huiqi"), "--lang", language, "serve", "--port", "0"]
    server = subprocess.Popen(command,
                              cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert server.stdout is not None and server.stderr is not None
        started, warning = server.stdout.readline(), server.stderr.readline()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (started.rstrip("\n"), warning.rstrip("\n")) == SERVE_SAYS[language]
