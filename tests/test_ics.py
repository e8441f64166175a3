"""scheduler.calendar.ics: invites and feeds from plain data, read back by two independent
parsers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from scheduler.calendar import ics
from tests.calendarfacts import GOLDEN, NOW, SHANGHAI, fold, parse_both

ORGANIZER = ics.Address("fulian@example.org", "西和县妇联")
HEARING = ics.Meeting(
    uid="meeting-42@huiqi",
    sequence=0,
    start=datetime(2021, 3, 12, 9, 30, tzinfo=SHANGHAI),
    end=datetime(2021, 3, 12, 11, 0, tzinfo=SHANGHAI),
    summary="党委会听取妇联工作汇报",
    location="镇政府三楼会议室",
    description="议程：\n1. 妇联工作汇报\n2. 研究下季度工作，" + "听取汇报" * 20,
    organizer=ORGANIZER,
    attendees=(
        ics.Attendee("chen@example.org", "陈书记"),
        ics.Attendee("liu@example.org", "刘主席"),
    ),
    url="https://huiqi.example.org/units/101",
    alarm_text="会议提醒：党委会听取妇联工作汇报",
)
HEADER = ics.FeedHeader("feed-1@huiqi", "东山镇 会期", "Asia/Shanghai", ORGANIZER)
DUE = ics.Deadline(
    "obligation-101-township-hearing-2021-B2@huiqi", date(2021, 4, 30), "【待办】", ""
)


def test_a_0930_shanghai_meeting_is_0130z_for_both_parsers() -> None:
    for events in parse_both(ics.invite(HEARING, "REQUEST", NOW)):
        assert [(e.uid, e.start_utc, e.zone) for e in events] == [
            ("meeting-42@huiqi", datetime(2021, 3, 12, 1, 30, tzinfo=UTC), "Asia/Shanghai")
        ]


def test_an_invite_asks_every_attendee_to_reply() -> None:
    calendar = Calendar.from_ical(ics.invite(HEARING, "REQUEST", NOW))
    event = calendar.events[0]
    assert calendar["METHOD"] == "REQUEST"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == ["mailto:chen@example.org", "mailto:liu@example.org"]
    for attendee in attendees:
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendees[0].params["CN"] == "陈书记"
    assert str(event["ORGANIZER"]) == "mailto:fulian@example.org"
    assert event["ORGANIZER"].params["CN"] == "西和县妇联"


def test_an_invite_has_its_timezone_a_day_ahead_alarm_and_the_stamp_in_utc() -> None:
    text = ics.invite(HEARING, "REQUEST", NOW)
    calendar = Calendar.from_ical(text)
    [zone] = calendar.timezones
    assert zone.tz_name == "Asia/Shanghai"
    assert "RDATE" not in text  # Outlook ignores RDATE lists: one STANDARD block from 2000
    [alarm] = calendar.events[0].subcomponents
    assert alarm["TRIGGER"].dt == timedelta(days=-1)
    assert "DTSTAMP:20210301T020000Z\r\n" in text


def test_a_cancellation_keeps_the_uid_and_says_cancelled_without_an_alarm() -> None:
    cancelled = ics.invite(replace(HEARING, sequence=1), "CANCEL", NOW)
    for events in parse_both(cancelled):
        assert [(e.uid, e.sequence, e.status) for e in events] == [
            ("meeting-42@huiqi", 1, "CANCELLED")
        ]
    assert "METHOD:CANCEL\r\n" in cancelled
    assert "BEGIN:VALARM" not in cancelled


def test_lines_are_crlf_and_fold_at_75_octets_between_characters() -> None:
    text = ics.invite(HEARING, "REQUEST", NOW)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    assert "研究下季度工作，" + "听取汇报" * 20 in Calendar.from_ical(text).events[0]["DESCRIPTION"]


def test_a_feed_publishes_meetings_and_all_day_deadlines_without_attendees() -> None:
    text = ics.feed(HEADER, [HEARING], [DUE], NOW)
    calendar = Calendar.from_ical(text)
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-CALNAME"] == "东山镇 会期"
    assert calendar["X-WR-TIMEZONE"] == "Asia/Shanghai"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "X-PUBLISHED-TTL:PT1H\r\n" in text
    assert "ATTENDEE" not in text
    meeting, deadline = calendar.events
    assert "ORGANIZER" in meeting and "ORGANIZER" in deadline
    assert deadline.start == date(2021, 4, 30) and deadline.end == date(2021, 5, 1)
    assert "DTSTART;VALUE=DATE:20210430\r\n" in text


def test_a_feed_reads_the_same_in_both_parsers() -> None:
    first, second = parse_both(ics.feed(HEADER, [HEARING], [DUE], NOW))
    assert first == second
    assert [e.uid for e in first] == ["meeting-42@huiqi", DUE.uid]
    assert first[1].start_utc is None  # all-day


def test_a_feed_without_timed_events_still_declares_its_timezone() -> None:
    calendar = Calendar.from_ical(ics.feed(HEADER, [], [DUE], NOW))
    assert [zone.tz_name for zone in calendar.timezones] == ["Asia/Shanghai"]


def test_items_keep_their_own_stamps_so_the_same_facts_give_the_same_bytes() -> None:
    own = replace(HEARING, modified=NOW)
    later = NOW + timedelta(hours=5)
    assert ics.feed(HEADER, [own], [], NOW) == ics.feed(HEADER, [own], [], later)


def test_a_meeting_time_needs_an_iana_zone() -> None:
    floating = replace(HEARING, start=datetime(2021, 3, 12, 9, 30))
    with pytest.raises(ValueError, match="IANA time zone"):
        ics.invite(floating, "REQUEST", NOW)


def test_the_golden_folding_helper_never_splits_a_character() -> None:
    folded = fold("DESCRIPTION:" + "议程" * 40)
    assert all(len(line.encode()) <= 75 for line in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "DESCRIPTION:" + "议程" * 40


@pytest.mark.parametrize("name", ["invite.ics", "update.ics", "cancel.ics", "feed.ics"])
def test_every_golden_calendar_reads_the_same_in_both_parsers(name: str) -> None:
    text = (GOLDEN / name).read_bytes().decode("utf-8")
    by_icalendar, by_vobject = parse_both(text)
    assert by_icalendar == by_vobject
    meeting = by_icalendar[0]
    assert meeting.zone == "Asia/Shanghai" and meeting.start_utc is not None
    assert meeting.start_utc.strftime("%H:%MZ") in ("01:30Z", "07:00Z")
    assert [zone.tz_name for zone in Calendar.from_ical(text).timezones] == ["Asia/Shanghai"]
