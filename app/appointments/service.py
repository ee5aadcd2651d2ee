"""Commands on appointments: book, move, confirm, cancel, ask to rebook, settle, withdraw.

Every way an appointment changes (an import, a patient's reply, a key press, a FHIR
bundle, staff) goes through these functions, and each tells the registered handlers
(`app.appointments.events`) what happened: reminders are planned, moved and withdrawn,
an experiment arm is assigned, a survey invitation is planned, the same way whatever
caused it. None of them commits: the caller commits with whatever else it records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.appointments.events import AppointmentEvent, emit
from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db

__all__ = [
    "CANCELLED",
    "OUTCOMES",
    "NewAppointment",
    "book_appointments",
    "cancel_by_clinic",
    "cancel_by_patient",
    "confirm_appointment",
    "get_appointment",
    "move_appointment",
    "record_outcome",
    "record_outcomes",
    "request_rebook",
    "withdraw_appointment",
]

CANCELLED = frozenset({AppointmentStatus.CANCELLED_PATIENT, AppointmentStatus.CANCELLED_CLINIC})
OUTCOMES = frozenset({AppointmentStatus.ATTENDED, AppointmentStatus.DNA})


@dataclass(frozen=True)
class NewAppointment:
    """An appointment to book for a patient already known."""

    patient_id: int
    external_id: str
    starts_at: datetime
    pathway: str | None = None


def book_appointments(
    clinic: Clinic, new: Sequence[NewAppointment], clock: Clock
) -> list[Appointment]:
    """Book appointments at `clinic`; returns them (with ids). Tells the BOOKED handlers
    once, with all of them."""
    now = clock.now()
    booked = [
        Appointment(
            clinic_id=clinic.id,
            patient_id=item.patient_id,
            external_id=item.external_id,
            starts_at=item.starts_at,
            pathway=item.pathway,
            status=AppointmentStatus.BOOKED,
            plan_version=1,
            created_at=now,
            updated_at=now,
        )
        for item in new
    ]
    db.session.add_all(booked)
    db.session.flush()
    emit(AppointmentEvent.BOOKED, booked, clinic, clock)
    return booked


def move_appointment(
    appointment: Appointment, clinic: Clinic, starts_at: datetime, clock: Clock
) -> None:
    """Give a booked appointment a new start time and a new plan version.

    Refuses (Invalid) an appointment that is no longer booked.
    """
    _refuse_unless_booked(appointment, "move")
    appointment.starts_at = starts_at
    appointment.plan_version += 1
    appointment.updated_at = clock.now()
    db.session.flush()
    emit(AppointmentEvent.MOVED, [appointment], clinic, clock)


def change_pathway(appointment: Appointment, clinic: Clinic, pathway: str, clock: Clock) -> bool:
    """Put the appointment on another pathway (what follows from its pathway, such as
    goal questions, follows it while it is booked). False when it was on it already."""
    if appointment.pathway == pathway:
        return False
    appointment.pathway = pathway
    appointment.updated_at = clock.now()
    db.session.flush()
    if appointment.status is AppointmentStatus.BOOKED:
        emit(AppointmentEvent.PATHWAY_CHANGED, [appointment], clinic, clock)
    return True


def get_appointment(appointment_id: int) -> Appointment:
    """The appointment with this id; NotFound if there is none."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return appointment


def _clinic_of(appointment: Appointment) -> Clinic:
    clinic = db.session.get(Clinic, appointment.clinic_id)
    assert clinic is not None
    return clinic


def _refuse_unless_booked(appointment: Appointment, action: str) -> None:
    if appointment.status is not AppointmentStatus.BOOKED:
        raise Invalid(f"cannot {action} an appointment that is {appointment.status.value}")


def confirm_appointment(appointment_id: int, clock: Clock) -> Appointment:
    """Record that the patient confirmed. The first confirmation's time is kept.

    Refuses (Invalid) an appointment that is no longer booked.
    """
    appointment = get_appointment(appointment_id)
    _refuse_unless_booked(appointment, "confirm")
    if appointment.confirmed_at is None:
        appointment.confirmed_at = appointment.updated_at = clock.now()
    return appointment


def cancel_by_patient(
    appointment_id: int, clock: Clock, cancelled_at: datetime | None = None
) -> Appointment:
    """Cancel at the patient's request, recording the notice they gave.

    The notice runs from `cancelled_at` (when the patient cancelled, if a clinic system
    says so) or from now. A second cancellation by the patient changes nothing. Refuses
    (Invalid) an appointment cancelled by the clinic or with an outcome.
    """
    appointment = get_appointment(appointment_id)
    if appointment.status is AppointmentStatus.CANCELLED_PATIENT:
        return appointment
    _refuse_unless_booked(appointment, "cancel")
    now = clock.now()
    _cancel(appointment, AppointmentStatus.CANCELLED_PATIENT, now, cancelled_at)
    # Floor division: a cancellation 59 seconds before the start has 0 minutes' notice,
    # and one after the start a negative lead, which the DNA figures treat as late.
    appointment.cancel_lead_minutes = (appointment.starts_at - (cancelled_at or now)) // timedelta(
        minutes=1
    )
    emit(AppointmentEvent.CANCELLED, [appointment], _clinic_of(appointment), clock)
    return appointment


