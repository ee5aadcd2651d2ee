"""Appointments with outcomes by the month, written in bulk for tests of the DNA charts:
a clinic's months each with so many attended and so many DNA appointments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, update

from app.appointments.models import Appointment, AppointmentStatus
from app.attendance.periods import months_from
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.models import Patient

#: Counts per month: (attended, DNA).
Months = Mapping[date, tuple[int, int]]


def series(first: date, dna: Sequence[int], n: int = 100) -> dict[date, tuple[int, int]]:
    """Months from `first`, one per entry of `dna`: each with `n` appointments of which
    that many were DNA."""
    months = months_from(first, date(first.year + 20, 1, 1))[: len(dna)]
    return {month: (n - count, count) for month, count in zip(months, dna, strict=True)}


def rates(months: Months) -> list[float]:
    """Each month's DNA rate, in order."""
    return [dna / (attended + dna) for _, (attended, dna) in sorted(months.items())]


def add_months(
    clinic: Clinic,
    patients: Sequence[Patient],
    months: Months,
    clock: Clock,
    unreminded_every: int = 0,
) -> int:
    """Write the appointments with their outcomes, at 10:00 UTC on days 1 to 28 of each
    month (inside the month in any UK time), shared out among `patients` in turn. Every
    one gets a delivered reminder, but every `unreminded_every`-th (when set to more
    than 0), which gets none. Returns how many appointments."""
    rows: list[dict[str, Any]] = []
    # Outcomes were recorded the day after, or an hour ago at the latest, so that a
    # refresh finds them in the months it builds, not as changes to redo each time.
    recorded_by = clock.now() - timedelta(hours=1)
    for month, (attended, dna) in sorted(months.items()):
        for index in range(attended + dna):
            starts_at = datetime(month.year, month.month, 1 + index % 28, 10, tzinfo=UTC)
            rows.append(
                {
                    "clinic_id": clinic.id,
                    "patient_id": patients[len(rows) % len(patients)].id,
                    "external_id": f"M{clinic.id}-{month:%Y%m}-{index}",
                    "starts_at": starts_at,
                    "status": AppointmentStatus.DNA if index < dna else AppointmentStatus.ATTENDED,
                    "plan_version": 1,
                    "created_at": starts_at - timedelta(days=3 + 5 * (index % 9)),
                    "updated_at": min(starts_at + timedelta(days=1), recorded_by),
                }
            )
    # The patients were registered before their appointments too.
    ids = sorted({patient.id for patient in patients})
    db.session.execute(update(Patient).where(Patient.id.in_(ids)).values(updated_at=recorded_by))
    if rows and unreminded_every:
        made = db.session.scalars(
            insert(Appointment).returning(Appointment.id, sort_by_parameter_order=True), rows
        ).all()
        _remind([row | {"id": id_} for row, id_ in zip(rows, made, strict=True)], unreminded_every)
    elif rows:
        db.session.execute(insert(Appointment), rows)
    db.session.commit()
    return len(rows)


def _remind(appointments: Sequence[dict[str, Any]], unreminded_every: int) -> None:
    reminders = [
        {
            "clinic_id": row["clinic_id"],
            "patient_id": row["patient_id"],
            "appointment_id": row["id"],
            "kind": MessageKind.REMINDER,
            "rule": "1d",
            "plan_version": 1,
            "state": MessageState.DELIVERED,
            "due_at": row["starts_at"] - timedelta(days=1),
            "expires_at": row["starts_at"] - timedelta(hours=2),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        for index, row in enumerate(appointments)
        if index % unreminded_every
    ]
    if reminders:
        db.session.execute(insert(OutboundMessage), reminders)
