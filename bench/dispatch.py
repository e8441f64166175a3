#!/usr/bin/env python3
"""Benchmark: sweep and dispatch 10,000 due reminders to 2,000 recipients, next to the floor.

usage: python bench/dispatch.py [--townships 1000] [--rules 5] [--database-url URL]

Builds a county of ``--townships`` townships, each with a party secretary and a federation chair
(2,000 recipients), under a ruleset of ``--rules`` bimonthly township rules that all reach their
"14 days before" stage on Friday 2026-10-16 (10,000 reminders: 5 per recipient). Then, in the
same run, against a local aiosmtpd sink that accepts and discards:

* the sweep (evaluation + outbox rows), timed;
* the dispatch: one digest per recipient (2,000 mails), rendered from the templates, sent by
  SMTP in batches of ``reminders.batch_size`` per connection, outcomes recorded, timed;
* the floor: a raw ``smtplib`` loop sending the same 2,000 rendered messages over one
  connection.

The sink runs in its own process, as a real mail server would; dispatch and floor are each the
best of ``--repeat`` runs (the outbox is reset to pending between runs).

The target is the dispatch within 2x of the floor.
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import socket
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import Engine, func, select, update  # noqa: E402

from scheduler.config import MailSettings, ReminderSettings, Settings  # noqa: E402
from scheduler.core.records import Table  # noqa: E402
from scheduler.core.ruleparse import parse_rulebook  # noqa: E402
from scheduler.core.rules import RuleBook  # noqa: E402
from scheduler.reminders.dispatch import dispatch  # noqa: E402
from scheduler.reminders.sweep import sweep, utc  # noqa: E402
from scheduler.store import registry  # noqa: E402
from scheduler.store.database import make_engine, migrate, transaction  # noqa: E402
from scheduler.store.models_reminders import PENDING, OutboxEntry  # noqa: E402
from scheduler.transports.chats import ChatRobots  # noqa: E402
from scheduler.transports.delivery import Transports  # noqa: E402
from scheduler.transports.mail import OutgoingMail, SmtpMailer, envelope_sender, render  # noqa: E402

NOW = datetime(2026, 10, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RULESET = """\
ruleset: bench
title: {zh: 基准, en: Benchmark}
unit_kinds: [county, township]
roles:
  fulian_chair: {zh: 妇联主席, en: Federation chair}
  party_secretary: {zh: 党委书记, en: Party secretary}
event_kinds:
"""


def ruleset(count: int) -> RuleBook:
    kinds = "".join(f"  kind{n}: {{zh: 事项{n}, en: Item {n}}}\n" for n in range(count))
    rules = "".join(
        f"""  - id: rule-{n}
    title: {{zh: 乡镇党委第{n}项工作, en: Township task {n}}}
    cite: 乡镇党委每两月至少开展1次第{n}项工作
    applies_to: [township]
    every: 2 months
    require: {{count: kind{n}, at_least: 1}}
    effective: {{from: 2026-01-01}}
    responsible: [party_secretary]
    notify: [fulian_chair]
    remind: [14 days before, on due]