def cancel_by_clinic(
    appointment_id: int, clock: Clock, cancelled_at: datetime | None = None
) -> Appointment:
    """Cancel on the clinic's side.

    A second cancellation by the clinic changes nothing. Refuses (Invalid) an appointment
    already cancelled by the patient or with an outcome.
    """
    appointment = get_appointment(appointment_id)
    if appointment.status is AppointmentStatus.CANCELLED_CLINIC:
        return appointment
    _refuse_unless_booked(appointment, "cancel")
    _cancel(appointment, AppointmentStatus.CANCELLED_CLINIC, clock.now(), cancelled_at)
    emit(AppointmentEvent.CANCELLED, [appointment], _clinic_of(appointment), clock)
    return appointment


def _cancel(
    appointment: Appointment, status: AppointmentStatus, now: datetime, at: datetime | None
) -> None:
    appointment.status = status
    appointment.cancelled_at = at or now
    appointment.updated_at = now


def withdraw_appointment(appointment_id: int, clock: Clock) -> Appointment:
    """Withdraw an appointment entered in error (FHIR ``entered-in-error``): it never was.

    Its status becomes ENTERED_IN_ERROR, which the attendance figures count nowhere:
    neither attended nor DNA, nor a cancellation by the patient or the clinic. The
    CANCELLED handlers are told, so its pending reminders are withdrawn. A booked or a
    cancelled appointment may be withdrawn (a cancellation's times are kept, unused); a
    second withdrawal changes nothing. Refuses (Invalid) an appointment with an outcome:
    after a visit, or a survey about it, a correction is for staff to make.
    """
    appointment = get_appointment(appointment_id)
    if appointment.status is AppointmentStatus.ENTERED_IN_ERROR:
        return appointment
    if appointment.status in OUTCOMES:
        raise Invalid(f"cannot withdraw an appointment that is {appointment.status.value}")
    appointment.status = AppointmentStatus.ENTERED_IN_ERROR
    appointment.updated_at = clock.now()
    emit(AppointmentEvent.CANCELLED, [appointment], _clinic_of(appointment), clock)
    return appointment


def request_rebook(appointment_id: int, clock: Clock) -> Appointment:
    """Record that the patient asked to rebook; staff see it in `rebook_requests`.

    The appointment itself is left as it is: staff decide whether to cancel it. The first
    request's time is kept. Refuses (Invalid) an appointment with an outcome or entered in
    error.
    """
    appointment = get_appointment(appointment_id)
    if appointment.status in OUTCOMES or appointment.status is AppointmentStatus.ENTERED_IN_ERROR:
        raise Invalid(f"cannot rebook an appointment that is {appointment.status.value}")
    if appointment.rebook_requested_at is None:
        appointment.rebook_requested_at = appointment.updated_at = clock.now()
    return appointment


def record_outcome(appointment_id: int, status: AppointmentStatus, clock: Clock) -> Appointment:
    """Record attended, DNA or a cancellation for an appointment.

    ATTENDED and DNA need the appointment to have started; they may correct each other
    but not a cancellation or a withdrawal. The cancelled statuses go through
    `cancel_by_patient` and `cancel_by_clinic`.
    """
    if status is AppointmentStatus.CANCELLED_PATIENT:
        return cancel_by_patient(appointment_id, clock)
    if status is AppointmentStatus.CANCELLED_CLINIC:
        return cancel_by_clinic(appointment_id, clock)
    return record_outcomes([(appointment_id, status)], clock)[0]


def record_outcomes(
    outcomes: Sequence[tuple[int, AppointmentStatus]], clock: Clock
) -> list[Appointment]:
    """Record attended or DNA for many appointments at once, as `record_outcome` does for
    one: each must have started, and none may be cancelled or withdrawn; if one cannot
    take its outcome, none is recorded. The handlers hear of each clinic's DNAs, then
    of its attendances, one event for each. Returns the appointments in the given order.
    """
    for _id, status in outcomes:
        if status not in OUTCOMES:
            raise Invalid(f"{status.value} is not an outcome")
    ids = [appointment_id for appointment_id, _status in outcomes]
    found = {
        a.id: a for a in db.session.scalars(select(Appointment).where(Appointment.id.in_(ids)))
    }
    now = clock.now()
    for appointment_id in ids:
        appointment = found.get(appointment_id)
        if appointment is None:
            raise NotFound(f"no appointment with id {appointment_id}")
        if (
            appointment.status in CANCELLED
            or appointment.status is AppointmentStatus.ENTERED_IN_ERROR
        ):
            raise Invalid(
                f"cannot record an outcome for an appointment that is {appointment.status.value}"
            )
        if appointment.starts_at > now:
            raise Invalid("cannot record an outcome before the appointment starts")
    told: dict[int, dict[AppointmentEvent, list[Appointment]]] = {}
    for appointment_id, status in outcomes:
        appointment = found[appointment_id]
        previous = appointment.status
        appointment.status = status
        appointment.outcome_recorded_at = appointment.updated_at = now
        events = told.setdefault(
            appointment.clinic_id, {AppointmentEvent.DNA: [], AppointmentEvent.ATTENDED: []}
        )
        if status is AppointmentStatus.DNA:
            events[AppointmentEvent.DNA].append(appointment)
        elif previous is not AppointmentStatus.ATTENDED:
            events[AppointmentEvent.ATTENDED].append(appointment)
    db.session.flush()
    clinics = {c.id: c for c in db.session.scalars(select(Clinic).where(Clinic.id.in_(told)))}
    for clinic_id, events in told.items():
        for event, appointments in events.items():
            emit(event, appointments, clinics[clinic_id], clock)
    return [found[appointment_id] for appointment_id in ids]
