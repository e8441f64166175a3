"""One typed, frozen configuration: config.yaml plus ``HUIQI_*`` environment overrides.

Every key has a default and a description. An environment variable ``HUIQI_`` + the key path in
capitals with ``__`` between levels overrides the file (``mail.host`` is ``HUIQI_MAIL__HOST``);
``HUIQI_DATABASE_URL`` sets the database and ``HUIQI_RULES`` the rulesets (paths separated by
``:``). Relative paths are read from the directory of the config file. A bad or unknown key fails
at start-up with ``FILE:LINE: key: what is wrong``.
"""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scheduler.core.problems import Message, Refused, located, said
from scheduler.core.validation import validation_message
from scheduler.core.yamlsource import YamlSourceError, parse_yaml

DEFAULT_CONFIG = Path("config.yaml")


class ConfigError(ValueError):
    """The configuration cannot be used: one line naming the file, line and key, English by
    ``str``, in any language by `said`. ``language`` is the one the configuration asks for
    (``language`` in the file or ``HUIQI_LANGUAGE``), when it could be read."""

    def __init__(
        self,
        message: str | Message,
        filename: str = "",
        line: int | None = None,
        key: str | None = None,
        language: str | None = None,
    ) -> None:
        self.where = (filename, line, key)
        self.message = message
        self.language = language
        super().__init__(self.said("en"))

    def said(self, language: str) -> str:
        filename, line, key = self.where
        return located(language, filename, line, key, said(self.message, language))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TermSetting(_Section):
    start: date = Field(description="First day of the current term (overrides the ruleset's)")


class MailSettings(_Section):
    transport: Literal["folder", "smtp"] = Field(
        "folder", description="folder: write .eml files (the embedded default); smtp: send"
    )
    folder: str = Field("var/mail", description="Where the folder transport writes .eml files")
    sender: str = Field("县妇联提醒 <noreply@example.org>", description="From: of every mail")
    host: str = Field("127.0.0.1", description="SMTP host (smtp only)")
    port: int = Field(25, ge=1, le=65535, description="SMTP port (smtp only)")
    security: Literal["none", "starttls", "ssl"] = Field(
        "none", description="SMTP transport security"
    )
    user: str | None = Field(
        None, description="SMTP login; the password comes from HUIQI_SMTP_PASSWORD"
    )


class ChatSettings(_Section):
    unit: str = Field(description="Code of the unit whose group chat this robot posts to")
    kind: Literal["wecom", "dingtalk"] = Field(description="wecom (企业微信) or dingtalk (钉钉)")
    url_env: str = Field(description="Environment variable holding the robot's webhook URL")
    secret_env: str | None = Field(
        None, description="Environment variable holding the DingTalk signing secret (SEC…)"
    )


class ReminderSettings(_Section):
    send_at: time = Field(time(9, 0), description="Local time of the daily reminder sweep")
    catch_up_days: int = Field(
        7, ge=0, le=31, description="A stage missed by a sweep is still sent this many days late"
    )
    batch_size: int = Field(500, ge=1, description="Digests sent per SMTP connection")
    max_attempts: int = Field(6, ge=1, description="Delivery attempts before a digest is failed")
    retry_seconds: float = Field(
        60, gt=0, description="First retry delay; doubles with each further attempt"
    )
    lease_seconds: float = Field(
        600, gt=0, description="How long a dispatcher owns claimed rows before others retry them"
    )
    dispatch_seconds: float = Field(
        60, gt=0, description="How often the daemon sends pending and retried reminders"
    )
    misfire_hours: float = Field(
        18, gt=0, description="A sweep missed while the daemon was down still runs this late"
    )
    leader_poll_seconds: float = Field(
        15, gt=0, description="How often a waiting daemon tries to become the leader"
    )
    chats: list[ChatSettings] = Field([], description="Group-chat robots, one entry per unit")
    quiet_hours: bool = Field(
        True, description="Hold reminders in quiet hours and on days off (false: never hold)"
    )
    quiet_from: time = Field(
        time(20, 0), description="Local time from which no reminder is sent (quiet hours)"
    )
    quiet_to: time = Field(
        time(8, 0), description="Local time until which no reminder is sent (quiet hours)"
    )
    links: bool = Field(True, description="Put a signed record link (/r/TOKEN) in every reminder")
    rectify_days: list[Annotated[int, Field(ge=0, le=366)]] = Field(
        [7, 1],
        description="Days before an open 整改 item's due date its unit's clerks are reminded",
    )
    clerk_roles: list[str] = Field(
        [],
        description="The roles of a unit's clerks, who get its 整改 reminders and returned events "
        "(empty: the roles its rules remind, responsible and notify)",
    )
    link_days: int = Field(14, ge=1, le=366, description="How long a record link stays valid")
    link_uses_per_hour: int = Field(
        60, ge=1, description="Requests one record link may make within an hour"
    )


