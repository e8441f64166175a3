"""SQLAlchemy 2 models of the record: units, people and roles, events, waivers, the change trail.
The database is the truth.

Events are never deleted: replacing an event (same unit and ``ref``) writes a new row and marks
the old one ``superseded_by``; voiding sets ``voided_at``. Only current rows (neither) count,
and the database keeps one current event per (unit, ``key``): the ref, or for an event without
one its date, time, kinds and title (`scheduler.core.records.event_key`), through a partial
unique index on SQLite and PostgreSQL alike.
A waiver is requested (`scheduler.store.models_waivers`) and, once approved a level above the
unit, becomes a `Waiver`; an admin may also waive directly.
The change trail is append-only: rows are inserted, never updated or deleted; the ORM refuses
both, and so does the database (triggers of migration 0007), whatever sends the statement.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {dict[str, Any]: JSON}


class Unit(Base):
    """An organisational unit: county, township, village, …"""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class Person(Base):
    """Somebody who holds roles at units."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(64))


class RoleAssignment(Base):
    """A person holds a role at a unit from a date (to a date)."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("person_id", "unit_id", "role", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Event(Base):
    """A recorded fact (a meeting held, a report sent, a payment), one row per version."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    date: Mapped[date] = mapped_column(Date)
    time: Mapped[str | None] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(500), default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    ref: Mapped[str | None] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str | None] = mapped_column(String(64))  # `records.event_digest`; None: older
    source: Mapped[str] = mapped_column(String(200), default="")
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by: Mapped[str | None] = mapped_column(String(200))
    void_reason: Mapped[str | None] = mapped_column(Text)

    kinds: Mapped[list[EventKind]] = relationship(cascade="all, delete-orphan")
    attendance: Mapped[list[EventAttendance]] = relationship(cascade="all, delete-orphan")


_CURRENT_ROW = and_(Event.superseded_by.is_(None), Event.voided_at.is_(None))
Index("ix_events_date_unit", Event.date, Event.unit_id)
Index("ix_events_unit_ref", Event.unit_id, Event.ref)
Index(
    "uq_events_current_key",
    Event.unit_id,
    Event.key,
    unique=True,
    sqlite_where=_CURRENT_ROW,
    postgresql_where=_CURRENT_ROW,
)


class EventKind(Base):
    """One kind an event carries (an event can carry several)."""

    __tablename__ = "event_kinds"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class EventAttendance(Base):
    """A role whose holder attended the event."""

    __tablename__ = "event_attendance"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)


class Waiver(Base):
    """An approved exemption of one obligation."""

    __tablename__ = "waivers"
    __table_args__ = (UniqueConstraint("unit_id", "rule_id", "period_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    rule_id: Mapped[str] = mapped_column(String(100))
    period_label: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChangeRecord(Base):
    """One change anybody made: who, when, what, the state before and after (JSON)."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_unit_at", "unit_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    subject: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)


def _refuse(mapper: Any, connection: Any, target: ChangeRecord) -> None:
    raise ValueError("the change trail is append-only")


event.listen(ChangeRecord, "before_update", _refuse)
event.listen(ChangeRecord, "before_delete", _refuse)
