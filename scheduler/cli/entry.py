"""The ``huiqi`` program: the command line's first word names the one command module to
import (a process that runs ``huiqi status`` need not load the web app or the workbooks);
anything else (``--help``, an unknown word) loads them all."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module

COMMANDS = {
    "audit": "audit", "backup": "operations", "demo": "demo", "doctor": "reminders",
    "events": "records", "export": "operations", "feeds": "calendar",
    "import-all": "operations", "init": "records", "links": "reminders", "matrix": "status",
    "meetings": "calendar", "outbox": "reminders", "people": "records", "plan": "planner",
    "rectify": "rectify", "remind": "reminders", "restore": "operations", "review": "review",
    "rules": "records", "run": "reminders", "scorecard": "assessment", "serve": "web",
    "status": "status", "template": "records", "tokens": "web", "trail": "trail",
    "units": "records", "users": "web", "waive": "waivers", "waivers": "waivers",
    "workdays": "workdays",
}  # fmt: skip
_VALUED = ("--config", "--lang")  # the options of ``main`` that take a value


def command_word(arguments: Sequence[str]) -> str | None:
    """The command's name in ``arguments`` (after ``main``'s own options), if any."""
    skip = False
    for argument in arguments:
        if skip:
            skip = False
        elif argument in _VALUED:
            skip = True
        elif not argument.startswith("-"):
            return argument
    return None


def run() -> None:
    """Run ``huiqi`` with the module of its command loaded, or all of them."""
    module = COMMANDS.get(command_word(sys.argv[1:]) or "")
    if module is None:
        from scheduler.cli import main
    else:
        import_module(f"scheduler.cli.{module}")
        from scheduler.cli.kit import main
    main()
