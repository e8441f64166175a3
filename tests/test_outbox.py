"""The sweep and the dispatcher on real databases, mailing a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler.core.rules import RuleBook
from scheduler.reminders.dispatch import claim, deliver
from scheduler.store.database import transaction
from scheduler.transports.delivery import make_transports
from tests.mailsink import MailSink, free_port
from tests.remindworld import (
    DAY,
    add_people,
    load,
    rename_unit,
    rows,
    run_dispatch,
    run_sweep,
    settings_for,
    url_of,
)


@pytest.fixture
def county(engine: Engine, book: RuleBook) -> Engine:
    load(engine, book)
    return engine


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as server:
        yield server


def keys(engine: Engine) -> list[tuple[str, str, str]]:
    return sorted((r.rule_id, r.period_label, r.recipient) for r in rows(engine))


def test_a_sweep_writes_each_reminder_once_however_often_it_runs(
    county: Engine, book: RuleBook
) -> None:
    settings = settings_for(url_of(county))
    first = run_sweep(county, book, settings)
    assert first.written == 6
    assert {(r.stage, r.day.isoformat()) for r in first.reminders} == {
        ("14 days before", "2026-10-16")
    }
    again = run_sweep(county, book, settings, DAY + timedelta(hours=3))
    next_day = run_sweep(county, book, settings, DAY + timedelta(days=1))  # caught up: known
    assert (again.written, next_day.written) == (0, 0)
    assert len(rows(county)) == 6


def test_a_dry_run_lists_what_a_sweep_would_write_and_writes_nothing(
    county: Engine, book: RuleBook
) -> None:
    result = run_sweep(county, book, settings_for(url_of(county)), dry_run=True)
    assert len(result.reminders) == 6
    assert result.written == 0
    assert rows(county) == []


def test_a_recipient_gets_one_digest_listing_all_their_obligations(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, book, settings)
    outcome = run_dispatch(county, book, settings)
    assert (outcome.sent, outcome.failed, outcome.retrying) == (3, 0, 0)
    assert sink.sessions == 1
    by_recipient = {e.rcpt_tos[0]: e.message for e in sink.envelopes}
    assert sorted(by_recipient) == ["chen@example.org", "liu@example.org", "zhou@example.org"]
    chen = by_recipient["chen@example.org"]
    assert chen["Subject"] == "【会期提醒】东山镇：2 项义务，最近截止 2026年10月31日"
    text = chen.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for expected in (
        "陈书记，您好",
        "东山镇（101） · 乡镇党委听取妇联工作汇报",
        "依据：乡镇党委每两月至少听取1次妇联工作汇报",
        "东山镇（101） · 乡镇党委调研妇联工作进展",
        "期间：2026-B5（2026年9月1日至2026年10月31日）",
        "截止日期：2026年10月31日，还剩 15 天",
        "要求：1；已记录：0",
        "http://127.0.0.1:8000/units/101",
    ):
        assert expected in text
    ids = {r.message_id for r in rows(county) if r.recipient.startswith("person:")}
    assert ids == {m["Message-ID"] for m in by_recipient.values()}


def test_dispatching_or_sweeping_again_sends_nothing_more(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings)
    run_sweep(county, book, settings, DAY + timedelta(hours=1))
    again = run_dispatch(county, book, settings, DAY + timedelta(hours=1))
    assert again.sent == 0
    assert len(sink.envelopes) == 3
    assert {r.status for r in rows(county)} == {"sent"}


def test_the_digest_speaks_english_when_configured(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port, language="en")
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings)
    zhou = next(e.message for e in sink.envelopes if e.rcpt_tos == ["zhou@example.org"])
    assert zhou["Subject"] == "[huiqi] 西河乡: 2 obligations, nearest due 31 Oct 2026"
    text = zhou.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Township committee hears the federation report" in text
    assert "Due: 31 Oct 2026, 15 days left" in text
    html = zhou.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert '<a href="http://127.0.0.1:8000/units/102">西河乡</a>' in html


def test_the_html_digest_escapes_a_unit_name_with_a_script(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    rename_unit(county, "101", "<script>alert(1)</script>镇")
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings)
    chen = next(e.message for e in sink.envelopes if e.rcpt_tos == ["chen@example.org"])
    html = chen.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;镇" in html
    assert "<script>" not in html
    text = chen.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>alert(1)</script>镇（101）" in text  # plain text is not HTML


def test_a_recipient_without_a_mail_address_is_recorded_undeliverable(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    add_people(county, book, ("吴书记", "", "", "102", "party_secretary", "2020-01-01", ""))
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, book, settings)
    outcome = run_dispatch(county, book, settings)
    assert (outcome.sent, outcome.undeliverable) == (3, 1)
    lost = [r for r in rows(county) if r.status == "undeliverable"]
    assert len(lost) == 2
    assert {r.last_error for r in lost} == {"no mail address"}


def test_mail_sent_while_the_server_is_down_arrives_once_it_is_up(
    county: Engine, book: RuleBook
) -> None:
    sink = MailSink(port=free_port())
    settings = settings_for(url_of(county), sink.port, retry_seconds=60)
    run_sweep(county, book, settings)
    down = run_dispatch(county, book, settings)
    assert (down.sent, down.retrying) == (0, 3)
    assert {(r.status, r.attempts) for r in rows(county)} == {("pending", 1)}
    assert all("Connection refused" in (r.last_error or "") for r in rows(county))
    early = run_dispatch(county, book, settings, DAY + timedelta(seconds=30))
    assert early.sent + early.retrying == 0  # the backoff has not run out yet
    with sink:
        up = run_dispatch(county, book, settings, DAY + timedelta(seconds=61))
    assert up.sent == 3
    assert {(r.status, r.attempts) for r in rows(county)} == {("sent", 2)}
    assert len(sink.envelopes) == 3


def test_a_digest_is_failed_with_its_reason_after_the_last_attempt(
    county: Engine, book: RuleBook
) -> None:
    settings = settings_for(url_of(county), free_port(), retry_seconds=10, max_attempts=3)
    run_sweep(county, book, settings)
    for seconds in (0, 10, 30):  # retries after 10 s, then 20 s
        run_dispatch(county, book, settings, DAY + timedelta(seconds=seconds))
    assert {(r.status, r.attempts) for r in rows(county)} == {("failed", 3)}
    assert all("Connection refused" in (r.last_error or "") for r in rows(county))
    assert run_dispatch(county, book, settings, DAY + timedelta(days=1)).failed == 0


def test_a_refused_recipient_fails_at_once_and_the_others_are_sent(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    sink.refuse = {"chen@example.org"}
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, book, settings)
    outcome = run_dispatch(county, book, settings)
    assert (outcome.sent, outcome.failed) == (2, 1)
    failed = [r for r in rows(county) if r.status == "failed"]
    assert len(failed) == 2
    assert all("chen@example.org: 550" in (r.last_error or "") for r in failed)


def test_a_crash_between_acceptance_and_commit_repeats_the_mail_once_with_its_id(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port, lease_seconds=300)
    run_sweep(county, book, settings)
    with transaction(county) as session:  # the dispatcher claims and sends, then dies
        claimed = claim(session, DAY, "crashed", settings)
    with transaction(county) as session:
        deliver(session, claimed, book, settings, make_transports(settings), DAY)
    assert len(sink.envelopes) == 3
    assert run_dispatch(county, book, settings, DAY + timedelta(seconds=60)).sent == 0
    later = run_dispatch(county, book, settings, DAY + timedelta(seconds=301))
    assert later.sent == 3
    ids = [m["Message-ID"] for m in sink.messages]
    assert len(ids) == 6
    assert sorted(ids[:3]) == sorted(ids[3:])
    assert {r.status for r in rows(county)} == {"sent"}


def test_two_dispatchers_never_claim_the_same_rows(
    county: Engine, book: RuleBook, database_url: str
) -> None:
    settings = settings_for(url_of(county))
    run_sweep(county, book, settings)
    if county.dialect.name == "postgresql":
        with Session(county) as first, Session(county) as second:
            mine = claim(first, DAY, "first", settings)  # rows locked, not yet committed
            theirs = claim(second, DAY, "second", settings)  # SKIP LOCKED: nothing
            assert (len(mine), theirs) == (3, [])
            first.commit()
            second.commit()
    else:
        with transaction(county) as session:
            assert len(claim(session, DAY, "first", settings)) == 3
    with transaction(county) as session:  # the lease keeps a committed claim exclusive
        assert claim(session, DAY + timedelta(seconds=1), "second", settings) == []


def test_an_escalation_tells_the_parent_units_chair_what_is_overdue(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port)
    seventh = DAY.replace(month=9, day=7)  # Jul–Aug was due Monday 31 August; + 7 days
    run_sweep(county, book, settings, seventh)
    run_dispatch(county, book, settings, seventh)
    (sun,) = [e.message for e in sink.envelopes]
    assert sun["To"] == "sun@example.org"
    # plus the county's own conference, 30 days before its due date (31 August, caught up)
    assert sun["Subject"] == (
        "【会期提醒】东山镇等 3 个单位：5 项义务，最近截止 2026年8月31日（其中 4 项已逾期）"
    )
    text = sun.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.count("【上报：已逾期未完成】") == 4
    assert "西河乡（102） · 乡镇党委调研妇联工作进展" in text
    assert "截止日期：2026年8月31日，已逾期 7 天" in text
    assert "示例县（100） · 县委届内召开妇女工作会议" in text
    assert sorted(r.stage for r in rows(county)) == ["30 days before", *["escalate"] * 4]
