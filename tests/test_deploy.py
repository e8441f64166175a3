"""The deployment files of deploy/ agree with each other, with the code and with docs/deploy.md.

What can run here runs (``systemd-analyze verify``, ``caddy validate``, the shipped settings
loaded by huiqi itself); Docker cannot run on this machine, so the Dockerfile is read for the
commands and paths it must have.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from scheduler.config import load_settings
from scheduler.store import daily_backup
from tests.conftest import ROOT, huiqi_executable

DEPLOY = ROOT / "deploy"
UNITS = {"web": DEPLOY / "systemd" / "huiqi-web.service",
         "daemon": DEPLOY / "systemd" / "huiqi-daemon.service"}  # fmt: skip
CODE = Path("/opt/huiqi")
CONFIG = "/etc/huiqi/config.yaml"


def unit(path: Path) -> dict[str, list[str]]:
    """``Key=value`` lines of a unit file (keys may repeat)."""
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def on_server(path: Path) -> Path:
    """Where a file of the checkout lies on the server."""
    return CODE / path.relative_to(ROOT)


def test_the_shipped_settings_load_and_point_into_the_checkout() -> None:
    settings = load_settings(DEPLOY / "config.yaml")
    for ruleset in settings.rule_paths:
        assert ruleset.is_relative_to(CODE) and (ROOT / ruleset.relative_to(CODE)).is_file()
    templates = settings.path(settings.templates)
    assert templates.is_relative_to(CODE) and (ROOT / templates.relative_to(CODE)).is_dir()
    assert settings.web.secure_cookies and settings.web.base_url.startswith("https://")
    assert settings.log.format == "json"


@pytest.mark.parametrize("name", sorted(UNITS))
def test_each_unit_runs_huiqi_as_its_user_with_the_secrets_file(name: str) -> None:
    values = unit(UNITS[name])
    command = shlex.split(values["ExecStart"][0])
    assert command[0] == str(CODE / ".venv" / "bin" / "huiqi")
    assert command[1] == {"web": "serve", "daemon": "run"}[name]
    assert command[command.index("--config") + 1] == CONFIG
    assert values["User"] == ["huiqi"] and values["EnvironmentFile"] == ["/etc/huiqi/huiqi.env"]
    assert values["ProtectSystem"] == ["strict"] and values["NoNewPrivileges"] == ["yes"]
    settings = load_settings(DEPLOY / "config.yaml")
    writable = [Path(p) for p in values["ReadWritePaths"][0].split()]
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    for folder in (
        database.parent,
        settings.path(settings.mail.folder),
        daily_backup.folder_of(settings),
    ):
        assert folder is not None and any(folder.is_relative_to(w) for w in writable), folder


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    for path in UNITS.values():  # verify wants the executable to exist: point it at this one
        text = path.read_text(encoding="utf-8").replace(
            str(CODE / ".venv/bin/huiqi"), huiqi_executable()
        )
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", *sorted(map(str, tmp_path.iterdir()))],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_caddy_site_proxies_to_the_web_unit_and_hides_metrics() -> None:
    site = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    command = shlex.split(unit(UNITS["web"])["ExecStart"][0])
    address = f"{command[command.index('--host') + 1]}:{command[command.index('--port') + 1]}"
    assert re.search(rf"^\s*reverse_proxy {re.escape(address)}$", site, re.M)
    assert re.search(r"@metrics path /metrics", site) and "respond @metrics 404" in site
    host = load_settings(DEPLOY / "config.yaml").web.base_url.removeprefix("https://")
    assert re.search(rf"^{re.escape(host)} \{{$", site, re.M)


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_caddy_validates_the_site() -> None:
    result = subprocess.run(
        ["caddy", "validate", "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_the_dockerfile_builds_a_slim_non_root_image_with_cjk_fonts() -> None:
    lines = [
        line.strip() for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()
    ]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert re.match(r"FROM python:3\.1\d-slim", instructions[0])
    assert any("fonts-noto-cjk" in line for line in instructions)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    copied = {line.split()[1] for line in instructions if line.startswith("COPY ")}
    assert {"scheduler", "rules", "templates", "deploy/config.yaml"} <= copied
    assert f"COPY deploy/config.yaml {CONFIG}" in instructions
    command = [line for line in instructions if line.startswith("CMD [")][-1]
    assert '"huiqi", "serve", "--config", "/etc/huiqi/config.yaml"' in command


def test_the_admin_wrapper_runs_huiqi_as_the_service_user() -> None:
    script = (DEPLOY / "huiqi-admin").read_text(encoding="utf-8")
    assert subprocess.run(["sh", "-n", str(DEPLOY / "huiqi-admin")]).returncode == 0
    assert "runuser -u huiqi" in script and ". /etc/huiqi/huiqi.env" in script
    assert f'exec {CODE / ".venv/bin/huiqi"} "$@"' in script and "cd /etc/huiqi" in script


def test_the_deploy_guide_names_every_file_and_command_it_relies_on() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            assert f"`deploy/{path.relative_to(DEPLOY)}`" in guide, path
    needed = ["huiqi-admin backup", "huiqi-admin restore", "--force", "caddy validate",
              "huiqi-admin doctor --send-test", "huiqi export --format jsonl", "huiqi import-all",
              "HUIQI_METRICS_TOKEN", "systemctl enable --now huiqi-web huiqi-daemon"]  # fmt: skip
    for words in needed:
        assert words in guide, words


COMPOSE = DEPLOY / "compose.yaml"
COMPOSE_SITE = DEPLOY / "compose" / "Caddyfile"


def compose_services() -> dict[str, dict]:
    import yaml

    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]


def test_compose_runs_two_web_servers_behind_the_proxy_and_two_daemons() -> None:
    services = compose_services()
    commands = {name: service.get("command", []) for name, service in services.items()}
    webs = sorted(name for name, command in commands.items() if command[1:2] == ["serve"])
    daemons = sorted(name for name, command in commands.items() if command[1:2] == ["run"])
    assert webs == ["web1", "web2"] and daemons == ["daemon1", "daemon2"]
    for name in webs + daemons + ["init"]:
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["environment"]["HUIQI_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "--config" in service["command"] and CONFIG in service["command"]
    for name in webs + daemons:  # nothing starts before the schema is there
        assert services[name]["depends_on"] == {
            "init": {"condition": "service_completed_successfully"}
        }
    site = COMPOSE_SITE.read_text(encoding="utf-8")
    upstreams = re.search(r"^\s*reverse_proxy (.+?) \{$", site, re.M)
    assert upstreams and upstreams.group(1).split() == [f"{name}:8000" for name in webs]
    assert "health_uri /health" in site and "respond @metrics 404" in site
    assert "./compose/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]


def test_compose_takes_every_secret_from_the_environment() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert "${HUIQI_DB_PASSWORD:?" in text
    for service in compose_services().values():
        for name, value in (service.get("environment") or {}).items():
            if any(word in name for word in ("PASSWORD", "TOKEN", "SECRET")):
                assert str(value).startswith("${"), name


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_caddy_validates_the_compose_proxy() -> None:
    result = subprocess.run(
        ["caddy", "validate", "--adapter", "caddyfile", "--config", str(COMPOSE_SITE)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
