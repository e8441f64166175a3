"""The ``huiqi`` command, the CLI face: one module of commands per capability.

``kit`` holds what every command shares (the ``main`` group, ``--config``, one-line failures);
each other module registers its commands on ``main`` when imported, and only this package
imports them, so no command module imports another. ``from scheduler.cli import main`` gives
the group with every command; the ``huiqi`` program (`scheduler.cli.entry`) imports only the
module of the command it runs. The CLI may import every layer below it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

MODULES = (
    "assessment", "audit", "calendar", "demo", "operations", "planner", "records", "rectify",
    "reminders", "review", "status", "trail", "waivers", "web", "workdays",
)  # fmt: skip

__all__ = ["MODULES", "main"]


def __getattr__(name: str) -> Any:
    """``main``, once every command module has registered its commands on it."""
    if name != "main":
        raise AttributeError(name)
    for module in MODULES:
        import_module(f"scheduler.cli.{module}")
    from scheduler.cli.kit import main

    return main
