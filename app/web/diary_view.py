"""How the diary's pages write appointments for staff: times in the clinic's zone,
patients (by name only for staff who may see names), outcomes and reminder states in
words, and the day's filters as links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.appointments.models import AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.diary.queries import DayAppointment
from app.diary.reminders import ReminderStatus
from app.web.principal import staff_scope

DAY_LENGTH = len("2026-03-02")

#: The outcomes staff choose from, in the order the form offers them.
OUTCOME_CHOICES: tuple[tuple[AppointmentStatus, Any], ...] = (
    (AppointmentStatus.ATTENDED, _l("Attended")),
    (AppointmentStatus.DNA, _l("Did not attend")),
    (AppointmentStatus.CANCELLED_PATIENT, _l("Patient cancelled")),
    (AppointmentStatus.CANCELLED_CLINIC, _l("Clinic cancelled")),
)
STATUS_WORDS: dict[AppointmentStatus, Any] = {
    AppointmentStatus.BOOKED: _l("Booked"),
    AppointmentStatus.ATTENDED: _l("Attended"),
    AppointmentStatus.DNA: _l("Did not attend"),
    AppointmentStatus.CANCELLED_PATIENT: _l("Cancelled by patient"),
    AppointmentStatus.CANCELLED_CLINIC: _l("Cancelled by clinic"),
    AppointmentStatus.ENTERED_IN_ERROR: _l("Entered in error"),
}
STATUS_COLOURS = {
    AppointmentStatus.ATTENDED: "green",
    AppointmentStatus.DNA: "red",
    AppointmentStatus.CANCELLED_PATIENT: "grey",
    AppointmentStatus.CANCELLED_CLINIC: "grey",
}
REMINDER_WORDS: dict[ReminderStatus, Any] = {
    ReminderStatus.CANCELLED: _l("Cancelled"),
    ReminderStatus.CONFIRMED: _l("Confirmed"),
    ReminderStatus.DELIVERED: _l("Delivered"),
    ReminderStatus.SENT: _l("Sent"),
    ReminderStatus.OPTED_OUT: _l("Opted out"),
    ReminderStatus.FAILED: _l("Failed"),
    ReminderStatus.PLANNED: _l("Planned"),
    ReminderStatus.NOT_SENT: _l("Not sent"),
    ReminderStatus.NONE: _l("None planned"),
}
REMINDER_COLOURS = {
    ReminderStatus.CANCELLED: "grey",
    ReminderStatus.CONFIRMED: "green",
    ReminderStatus.DELIVERED: "aqua-green",
    ReminderStatus.SENT: "blue",
    ReminderStatus.OPTED_OUT: "orange",
    ReminderStatus.FAILED: "red",
    ReminderStatus.PLANNED: "white",
    ReminderStatus.NOT_SENT: "yellow",
    ReminderStatus.NONE: "grey",
}


def parse_day(text: str) -> date | None:
    """The date written YYYY-MM-DD, or None."""
    if len(text) != DAY_LENGTH:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    """What the page shows: one day, at one clinic or all, on one pathway or all."""

    day: date
    today: date
    clinic: Clinic | None
    pathway: str | None

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string for these filters, with `changes` (for links)."""
        found: dict[str, Any] = {"day": self.day.isoformat()}
        if self.clinic is not None:
            found["clinic"] = self.clinic.id
        if self.pathway:
            found["pathway"] = self.pathway
        return found | changes


def shows_name(row: DayAppointment) -> bool:
    """Whether the page shows the patient's name: they have one, and the staff member
    may see names at their clinic."""
    named = bool(row.patient.given_name or row.patient.family_name)
    return named and staff_scope().allows(Permission.SEE_NAMES, row.clinic.id)


class DiaryView:
    """How the templates write the diary's times, patients and states."""

    def time(self, row: DayAppointment) -> str:
        local = row.appointment.starts_at.astimezone(ZoneInfo(row.clinic.timezone))
        return format_time(local, "HH:mm", locale=_locale())

    def day(self, day: date) -> str:
        return format_date(day, "EEEE d MMMM y", locale=_locale())

    def short_day(self, day: date) -> str:
        return format_date(day, "EEEE d MMMM", locale=_locale())

    def due(self, row: DayAppointment) -> str:
        if row.next_reminder_at is None:
            return ""
        local = row.next_reminder_at.astimezone(ZoneInfo(row.clinic.timezone))
        return str(
            _(
                "Due %(day)s at %(time)s",
                day=format_date(local, "d MMMM", locale=_locale()),
                time=format_time(local, "HH:mm", locale=_locale()),
            )
        )

    def patient(self, row: DayAppointment) -> str:
        """The patient's name where the staff member may see it, else the clinic's id."""
        if shows_name(row):
            names = (row.patient.given_name, row.patient.family_name)
            return " ".join(name for name in names if name)
        return row.patient.external_id

    def shows_name(self, row: DayAppointment) -> bool:
        return shows_name(row)

    def status(self, status: AppointmentStatus) -> str:
        return str(STATUS_WORDS[status])

    def status_colour(self, status: AppointmentStatus) -> str | None:
        return STATUS_COLOURS.get(status)

    def reminder(self, status: ReminderStatus) -> str:
        return str(REMINDER_WORDS[status])

    def reminder_colour(self, status: ReminderStatus) -> str:
        return REMINDER_COLOURS[status]

    def count(self, rows: Sequence[Any]) -> str:
        return str(ngettext("%(num)d appointment", "%(num)d appointments", len(rows)))

    def previous(self, filters: Filters) -> dict[str, Any]:
        return filters.args(day=(filters.day - timedelta(days=1)).isoformat())

    def next(self, filters: Filters) -> dict[str, Any]:
        return filters.args(day=(filters.day + timedelta(days=1)).isoformat())

    def previous_day(self, filters: Filters) -> date:
        return filters.day - timedelta(days=1)

    def next_day(self, filters: Filters) -> date:
        return filters.day + timedelta(days=1)


def _locale() -> str:
    return str(get_locale() or "en")
