"""What the unit's clerks are told besides obligations: open 整改 items before their due date
(pure stages, moved to workdays) and events returned with a comment; then the sweep and the
dispatcher on real databases, mailing a real SMTP server (aiosmtpd), cancelling a notice whose
item was answered before it went out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from scheduler.core.clerk_notices import (
    RECTIFY,
    RETURNED,
    OpenItem,
    ReturnedEvent,
    item_stages,
    plan_notices,
)
from scheduler.core.reminders import Holder
from scheduler.core.rules import RuleBook
from scheduler.core.workdays import Workdays
from scheduler.store import rectifications, registry, reviews
from scheduler.store.database import transaction
from scheduler.store.models import Event
from scheduler.store.models_reminders import CANCELLED, SENT
from tests.conftest import EVENT_HEADER, PEOPLE_HEADER, HuiqiRunner
from tests.countyfacts import table
from tests.mailsink import MailSink
from tests.remindworld import (
    DAY,
    SHANGHAI,
    load,
    rows,
    run_dispatch,
    run_sweep,
    settings_for,
    url_of,
)

OFFICIAL = Workdays()
FRIDAY = date(2026, 10, 16)
HOLDERS = [Holder(1, 101, "fulian_chair"), Holder(2, 101, "party_secretary"),
           Holder(3, 102, "fulian_chair", valid_to=date(2026, 1, 1))]  # fmt: skip
CHAIR = {101: ("fulian_chair",), 102: ("fulian_chair",)}


# ----------------------------------------------------------------------------------------------
# Pure


def test_an_items_stages_fall_before_its_due_date_on_workdays() -> None:
    # due Thursday 2026-10-08, the day after National Day: 7 days before is 10-01 (a holiday),
    # moved back to Wednesday 09-30; 1 day before is 10-07 (a holiday) → 09-30 too.
    assert item_stages(date(2026, 10, 8), [7, 1, 0], OFFICIAL) == [
        ("7 days before", date(2026, 9, 30)),
        ("1 day before", date(2026, 9, 30)),
        ("on due", date(2026, 10, 8)),
    ]


def test_an_open_item_gets_its_newest_stage_once_and_nothing_after_its_due_date() -> None:
    item = OpenItem(5, 101, date(2026, 10, 23))
    (notice,) = plan_notices([item], [], CHAIR, HOLDERS, FRIDAY, OFFICIAL, [7, 1])
    assert (notice.kind, notice.label, notice.stage, notice.recipient, notice.due) == (
        RECTIFY, "#5", "7 days before", "person:1", date(2026, 10, 23),
    )  # fmt: skip
    caught_up = plan_notices([item], [], CHAIR, HOLDERS, date(2026, 10, 19), OFFICIAL, [7, 1], 7)
    assert [n.stage for n in caught_up] == ["7 days before"]
    assert plan_notices([item], [], CHAIR, HOLDERS, date(2026, 10, 19), OFFICIAL, [7, 1]) == []
    after = plan_notices([item], [], CHAIR, HOLDERS, date(2026, 10, 24), OFFICIAL, [7, 1], 7)
    assert after == []


def test_a_returned_event_reaches_the_units_clerks_within_the_catch_up_days() -> None:
    event = ReturnedEvent(9, 101, date(2026, 10, 15), date(2026, 9, 20))
    both = {101: ("fulian_chair", "party_secretary")}
    found = plan_notices([], [event], both, HOLDERS, FRIDAY, OFFICIAL, [7], 3)
    assert [(n.kind, n.label, n.recipient) for n in found] == [
        (RETURNED, "#9", "person:1"), (RETURNED, "#9", "person:2"),
    ]  # fmt: skip
    assert plan_notices([], [event], both, HOLDERS, FRIDAY, OFFICIAL, [7], 0) == []
    gone = ReturnedEvent(9, 102, date(2026, 10, 16), date(2026, 9, 20))  # 102's chair left
    assert plan_notices([], [gone], CHAIR, HOLDERS, FRIDAY, OFFICIAL, [7], 3) == []


# ----------------------------------------------------------------------------------------------
# Sweep and dispatch, real SMTP


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as server:
        yield server


@pytest.fixture
def county(engine: Engine, book: RuleBook) -> Engine:
    """The county; a 整改 item at 101 due 2026-10-23, and 101's meeting of 2026-09-20 returned
    by the county on 2026-10-15 with a comment."""
    load(engine, book)
    before = datetime(2026, 10, 15, 16, 0, tzinfo=SHANGHAI)
    with transaction(engine) as session:
        opening = rectifications.Opening("补齐九月会议签到表", date(2026, 10, 23), "101")
        rectifications.open_item(session, book, opening, "县妇联", before)
        held = [("101", "hearing", "2026-09-20", "", "九月听取汇报", "", "", "s1")]
        events = table("events.csv", EVENT_HEADER, held)
        registry.import_events(session, book, events, "刘主席", before)
        event_id = session.scalars(select(Event.id)).one()
        reviews.decide(session, event_id, False, "缺会议记录，请补传", "县妇联", before)
    return engine


def mails(sink: MailSink) -> dict[str, tuple[str, str]]:
    found = {}
    for envelope in sink.envelopes:
        message = envelope.message
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found[envelope.rcpt_tos[0]] = (str(message["Subject"]), text)
    return found


def test_the_clerk_gets_the_item_and_the_returning_comment_in_her_digest(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port, clerk_roles=["fulian_chair"])
    result = run_sweep(county, book, settings)
    assert sorted((n.kind, n.stage) for n in result.notices) == [
        (RECTIFY, "7 days before"), (RETURNED, "returned"),
    ]  # fmt: skip
    assert run_sweep(county, book, settings, DAY + timedelta(hours=2)).written == 0
    assert run_dispatch(county, book, settings).sent == 3
    by = mails(sink)
    subject, text = by["liu@example.org"]
    assert (
        subject == "【会期提醒】东山镇：1 项义务，最近截止 2026年10月31日，1 项整改事项，1 项被退回"
    )
    for expected in ("整改事项 1：补齐九月会议签到表", "截止日期：2026年10月23日，还剩 7 天",
                     "2026-09-20 九月听取汇报", "退回意见：缺会议记录，请补传"):  # fmt: skip
        assert expected in text, text
    for other in ("chen@example.org", "zhou@example.org"):  # not 101's clerk; another township
        assert "整改" not in by[other][1] and "退回" not in by[other][1]


def test_without_clerk_roles_the_roles_the_units_rules_remind_are_told_in_english(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port, language="en")
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings)
    by = mails(sink)
    for clerk in ("liu@example.org", "chen@example.org"):
        subject, text = by[clerk]
        assert subject.endswith("1 obligation, nearest due 31 Oct 2026, 1 整改 item, 1 returned")
        assert "整改 item 1: 补齐九月会议签到表" in text and "Comment: 缺会议记录，请补传" in text


def test_an_item_answered_and_an_event_accepted_before_the_mail_goes_are_not_sent(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port, clerk_roles=["fulian_chair"])
    run_sweep(county, book, settings)
    with transaction(county) as session:
        rectifications.answer(session, 1, "已补齐", "刘主席", DAY)
        event_id = session.scalars(select(Event.id)).one()
        reviews.decide(session, event_id, True, "", "县妇联", DAY)
    run_dispatch(county, book, settings)
    subject, text = mails(sink)["liu@example.org"]
    assert subject == "【会期提醒】东山镇：1 项义务，最近截止 2026年10月31日"
    assert "整改" not in text and "退回" not in text
    states = {(r.rule_id, r.status) for r in rows(county)}
    assert {(RECTIFY, CANCELLED), (RETURNED, CANCELLED)} <= states
    assert ("township-hearing", SENT) in states


def test_an_item_alone_makes_a_digest_of_its_own(
    engine: Engine, book: RuleBook, sink: MailSink
) -> None:
    load(engine, book)
    with transaction(engine) as session:
        opening = rectifications.Opening("完善台账", date(2026, 11, 20), "10101")
        rectifications.open_item(session, book, opening, "东山镇", DAY)
    settings = settings_for(url_of(engine), sink.port, clerk_roles=["fulian_chair"])
    later = datetime(2026, 11, 19, 9, 0, tzinfo=SHANGHAI)  # Thursday, 1 day before
    with transaction(engine) as session:
        wang = [("王主任", "wang@example.org", "", "10101", "fulian_chair", "2020-01-01", "")]
        registry.import_people(session, book, table("p.csv", PEOPLE_HEADER, wang), "县妇联", DAY)
    run_sweep(engine, book, settings, later)
    run_dispatch(engine, book, settings, later)
    subject, text = mails(sink)["wang@example.org"]
    assert subject == "【会期提醒】东山村：1 项整改事项"
    assert "还剩 1 天" in text and "完善台账" in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_dry_run_lists_the_notices_with_the_reminders(county: Engine, huiqi: HuiqiRunner) -> None:
    result = huiqi("remind", "--as-of", "2026-10-16", "--dry-run")
    lines = result.stdout.splitlines()
    assert lines[0] == "2026年10月16日：将写入 8 条提醒（演练，未写入）"  # 4 reminders, 4 notices
    items = [line for line in lines if "@rectify" in line]
    assert len(items) == 2 and all("#1" in line and "截止前7天" in line for line in items)
    assert any("刘主席" in line for line in items) and any("陈书记" in line for line in items)
    assert sum("@returned" in line for line in lines) == 2  # 101's secretary and chair
