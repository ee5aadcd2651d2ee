"""Keeping the attendance cells current.

A refresh (before every report, and from `wesaid attendance refresh`) looks for rows
stamped after the watermark, less a margin for transactions that commit late:
appointments (outcomes, cancellations, rebook requests, and new bookings that may
fulfil a rebook request), reminders (delivery receipts) and patients (demographics).
Every clinic-day they touch is recomputed whole, so an outcome recorded weeks late
updates its day at the next report. A month is built the first time a report needs it.
The arm cells of experiments (`app.attendance.arms`) are recomputed for every changed
day, built month or not, and an experiment's are built whole the first time they are
asked for.

One watermark row serves every clinic; refreshes take turns on its row lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from app.appointments.models import Appointment
from app.attendance.arms import build_experiments, rebuild_changed_arms
from app.attendance.cells import build_months, counted, rebuild_days, utc_day
from app.attendance.models import AttendanceMonth, AttendanceWatermark
from app.attendance.periods import local_days, month_of
from app.clinics.models import Clinic
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.patients.models import Patient

#: Changes stamped this long before the watermark are looked at again: a transaction
#: stamps its rows before it commits.
WATERMARK_MARGIN = timedelta(minutes=15)
_WATERMARK_ID = 1


def changed_days(since: datetime) -> set[tuple[int, date]]:
    """(clinic id, UTC day of the start) of counted appointments changed after `since`."""
    day = utc_day(Appointment.starts_at)
    by_appointment = select(Appointment.clinic_id, day).where(
        Appointment.updated_at > since, counted()
    )
    by_reminder = (
        select(Appointment.clinic_id, day)
        .join(OutboundMessage, OutboundMessage.appointment_id == Appointment.id)
        .where(
            OutboundMessage.kind == MessageKind.REMINDER,
            OutboundMessage.updated_at > since,
            counted(),
        )
    )
    by_patient = (
        select(Appointment.clinic_id, day)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Patient.updated_at > since, counted())
    )
    booked = aliased(Appointment)
    by_rebooking = (
        select(Appointment.clinic_id, day)
        .join(
            booked,
            and_(
                booked.patient_id == Appointment.patient_id,
                booked.clinic_id == Appointment.clinic_id,
                booked.id != Appointment.id,
            ),
        )
        .where(booked.updated_at > since, Appointment.rebook_requested_at.is_not(None))
    )
    rows = db.session.execute(union(by_appointment, by_reminder, by_patient, by_rebooking))
    return {(clinic_id, date.fromisoformat(str(value))) for clinic_id, value in rows}


def changed_local_days(since: datetime) -> dict[int, set[date]]:
    """The clinic-days (local) whose counts may have changed after `since`."""
    return _local(changed_days(since))


def _local(found: set[tuple[int, date]]) -> dict[int, set[date]]:
    """Changed (clinic id, UTC day)s as each clinic's local days."""
    zones = _zones(clinic_id for clinic_id, _ in found)
    days: dict[int, set[date]] = defaultdict(set)
    for clinic_id, utc in found:
        days[clinic_id] |= local_days(utc, zones[clinic_id])
    return days


def built_months(clinic_ids: Iterable[int]) -> dict[int, set[date]]:
    """The months already built for each of `clinic_ids`."""
    built: dict[int, set[date]] = defaultdict(set)
    ids = sorted(set(clinic_ids))
    if ids:
        rows = db.session.execute(
            select(AttendanceMonth.clinic_id, AttendanceMonth.month).where(
                AttendanceMonth.clinic_id.in_(ids)
            )
        )
        for clinic_id, month in rows:
            built[clinic_id].add(month)
    return built


def _lock_watermark(now: datetime) -> datetime:
    """The watermark, locked until the transaction ends; created at `now` if absent."""
    locked = (
        select(AttendanceWatermark.checked_until)
        .where(AttendanceWatermark.id == _WATERMARK_ID)
        .with_for_update()
    )
    found = db.session.scalar(locked)
    if found is None:
        dialect = db.session.get_bind().dialect.name
        insert_row = (postgresql if dialect == "postgresql" else sqlite).insert(AttendanceWatermark)
        db.session.execute(
            insert_row.values(id=_WATERMARK_ID, checked_until=now).on_conflict_do_nothing()
        )
        found = db.session.scalar(locked)
    assert found is not None
    return found


@dataclass(frozen=True)
class Refreshed:
    """What a refresh computed: months built for the first time, changed days redone."""

    months_built: int
    days_recomputed: int
    #: Clinic-days (UTC) whose arm cells were recomputed.
    arm_days: int = 0
    #: Experiments whose arm cells were built for the first time.
    experiments_built: int = 0


def refresh(
    required: Mapping[int, Iterable[date]], now: datetime, *, experiments: bool = False
) -> Refreshed:
    """Bring the cells up to date: redo changed days and build the `required` months;
    with `experiments`, also build the arm cells of experiments not built yet.

    `required` maps clinic ids to the months a report needs. Changes are looked for in
    every clinic, so that one watermark serves all. Days of months not yet built are
    left until a report needs them (their arm cells are redone all the same). Does not
    commit; the watermark row stays locked until the caller commits.
    """
    since = _lock_watermark(now) - WATERMARK_MARGIN
    found = changed_days(since)
    changed = _local(found)
    built = built_months([*changed, *required])
    zones = _zones([*changed, *required])
    months_built = days_recomputed = 0
    for clinic_id in sorted(set(changed) | set(required)):
        missing = set(required.get(clinic_id, ())) - built[clinic_id]
        months_built += build_months(clinic_id, zones[clinic_id], missing, now)
        redo = {day for day in changed.get(clinic_id, ()) if month_of(day) in built[clinic_id]}
        days_recomputed += rebuild_days(clinic_id, zones[clinic_id], redo)
    arm_days = rebuild_changed_arms(found)
    experiments_built = build_experiments(now) if experiments else 0
    db.session.execute(
        update(AttendanceWatermark)
        .where(AttendanceWatermark.id == _WATERMARK_ID)
        .values(checked_until=now)
    )
    return Refreshed(months_built, days_recomputed, arm_days, experiments_built)


def _zones(clinic_ids: Iterable[int]) -> dict[int, ZoneInfo]:
    ids = sorted(set(clinic_ids))
    if not ids:
        return {}
    rows = db.session.execute(select(Clinic.id, Clinic.timezone).where(Clinic.id.in_(ids)))
    return {clinic_id: ZoneInfo(name) for clinic_id, name in rows}