"""
        for n in range(count)
    )
    return parse_rulebook([("bench.yaml", RULESET + kinds + "rules:\n" + rules)])


def table(name: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> Table:
    cells = tuple(
        (number, dict(zip(columns, row, strict=True))) for number, row in enumerate(rows, 2)
    )
    return Table(name, columns, cells)


def load_county(engine: Engine, book: RuleBook, townships: int) -> None:
    units = [("100", "基准县", "county", "", "2000-01-01", "")]
    people = []
    for n in range(townships):
        code = f"1{n:05d}"
        units.append((code, f"第{n}镇", "township", "100", "2000-01-01", ""))
        for role, who in (("party_secretary", "s"), ("fulian_chair", "c")):
            people.append((f"{who}{n}", f"{who}{n}@example.org", "", code, role, "", ""))
    with transaction(engine) as session:
        unit_columns = ("code", "name", "kind", "parent", "active_from", "active_to")
        registry.import_units(session, book, table("units.csv", unit_columns, units), "bench", NOW)
        person_columns = ("name", "email", "phone", "unit", "role", "from", "to")
        people_table = table("people.csv", person_columns, people)
        registry.import_people(session, book, people_table, "bench", NOW)


class Sink:
    """Accepts every mail and counts it (in ``counter``, shared with the parent process)."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def serve(port: int, counter: Any, ready: Any, stop: Any) -> None:
    """The SMTP sink, in its own process like a real mail server."""
    controller = Controller(Sink(counter), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def floor(settings: Settings, messages: list[tuple[str, bytes]]) -> float:
    """Seconds to send ``messages`` with a raw smtplib loop over one connection."""
    sender = envelope_sender(settings.mail.sender)
    start = time.perf_counter()
    with smtplib.SMTP(settings.mail.host, settings.mail.port) as smtp:
        for to, raw in messages:
            smtp.sendmail(sender, [to], raw)
    return time.perf_counter() - start


class Recorder(SmtpMailer):
    """The SMTP mailer, keeping what it sent so that the floor sends the same messages."""

    sent: list[OutgoingMail]

    def send_batch(self, mails: Any) -> Any:
        self.sent.extend(mails)
        return super().send_batch(mails)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--townships", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=3, help="dispatch and floor: best of N")
    options = parser.parse_args()
    book = ruleset(options.rules)
    port = free_port()
    counter, ready, stop = (
        multiprocessing.Value("i", 0),
        multiprocessing.Event(),
        multiprocessing.Event(),
    )
    server = multiprocessing.Process(target=serve, args=(port, counter, ready, stop))
    server.start()
    ready.wait(30)
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{folder}/bench.db"
        settings = Settings(
            database_url=url,
            base_dir=str(ROOT),
            mail=MailSettings(transport="smtp", port=port),
            reminders=ReminderSettings(),
        )
        engine = make_engine(url)
        migrate(engine)
        load_county(engine, book, options.townships)
        run(engine, book, settings, options.repeat)
        engine.dispose()
    stop.set()
    server.join(30)
    print(f"sink:      {counter.value} mails received in all")


def run(engine: Engine, book: RuleBook, settings: Settings, repeat: int) -> None:
    start = time.perf_counter()
    with transaction(engine) as session:
        swept = sweep(session, book, settings, NOW.date(), NOW)
    sweep_seconds = time.perf_counter() - start
    with transaction(engine) as session:
        recipients = session.scalar(select(func.count(func.distinct(OutboxEntry.recipient))))
    print(f"reminders: {swept.written} for {recipients} recipients ({engine.dialect.name})")
    print(f"sweep:     {sweep_seconds:.2f} s")
    best_dispatch = best_floor = float("inf")
    for _ in range(repeat):
        mailer = Recorder(settings.mail, None)
        mailer.sent = []
        reset(engine)
        start = time.perf_counter()
        outcome = dispatch(engine, book, settings, Transports(mailer, ChatRobots()), NOW)
        best_dispatch = min(best_dispatch, time.perf_counter() - start)
        rendered = [(mail.to[0], render(mail, settings.mail.sender, NOW)) for mail in mailer.sent]
        best_floor = min(best_floor, floor(settings, rendered))
    mails = outcome.sent
    print(
        f"dispatch:  {mails} digests in {best_dispatch:.2f} s = {mails / best_dispatch:.0f} "
        f"mails/s (render, send, record; best of {repeat}; {outcome})"
    )
    print(
        f"floor:     {len(rendered)} mails in {best_floor:.2f} s = "
        f"{len(rendered) / best_floor:.0f} mails/s (raw smtplib, one connection, best of {repeat})"
    )
    print(f"ratio:     {best_dispatch / best_floor:.2f}x the floor (target: within 2x)")


def reset(engine: Engine) -> None:
    """Every outbox row pending again, as after the sweep."""
    with transaction(engine) as session:
        session.execute(
            update(OutboxEntry).values(
                status=PENDING,
                attempts=0,
                message_id=None,
                sent_at=None,
                claimed_until=None,
                claimed_by=None,
                next_attempt_at=utc(NOW),
            )
        )


if __name__ == "__main__":
    main()
