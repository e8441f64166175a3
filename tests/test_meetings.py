"""scheduler.calendar.meetings: planning, updating, cancelling and holding meetings on a real
database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from scheduler.calendar import meetings
from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import reports
from scheduler.store.database import transaction
from scheduler.store.models import Event
from scheduler.store.models_calendar import Meeting, as_utc
from tests.calendarfacts import NOW, SHANGHAI, plan
from tests.countyfacts import load_county


@pytest.fixture
def county_db(engine: Engine, book: RuleBook) -> Engine:
    load_county(engine, book)
    return engine


def hearing_status(engine: Engine, book: RuleBook, as_of: date) -> str:
    selection = reports.Selection(as_of, date(2021, 3, 1), date(2021, 4, 30), "101", False,
                                  "township-hearing")  # fmt: skip
    with transaction(engine) as session:
        [row] = reports.status_rows(session, book, selection)
    return row.obligation.status.value


def test_attendees_default_to_the_roles_the_meetings_rules_name_at_the_unit(
    county_db: Engine, book: RuleBook
) -> None:
    change = plan(county_db, book)
    invited = [(a.email, a.name, a.role) for a in change.meeting.attendees]
    assert invited == [
        ("chen@example.org", "陈书记", "party_secretary"),
        ("liu@example.org", "刘主席", "fulian_chair"),
    ]
    [notice] = change.notices
    assert (notice.method, notice.sequence) == ("REQUEST", 0)
    assert [r.email for r in notice.recipients] == ["chen@example.org", "liu@example.org"]


def test_a_meeting_keeps_its_local_time_and_a_stable_uid(county_db: Engine, book: RuleBook) -> None:
    change = plan(county_db, book)
    with transaction(county_db) as session:
        meeting = session.get_one(Meeting, change.meeting.id)
        assert as_utc(meeting.starts_at) == datetime(2021, 3, 12, 1, 30, tzinfo=UTC)
        assert meeting.uid.startswith("meeting-") and meeting.uid.endswith("@huiqi")
        uid = meeting.uid
    later = meetings.read_fields({"title": "改期"}, SHANGHAI, "meetings update")
    with transaction(county_db) as session:
        updated = meetings.update(session, book, change.meeting.id, later, "刘主席", NOW)
        assert updated.meeting.uid == uid


def test_named_roles_and_addresses_replace_the_default(county_db: Engine, book: RuleBook) -> None:
    change = plan(county_db, book, attendees="fulian_chair, guest@example.org, sun@example.org")
    assert [(a.email, a.name) for a in change.meeting.attendees] == [
        ("liu@example.org", "刘主席"),
        ("guest@example.org", "guest"),
        ("sun@example.org", "孙主席"),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"unit": "999"}, "meetings plan: --unit: unknown unit '999'"),
        ({"kinds": "hearing;party"}, "meetings plan: --kinds: unknown event kind 'party'"),
        ({"start": "2021-03-12"}, "meetings plan: --start: bad date and time '2021-03-12'"),
        ({"end": "09:00"}, "meetings plan: --end: the end 2021-03-12 09:00 is not after"),
        ({"attendees": "mayor"}, "meetings plan: --attendees: unknown role 'mayor'"),
        ({"attendees": "clerk"}, "meetings plan: --attendees: nobody holds clerk at 101 on"),
        ({"attendees": "not-an-address@x"}, "meetings plan: --attendees: bad e-mail address"),
        ({"title": None}, "meetings plan: --title: is required"),
    ],
)
def test_bad_input_is_refused_naming_the_option_and_nothing_is_written(
    county_db: Engine, book: RuleBook, options: dict[str, str | None], message: str
) -> None:
    with pytest.raises(InputError) as refused:
        plan(county_db, book, **options)
    assert str(refused.value).startswith(message)
    with transaction(county_db) as session:
        assert session.scalars(select(Meeting)).all() == []


def test_an_update_raises_the_sequence_and_cancels_removed_attendees(
    county_db: Engine, book: RuleBook
) -> None:
    meeting_id = plan(county_db, book).meeting.id
    fields = meetings.read_fields(
        {"start": "2021-03-13 14:00", "attendees": "party_secretary"}, SHANGHAI, "meetings update"
    )
    with transaction(county_db) as session:
        change = meetings.update(session, book, meeting_id, fields, "刘主席", NOW)
        assert as_utc(change.meeting.ends_at) - as_utc(change.meeting.starts_at) == timedelta(
            hours=1, minutes=30
        )
    request, cancel = change.notices
    assert (request.method, request.sequence) == ("REQUEST", 1)
    assert [r.email for r in request.recipients] == ["chen@example.org"]
    assert (cancel.method, cancel.sequence) == ("CANCEL", 1)
    assert [r.email for r in cancel.recipients] == ["liu@example.org"]


def test_an_update_that_changes_nothing_keeps_the_sequence(
    county_db: Engine, book: RuleBook
) -> None:
    meeting_id = plan(county_db, book).meeting.id
    same = meetings.read_fields({"title": "党委会听取妇联工作汇报"}, SHANGHAI, "meetings update")
    with transaction(county_db) as session:
        change = meetings.update(session, book, meeting_id, same, "刘主席", NOW)
    assert change.unchanged and change.notices == () and change.meeting.sequence == 0


def test_cancelling_sends_cancel_with_a_higher_sequence_and_blocks_later_changes(
    county_db: Engine, book: RuleBook
) -> None:
    meeting_id = plan(county_db, book).meeting.id
    with transaction(county_db) as session:
        change = meetings.cancel(session, meeting_id, "时间冲突", "刘主席", NOW)
    [notice] = change.notices
    assert (notice.method, notice.sequence, len(notice.recipients)) == ("CANCEL", 1, 2)
    with pytest.raises(InputError, match="is cancelled"), transaction(county_db) as session:
        meetings.cancel(session, meeting_id, "again", "刘主席", NOW)
    later = NOW + timedelta(days=30)
    with pytest.raises(InputError, match="was cancelled"), transaction(county_db) as session:
        meetings.held(session, book, meeting_id, (), "刘主席", later)


def test_a_meeting_in_the_past_sends_nothing(county_db: Engine, book: RuleBook) -> None:
    backfilled = plan(county_db, book, start="2021-02-20 09:30")
    assert backfilled.notices == ()
    with transaction(county_db) as session:
        cancelled = meetings.cancel(session, backfilled.meeting.id, "补录错误", "刘主席", NOW)
        assert cancelled.notices == ()


def test_a_meeting_marked_held_becomes_evidence_and_meets_the_obligation(
    county_db: Engine, book: RuleBook
) -> None:
    meeting_id = plan(county_db, book).meeting.id
    day_after = datetime(2021, 3, 13, 9, 0, tzinfo=SHANGHAI)
    assert hearing_status(county_db, book, day_after.date()) == "open"
    with transaction(county_db) as session:
        change = meetings.held(session, book, meeting_id, ["party_secretary"], "刘主席", day_after)
        event = session.get_one(Event, change.meeting.event_id)
        assert (event.date, event.time, event.ref) == (date(2021, 3, 12), "09:30", "meeting-1")
        assert sorted(kind.kind for kind in event.kinds) == ["hearing", "study"]
        assert [a.role for a in event.attendance] == ["party_secretary"]
    assert hearing_status(county_db, book, day_after.date()) == "met"


def test_marking_it_held_again_replaces_the_event_and_keeps_the_history(
    county_db: Engine, book: RuleBook
) -> None:
    meeting_id = plan(county_db, book).meeting.id
    day_after = datetime(2021, 3, 13, 9, 0, tzinfo=SHANGHAI)
    with transaction(county_db) as session:
        first = meetings.held(session, book, meeting_id, [], "刘主席", day_after).meeting.event_id
    with transaction(county_db) as session:
        change = meetings.held(session, book, meeting_id, ["fulian_chair"], "刘主席", day_after)
        assert change.meeting.event_id != first
        assert session.get_one(Event, first).superseded_by == change.meeting.event_id


def test_a_meeting_cannot_be_held_before_its_day_or_by_an_unknown_role(
    county_db: Engine, book: RuleBook
) -> None:
    meeting_id = plan(county_db, book).meeting.id
    with pytest.raises(InputError, match="has not taken place yet"), transaction(county_db) as s:
        meetings.held(s, book, meeting_id, [], "刘主席", NOW)
    later = NOW + timedelta(days=20)
    with (
        pytest.raises(InputError, match="--attended: unknown role 'mayor'"),
        transaction(county_db) as session,
    ):
        meetings.held(session, book, meeting_id, ["mayor"], "刘主席", later)


def test_pending_resends_only_to_attendees_who_missed_the_current_sequence(
    county_db: Engine, book: RuleBook
) -> None:
    meeting_id = plan(county_db, book).meeting.id
    with transaction(county_db) as session:
        meeting = session.get_one(Meeting, meeting_id)
        meeting.attendees[0].sent_sequence = 0
    with transaction(county_db) as session:
        [notice] = meetings.pending(session, meeting_id, NOW).notices
    assert [r.email for r in notice.recipients] == ["liu@example.org"]
