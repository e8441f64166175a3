"""scheduler.calendar.feeds: tokens, what a feed holds, and when its Last-Modified moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import Engine, text

from scheduler.calendar import feeds
from scheduler.calendar.feeds import Published
from scheduler.config import Settings
from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import registry, waivers
from scheduler.store.database import transaction
from scheduler.store.models_calendar import CalendarFeed
from scheduler.web.feeds import FeedCache, not_modified
from tests.calendarfacts import NOW, SHANGHAI, calendar_settings, check_golden, parse_both, plan
from tests.countyfacts import load_county

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
APRIL = datetime(2021, 4, 20, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
def county_db(engine: Engine, book: RuleBook) -> Engine:
    load_county(engine, book)
    return engine


@pytest.fixture
def settings(county_db: Engine) -> Settings:
    return calendar_settings(county_db.url.render_as_string(hide_password=False))


def new_feed(engine: Engine, settings: Settings, scope: str, target: str) -> feeds.NewFeed:
    with transaction(engine) as session:
        return feeds.create(session, settings, scope, target, "孙主席", NOW)


def render(engine: Engine, book: RuleBook, settings: Settings, token: str, now: datetime) -> str:
    with transaction(engine) as session:
        feed = feeds.active(session, token)
        assert feed is not None
        return feeds.render(session, book, settings, feed, now)


def summaries(calendar_text: str) -> list[str]:
    return [str(event["SUMMARY"]) for event in Calendar.from_ical(calendar_text).events]


def test_a_token_has_256_bits_and_only_its_hash_is_stored(
    county_db: Engine, settings: Settings
) -> None:
    created = new_feed(county_db, settings, "unit", "101")
    assert len(created.token) == 43  # 32 random bytes, URL-safe base64
    assert created.url == f"https://huiqi.example.org/cal/{created.token}.ics"
    assert created.webcal == f"webcal://huiqi.example.org/cal/{created.token}.ics"
    with county_db.connect() as connection:
        stored = connection.execute(text("select * from calendar_feeds")).one()
    assert created.token not in [str(value) for value in stored]
    assert feeds.hash_token(created.token) in list(stored)


def test_a_revoked_or_unknown_token_finds_nothing(county_db: Engine, settings: Settings) -> None:
    created = new_feed(county_db, settings, "unit", "101")
    with transaction(county_db) as session:
        assert feeds.active(session, created.token) is not None
        assert feeds.active(session, created.token[:-1] + "x") is None
        assert feeds.active(session, "../../etc/passwd") is None
        feeds.revoke(session, created.token, "孙主席", NOW)
    with transaction(county_db) as session:
        assert feeds.active(session, created.token) is None
        with pytest.raises(InputError, match="feeds revoke: TOKEN: feed 1 is already revoked"):
            feeds.revoke(session, "1", "孙主席", NOW)


def test_bad_feed_targets_are_refused(county_db: Engine, settings: Settings) -> None:
    with pytest.raises(InputError, match="feeds create: --unit: unknown unit '999'"):
        new_feed(county_db, settings, "unit", "999")
    with pytest.raises(InputError, match=r"feeds create: --person: unknown person 'x@y\.org'"):
        new_feed(county_db, settings, "person", "x@y.org")


def test_a_unit_feed_holds_its_meetings_and_open_deadlines(
    county_db: Engine, book: RuleBook, settings: Settings
) -> None:
    plan(county_db, book)
    token = new_feed(county_db, settings, "unit", "101").token
    assert summaries(render(county_db, book, settings, token, NOW)) == [
        "东山镇 党委会听取妇联工作汇报",
        "【待办】东山镇 专题研究妇联工作 2021-Q1",
        "【待办】东山镇 听取妇联工作汇报 2021-B2",
        "【待办】东山镇 调研妇联工作进展 2021-B2",
        "【待办】东山镇 向县委报告妇联工作 2021-H1",
        "【待办】东山镇 工作经费拨付 还差10,000元 2021",
    ]


def test_a_deadline_is_all_day_on_its_due_date_and_says_what_it_needs(
    county_db: Engine, book: RuleBook, settings: Settings
) -> None:
    token = new_feed(county_db, settings, "unit", "101").token
    calendar = Calendar.from_ical(render(county_db, book, settings, token, NOW))
    uids = [str(event["UID"]) for event in calendar.events]
    hearing = calendar.events[uids.index("obligation-101-township-hearing-2021-B2@huiqi")]
    assert (hearing.start, hearing.end) == (
        datetime(2021, 4, 30).date(),
        datetime(2021, 5, 1).date(),
    )
    description = str(hearing["DESCRIPTION"])
    assert "乡镇党委每两月至少听取1次妇联工作汇报" in description
    assert "截止：2021年4月30日" in description
    assert "https://huiqi.example.org/units/101" in description


def test_an_overdue_obligation_stays_until_met_and_then_leaves_the_feed(
    county_db: Engine, book: RuleBook, settings: Settings
) -> None:
    token = new_feed(county_db, settings, "unit", "102").token
    in_may = datetime(2021, 5, 3, 9, 0, tzinfo=SHANGHAI)
    assert "【待办】西河乡 听取妇联工作汇报 2021-B3" in summaries(
        render(county_db, book, settings, token, in_may)
    )
    with transaction(county_db) as session:
        cells = {"unit": "102", "kinds": "hearing", "date": "2021-05-02", "title": "听取汇报"}
        registry.add_event(session, book, cells, "周主席", in_may)
    assert not any(
        "听取妇联工作汇报 2021-B3" in s
        for s in summaries(render(county_db, book, settings, token, in_may))
    )


def test_a_subtree_feed_covers_every_unit_below(
    county_db: Engine, book: RuleBook, settings: Settings
) -> None:
    token = new_feed(county_db, settings, "subtree", "100").token
    calendar = Calendar.from_ical(render(county_db, book, settings, token, NOW))
    assert calendar["X-WR-CALNAME"] == "示例县（含下级） 会期"
    units = {str(event["SUMMARY"]).split(" ")[0].split("】")[1] for event in calendar.events}
    assert units == {"示例县", "东山镇", "西河乡", "东山村"}


def test_a_person_feed_holds_their_units_and_the_meetings_they_are_invited_to(
    county_db: Engine, book: RuleBook, settings: Settings
) -> None:
    plan(county_db, book, unit="102", attendees="chen@example.org")  # 陈书记 works at 101
    token = new_feed(county_db, settings, "person", "chen@example.org").token
    found = summaries(render(county_db, book, settings, token, NOW))
    assert found[0] == "西河乡 党委会听取妇联工作汇报"
    assert {s.split(" ")[0] for s in found[1:]} == {"【待办】东山镇"}


def test_cancelled_meetings_leave_the_feed(
    county_db: Engine, book: RuleBook, settings: Settings
) -> None:
    from scheduler.calendar import meetings

    change = plan(county_db, book)
    with transaction(county_db) as session:
        meetings.cancel(session, change.meeting.id, "取消", "刘主席", NOW)
    token = new_feed(county_db, settings, "unit", "101").token
    assert "东山镇 党委会听取妇联工作汇报" not in summaries(
        render(county_db, book, settings, token, NOW)
    )


def test_every_feed_reads_the_same_in_both_parsers(
    county_db: Engine, book: RuleBook, settings: Settings
) -> None:
    plan(county_db, book)
    token = new_feed(county_db, settings, "subtree", "100").token
    by_icalendar, by_vobject = parse_both(render(county_db, book, settings, token, NOW))
    assert by_icalendar == by_vobject
    assert by_icalendar[0].start_utc == datetime(2021, 3, 12, 1, 30, tzinfo=UTC)


def test_the_same_facts_give_the_same_bytes_and_last_modified_moves_only_on_change(
    county_db: Engine, book: RuleBook, settings: Settings
) -> None:
    token = new_feed(county_db, settings, "unit", "101").token

    def publish(now: datetime) -> Published:
        with transaction(county_db) as session:
            feed = feeds.active(session, token)
            assert feed is not None
            return feeds.publish(session, book, settings, feed, now)

    first = publish(NOW)
    again = publish(NOW + timedelta(hours=3))
    assert (again.body, again.etag, again.modified) == (first.body, first.etag, first.modified)
    plan(county_db, book)
    changed = publish(NOW + timedelta(hours=3))
    assert changed.etag != first.etag
    assert changed.modified == (NOW + timedelta(hours=3)).astimezone(UTC)
    same_second = publish(NOW + timedelta(hours=3))
    assert same_second.modified == changed.modified


def test_the_data_version_changes_with_events_meetings_and_waivers(
    county_db: Engine, book: RuleBook
) -> None:
    def version() -> tuple[object, ...]:
        with transaction(county_db) as session:
            return feeds.data_version(session)

    before = version()
    plan(county_db, book)
    after_meeting = version()
    with transaction(county_db) as session:
        waivers.waive(session, book, "101", "township-hearing", "2021-B2", "换届", "孙主席", NOW)
    after_waiver = version()
    assert len({before, after_meeting, after_waiver}) == 3


def test_conditional_requests_follow_rfc_9110() -> None:
    modified = datetime(2021, 3, 1, 2, 0, tzinfo=UTC)
    published = Published(b"x", "abc", modified)
    assert not_modified('"abc"', None, published)
    assert not_modified('W/"abc", "zzz"', None, published)
    assert not_modified("*", None, published)
    assert not not_modified('"old"', "Mon, 01 Mar 2021 02:00:00 GMT", published)
    assert not_modified(None, "Mon, 01 Mar 2021 02:00:00 GMT", published)
    assert not_modified(None, "Tue, 02 Mar 2021 00:00:00 GMT", published)
    assert not not_modified(None, "Mon, 01 Mar 2021 01:59:59 GMT", published)
    assert not not_modified(None, "yesterday", published)
    assert not not_modified(None, None, published)


@SQLITE_ONLY
def test_golden_feed(county_db: Engine, book: RuleBook, settings: Settings) -> None:
    plan(county_db, book)
    token = new_feed(county_db, settings, "unit", "101").token
    check_golden("feed.ics", render(county_db, book, settings, token, NOW))


def test_a_feed_row_remembers_nothing_but_the_hash(county_db: Engine, settings: Settings) -> None:
    created = new_feed(county_db, settings, "unit", "101")
    with transaction(county_db) as session:
        feed = session.get_one(CalendarFeed, created.feed.id)
        assert (feed.hint, feed.scope, feed.etag) == (created.token[:4], "unit", None)


def test_a_cached_feed_is_reused_only_for_the_same_facts_and_day() -> None:
    cache = FeedCache(seconds=60)
    published = Published(b"x", "abc", datetime(2021, 3, 1, tzinfo=UTC))
    cache.put(1, (7, None), NOW.date(), published)
    assert cache.get(1, (7, None), NOW.date()) is published
    assert cache.get(1, (8, None), NOW.date()) is None
    assert cache.get(1, (7, None), NOW.date() + timedelta(days=1)) is None
    assert cache.get(2, (7, None), NOW.date()) is None
    never = FeedCache(seconds=0)
    never.put(1, (7, None), NOW.date(), published)
    assert never.get(1, (7, None), NOW.date()) is None


def test_feed_tokens_never_start_with_a_dash() -> None:
    """A token is pasted on command lines ('huiqi feeds revoke TOKEN'): '-…' would be an option."""
    from scheduler.calendar.feeds import new_token

    assert not any(new_token().startswith("-") for _ in range(2000))
