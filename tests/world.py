"""A world of clinics, patients and appointments for service tests (the `world` fixture).

`World.patient` and `World.book` go through the real import services (reminders are
planned as in production). `World.add` writes an appointment with exact values, and
its reminders in given states, for report tests that need every field controlled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.appointments.imports import import_appointment_rows
from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.models import Patient
from app.patients.service import import_patient_rows

SENDERS = ("+442071838750", "+442071838751", "+442071838752")


@dataclass
class World:
    clock: FixedClock
    clinics: dict[str, Clinic] = field(default_factory=dict)
    _phones: int = 0
    _added: int = 0

    def clinic(
        self, slug: str = "north", org: str = "trust", timezone: str = "Europe/London"
    ) -> Clinic:
        sender = SENDERS[len(self.clinics)]
        made = create_clinic(
            slug,
            name=slug.title(),
            timezone=timezone,
            sender=sender,
            org_slug=org,
            clock=self.clock,
        )
        self.clinics[slug] = made
        return made

    def patient(self, clinic: Clinic, external_id: str, **demographics: Any) -> Patient:
        self._phones += 1
        row = {"external_id": external_id, "phone": f"+4474001{self._phones:05d}", "locale": "en"}
        report = import_patient_rows(
            clinic.id, [{**row, **demographics}], source="test", strict=True, clock=self.clock
        )
        assert not report.errors, report.errors
        found = db.session.scalar(
            select(Patient).where(
                Patient.clinic_id == clinic.id, Patient.external_id == external_id
            )
        )
        assert found is not None
        return found

    def book(
        self, clinic: Clinic, external_id: str, patient: str, starts_at: datetime
    ) -> Appointment:
        row = {
            "external_id": external_id,
            "patient_external_id": patient,
            "starts_at": starts_at.isoformat(),
        }
        report = import_appointment_rows(
            clinic.id, [row], source="test", strict=True, clock=self.clock
        )
        assert not report.errors, report.errors
        return self.appointment(clinic, external_id)

    def appointment(self, clinic: Clinic, external_id: str) -> Appointment:
        found = db.session.scalar(
            select(Appointment).where(
                Appointment.clinic_id == clinic.id, Appointment.external_id == external_id
            )
        )
        assert found is not None
        return found

    def add(
        self,
        patient: Patient,
        starts_at: datetime,
        status: AppointmentStatus,
        *,
        booked_days_before: float = 10,
        reminders: Sequence[MessageState] = (),
        confirmed: bool = False,
        cancel_lead_minutes: int | None = None,
        rebook_requested_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> Appointment:
        """An appointment written as given (no services), with reminders in `reminders`."""
        self._added += 1
        created_at = starts_at - timedelta(days=booked_days_before)
        appointment = Appointment(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            external_id=f"X{self._added}",
            starts_at=starts_at,
            status=status,
            plan_version=1,
            confirmed_at=starts_at - timedelta(days=1) if confirmed else None,
            rebook_requested_at=rebook_requested_at,
            cancel_lead_minutes=cancel_lead_minutes,
            created_at=created_at,
            updated_at=updated_at or self.clock.now(),
        )
        db.session.add(appointment)
        db.session.flush()
        for index, state in enumerate(reminders):
            db.session.add(
                OutboundMessage(
                    clinic_id=patient.clinic_id,
                    patient_id=patient.id,
                    appointment_id=appointment.id,
                    kind="reminder",
                    rule=f"r{index}",
                    plan_version=1,
                    channel="sms",
                    state=state,
                    due_at=starts_at - timedelta(days=index + 1),
                    expires_at=starts_at - timedelta(hours=2),
                    created_at=created_at,
                    updated_at=updated_at or self.clock.now(),
                )
            )
        db.session.commit()
        return appointment


@pytest.fixture
def world(app: Any, clock: FixedClock) -> World:
    return World(clock)
