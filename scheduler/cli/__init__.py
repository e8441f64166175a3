"""The ``huiqi`` command, the CLI face: one module of commands per capability.

``kit`` holds what every command shares (the ``main`` group, ``--config``, one-line failures);
each other module registers its commands on ``main`` when imported, and only this file imports
them, so no command module imports another. The CLI may import every layer below it.
"""

from scheduler.cli import (  # noqa: F401
    assessment,
    audit,
    calendar,
    demo,
    operations,
    planner,
    records,
    rectify,
    reminders,
    review,
    status,
    trail,
    waivers,
    web,
    workdays,
)
from scheduler.cli.kit import main

__all__ = ["main"]
