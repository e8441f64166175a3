"""``log.format``: readable text lines, or one JSON object a line with the record's fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from scheduler import logs


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield io.StringIO()
    for handler in list(root.handlers):  # leave the root logger as it was
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_json_lines_carry_the_level_the_logger_the_message_and_extra_fields(
    captured: io.StringIO,
) -> None:
    logs.configure("json", "info", captured)
    log = logging.getLogger("huiqi.web")
    log.debug("below the level: not written")
    log.warning("login refused", extra={"username": "刘主席", "client": "10.0.0.7"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("dispatch failed")
    first, second = (json.loads(line) for line in captured.getvalue().splitlines())
    fields = {"level": "warning", "logger": "huiqi.web", "message": "login refused",
              "username": "刘主席", "client": "10.0.0.7"}  # fmt: skip
    assert first == {"at": first["at"], **fields}
    assert first["at"].endswith("+00:00")
    assert second["level"] == "error" and second["message"] == "dispatch failed"
    assert second["error"].startswith("Traceback") and "ValueError: boom" in second["error"]


def test_text_lines_are_one_readable_line_per_record(captured: io.StringIO) -> None:
    logs.configure("text", "warning", captured)
    logging.getLogger("huiqi.daemon").info("not at warning")
    logging.getLogger("huiqi.daemon").warning("backup failed: disk full")
    (line,) = captured.getvalue().splitlines()
    assert line.endswith(" WARNING huiqi.daemon: backup failed: disk full")