class WebSettings(_Section):
    base_url: str = Field("http://127.0.0.1:8000", description="Public address of the web app")
    secure_cookies: bool = Field(
        True, description="Send the login cookie only over HTTPS (browsers allow loopback HTTP)"
    )
    session_hours: int = Field(12, ge=1, le=720, description="How long a login lasts")
    cache_seconds: float = Field(
        60, ge=0, description="Pages reuse an evaluation this long unless the facts change"
    )
    login_user_failures: int = Field(
        10, ge=1, description="Failed logins for one user name within the window before 429"
    )
    login_address_failures: int = Field(
        50, ge=1, description="Failed logins from one address within the window before 429"
    )
    login_window_minutes: int = Field(
        15, ge=1, le=1440, description="How long a failed login counts against further tries"
    )


class ImportSettings(_Section):
    max_bytes: int = Field(
        5_000_000, ge=1000, description="Largest CSV or XLSX file an import reads (bytes)"
    )
    max_unpacked_bytes: int = Field(
        50_000_000, ge=1000, description="Largest total an XLSX file may unpack to (bytes)"
    )
    max_rows: int = Field(50_000, ge=1, description="Most data rows an import file may have")
    max_columns: int = Field(50, ge=1, description="Most columns an import file may have")
    max_cell_chars: int = Field(2_000, ge=10, description="Longest cell an import file may have")
    preview_minutes: int = Field(
        60, ge=1, description="How long a web import preview keeps its file for 'apply'"
    )


class CalendarSettings(_Section):
    organizer_name: str = Field("县妇联", description="ORGANIZER name (CN) of invites and feeds")
    organizer_email: str = Field(
        "fulian@example.org", description="ORGANIZER address: RSVP replies go here"
    )
    uid_domain: str = Field("huiqi", description="Right-hand side of meeting and feed UIDs")
    alarm_days: int = Field(1, ge=0, description="Invite alarm this many days before (0: none)")
    feed_past_days: int = Field(
        90, ge=0, description="Feeds keep meetings that started up to this many days ago"
    )
    feed_refresh_minutes: int = Field(
        60, ge=1, description="REFRESH-INTERVAL and X-PUBLISHED-TTL of feeds"
    )
    feed_cache_seconds: int = Field(
        60,
        ge=0,
        description="A web process reuses a rendered feed this long unless events, "
        "meetings or waivers are added (0: render every request); voided events show after it",
    )


class AssessmentSettings(_Section):
    visible_to: Literal["admins", "clerks"] = Field(
        "admins",
        description="Who reads the annual scorecard: admins only, or clerks too "
        "(their own units' scores, without ranks)",
    )


class PlannerSettings(_Section):
    margin_days: int = Field(
        10,
        ge=0,
        le=90,
        description="A planned meeting lies this many days before the due dates it serves",
    )
    per_day: int = Field(
        3, ge=1, description="Most planned meetings a day in one county subtree (the chair attends)"
    )
    start: time = Field(
        time(9, 0), description="Local start time of the meetings the planner proposes"
    )
    end: time = Field(
        time(11, 0), description="Local end time of the meetings the planner proposes"
    )


class WorkdaySettings(_Section):
    holidays: list[date] = Field([], description="Extra days off (beyond the official calendar)")
    workdays: list[date] = Field([], description="Extra working days (e.g. an adjusted weekend)")


class BackupSettings(_Section):
    folder: str | None = Field(
        "var/backups", description="Where the daemon writes the daily backup (null: no backup)"
    )
    at: time = Field(time(2, 0), description="Local time of the daily backup")
    keep_days: int = Field(
        14, ge=0, description="Daily backups older than this many days are deleted (0: keep all)"
    )


class S3Settings(_Section):
    endpoint_url: str | None = Field(
        None,
        description="Address of the S3-compatible service, e.g. http://minio:9000 "
        "(null: Amazon S3 of the region)",
    )
    bucket: str = Field("", description="The bucket that keeps the attachments (backend s3)")
    region: str = Field("us-east-1", description="The bucket's region")
    prefix: str = Field("", description="Key prefix of every attachment in the bucket, e.g. huiqi/")
    addressing: Literal["path", "virtual"] = Field(
        "path",
        description="path: ENDPOINT/BUCKET/KEY (MinIO and most S3-compatible services); "
        "virtual: BUCKET.ENDPOINT/KEY",
    )


class FileSettings(_Section):
    backend: Literal["folder", "s3"] = Field(
        "folder",
        description="Where attachments are kept: folder (content-addressed files in files.folder) "
        "or s3 (an S3-compatible bucket, files.s3; its keys come from HUIQI_S3_ACCESS_KEY_ID and "
        "HUIQI_S3_SECRET_ACCESS_KEY)",
    )
    folder: str = Field("var/files", description="The folder of attachments (backend folder)")
    s3: S3Settings = Field(S3Settings(), description="The bucket of attachments (backend s3)")
    max_bytes: int = Field(20_000_000, ge=1000, description="Largest attachment accepted (bytes)")
    max_pixels: int = Field(
        60_000_000, ge=10_000, description="Largest image accepted (width x height)"
    )
    thumbnail_pixels: int = Field(
        320, ge=32, le=2000, description="Longest side of an image's thumbnail"
    )
    max_files: int = Field(10, ge=1, le=100, description="Most files one upload form carries")

    @model_validator(mode="after")
    def _bucket(self) -> FileSettings:
        if self.backend == "s3" and not self.s3.bucket:
            raise Refused(Message("s3_needs_bucket"))
        return self


