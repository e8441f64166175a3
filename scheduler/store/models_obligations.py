"""Stored obligations: the engine's obligations kept for every as-of day, brought up to date
when their inputs change (`scheduler.store.obligations`, `scheduler.core.ledger`).

* ``obligations``: one row per (unit, rule, period) as `scheduler.core.ledger.Entry` keeps it:
  the period's dates, due and due + grace, the quantity needed and done (with every event),
  the day it became met (null: not met), ``opens_on`` (the first as-of day a rolling window
  or an attendance obligation exists on; null: always), ``hopeful_on`` (review required: the
  day it is met with the pending events too) and its waiver.
* ``obligation_events``: the allocation, which events serve which obligation, with each
  event's day and what it adds (the evidence and the quantity done on a day are those dated up
  to it).
* ``obligation_sources``: per (unit, rule) the fingerprint of the inputs its rows were
  computed from (the rule's definition, the unit, its events, waivers and review states, the
  review mode and the horizon).
* ``obligation_rules``: per rule the digest of its definition and the horizon (a rule whose
  definition changed is computed again for every unit).
* ``obligation_dirty``: units whose facts changed in a transaction that could not compute
  their obligations again (it had no rulebook); the next refresh does.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.store.models import Base


class StoredObligation(Base):
    """One obligation of a unit under a rule for one period, for every as-of day."""

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("unit_id", "rule_id", "position"),
        Index("ix_obligations_rule_start", "rule_id", "start"),
        Index("ix_obligations_unit_rule_start", "unit_id", "rule_id", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    rule_id: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # calendar | rolling | attend
    label: Mapped[str] = mapped_column(String(40))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    grace_end: Mapped[date] = mapped_column(Date)
    opens_on: Mapped[date | None] = mapped_column(Date)
    required: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    actual: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    satisfied_on: Mapped[date | None] = mapped_column(Date)
    hopeful_on: Mapped[date | None] = mapped_column(Date)
    waiver_reason: Mapped[str | None] = mapped_column(Text)
    waiver_by: Mapped[str | None] = mapped_column(String(200))


class ObligationEvent(Base):
    """One event serving one stored obligation."""

    __tablename__ = "obligation_events"

    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2))


class ObligationSource(Base):
    """What the stored obligations of one unit under one rule were computed from."""

    __tablename__ = "obligation_sources"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))


class ObligationRule(Base):
    """The definition of a rule (its digest) its stored obligations follow, and their horizon."""

    __tablename__ = "obligation_rules"

    rule_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    horizon: Mapped[date] = mapped_column(Date)


class DirtyUnit(Base):
    """A unit whose stored obligations wait to be computed again."""

    __tablename__ = "obligation_dirty"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
