"""Logging of the daemon and the web app: ``log.format`` text (one readable line a record) or
json (one JSON object a line: ``at`` in UTC, ``level``, ``logger``, ``message``, the record's
extra fields, and ``error`` with the traceback), at ``log.level``, on stderr.

`configure` sets up the root logger once per process; ``huiqi serve`` runs uvicorn without a
logging configuration of its own, so its loggers (and ``--access-log`` lines) propagate to it
and come out in the same format.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with no newline inside."""

    def format(self, record: logging.LogRecord) -> str:
        item: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        item.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            item["error"] = self.formatException(record.exc_info)
        return json.dumps(item, ensure_ascii=False, default=str)


def formatter(style: str) -> logging.Formatter:
    """``json`` or ``text``: the formatter of ``log.format``."""
    return JsonFormatter() if style == "json" else logging.Formatter(TEXT_FORMAT)


def configure(style: str, level: str, stream: TextIO | None = None) -> None:
    """Route every logger of the process to ``stream`` (stderr) as ``log.format`` says, at
    ``log.level``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(style))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.root.level))