class ReviewSettings(_Section):
    mode: Literal["off", "advisory", "required"] = Field(
        "off",
        description="Review of events by the level above: off; advisory (every event counts, "
        "the review is shown); required (an event counts once accepted)",
    )


class LogSettings(_Section):
    format: Literal["text", "json"] = Field(
        "text", description="text: one readable line per record; json: one JSON object per line"
    )
    level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="The least severe level logged by the daemon and the web app"
    )


class Settings(BaseSettings):
    """The deployment's settings."""

    model_config = SettingsConfigDict(
        env_prefix="HUIQI_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database_url: str = Field(
        "sqlite:///var/huiqi.db", description="SQLAlchemy URL: SQLite file or postgresql+psycopg://"
    )
    rules: Annotated[list[str], NoDecode] = Field(
        ["rules/xihe-fulian.yaml"], description="Ruleset files to load, in order"
    )
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of local dates and times")
    language: Literal["zh", "en"] = Field("zh", description="Language of mails and exports")
    templates: str = Field("templates", description="Folder of the Jinja2 templates")
    terms: dict[str, TermSetting] = Field({}, description="Term starts, by term name")
    mail: MailSettings = Field(MailSettings(), description="Mail transport")
    reminders: ReminderSettings = Field(ReminderSettings(), description="Reminder sweep")
    web: WebSettings = Field(WebSettings(), description="Web app")
    imports: ImportSettings = Field(ImportSettings(), description="Import file limits")
    workdays: WorkdaySettings = Field(WorkdaySettings(), description="Official workday overrides")
    calendar: CalendarSettings = Field(CalendarSettings(), description="Invites and feeds")
    assessment: AssessmentSettings = Field(
        AssessmentSettings(), description="The annual assessment (考核)"
    )
    planner: PlannerSettings = Field(PlannerSettings(), description="The year planner")
    backup: BackupSettings = Field(BackupSettings(), description="The daemon's daily backup")
    log: LogSettings = Field(LogSettings(), description="Logs of the daemon and the web app")
    files: FileSettings = Field(FileSettings(), description="Attachments of events")
    review: ReviewSettings = Field(ReviewSettings(), description="Review by the level above")
    base_dir: str = Field(".", exclude=True, description="Directory relative paths are read from")

    @field_validator("rules", mode="before")
    @classmethod
    def _split_rules(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in value.split(":") if part]
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise Refused(Message("not_a_database_url", value=value, shown=repr(value))) from None
        if backend not in ("sqlite", "postgresql"):
            raise Refused(Message("unsupported_database", value=backend, shown=repr(backend)))
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Refused(Message("unknown_time_zone", value=value, shown=repr(value))) from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings

    # -- derived values -------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def path(self, value: str) -> Path:
        """A configured path, relative paths read from the config file's directory."""
        candidate = Path(value)
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate

    @property
    def rule_paths(self) -> list[Path]:
        return [self.path(value) for value in self.rules]

    @property
    def term_starts(self) -> dict[str, date]:
        return {name: term.start for name, term in self.terms.items()}

    @property
    def resolved_database_url(self) -> str:
        """The database URL with a relative SQLite path read from the config's directory."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return url.set(database=str(self.path(url.database))).render_as_string(
                hide_password=False
            )
        return self.database_url


def load_settings(path: Path | None = None) -> Settings:
    """Read config.yaml (``path``, default ./config.yaml if it exists) and the environment."""
    config_path = path or DEFAULT_CONFIG
    name = str(config_path)
    data: dict[str, Any] = {}
    index = None
    language = _language(None)
    if config_path.exists():
        text = config_path.read_text(encoding="utf-8")
        try:
            raw, index = parse_yaml(text, name)
        except YamlSourceError as error:
            raise ConfigError(error.message, name, error.line, language=language) from None
        if raw is not None and not isinstance(raw, dict):
            raise ConfigError(Message("config_not_mapping"), name, 1, language=language)
        data = raw or {}
        language = _language(data)
    elif path is not None:
        raise ConfigError(Message("no_config_file"), name, language=language)
    data["base_dir"] = str(config_path.resolve().parent)
    try:
        return Settings(**data)
    except ValidationError as error:
        raise _described(error, name, index, language) from None


def _language(data: dict[str, Any] | None) -> str | None:
    """The language the environment or the file asks for, if it is one huiqi speaks."""
    asked = os.environ.get("HUIQI_LANGUAGE") or (data or {}).get("language")
    return asked if asked in ("zh", "en") else None


def _described(
    error: ValidationError, filename: str, index: Any, language: str | None
) -> ConfigError:
    item = error.errors()[0]
    location = tuple(item["loc"])
    key = ".".join(str(part) for part in location)
    line = index.line_of(location) if index else 1
    if item["type"] == "extra_forbidden":
        return ConfigError(Message("unknown_key", value=key), filename, line, language=language)
    return ConfigError(validation_message(item), filename, line, key, language)
