"""A patient's timeline: appointments and reminders, messages in time order, surveys
(only for roles that read answers), the consent ledger, and what is left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.casework.items import Disclosure
from app.casework.timeline import patient_timeline
from app.clinics.roles import Role
from app.clinics.scope import scope_for
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging.states import MessageState
from app.patients.consent import record_opt_in
from tests.casework import cases
from tests.web.staff import StaffDesk
from tests.world import World


def _everything(clinic_id: int) -> Disclosure:
    """Names, numbers, messages and answers of the clinic `clinic_id`."""
    return Disclosure(*([frozenset({clinic_id})] * 4))


def test_appointments_with_their_reminders(world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1", given_name="Ada", family_name="Lovelace")
    booked = world.book(north, "A1", "P1", datetime(2026, 3, 16, 10, 0, tzinfo=UTC))
    found = patient_timeline(patient, _everything(north.id))
    [appointment] = found.appointments
    assert (appointment.id, appointment.external_id, appointment.status) == (
        booked.id,
        "A1",
        "booked",
    )
    assert [(r.rule, r.channel, r.state) for r in appointment.reminders] == [
        ("7d", "sms", MessageState.PENDING),
        ("1d", "sms", MessageState.PENDING),
    ]
    assert appointment.reminders[0].due_at < appointment.reminders[1].due_at


def test_messages_in_and_out_in_time_order(world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    now = clock.now()
    failed = cases.failed_message(patient, now - timedelta(hours=2))
    reply = cases.flagged_reply(north, patient, now - timedelta(hours=1), body="Dziękuję 🙂")
    found = patient_timeline(patient, _everything(north.id))
    assert [(m.incoming, m.id) for m in found.messages] == [(False, failed.id), (True, reply.id)]
    out, back = found.messages
    assert (out.kind, out.state, out.error_code, out.encoding, out.segments) == (
        "reminder",
        MessageState.FAILED,
        21614,
        "GSM-7",
        1,
    )
    assert (back.state, back.flag_reason, back.encoding, back.segments) == (
        "flagged",
        "not_understood",
        "UCS-2",
        1,
    )
    assert back.text == "Dziękuję 🙂"
    hidden = patient_timeline(patient, Disclosure(names=frozenset({north.id})))
    assert [m.text for m in hidden.messages] == [None, None]
    assert hidden.shows_messages is False


def test_details_and_what_the_viewer_may_see(world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1", given_name="Ada", family_name="Lovelace", locale="pl")
    full = patient_timeline(patient, _everything(north.id))
    assert (full.patient.name, full.patient.phone, full.patient.locale) == (
        "Ada Lovelace",
        patient.phone,
        "pl",
    )
    assert (full.patient.clinic_name, full.patient.channel, full.patient.opted_out) == (
        "North",
        "sms",
        (),
    )
    assert (full.shows_name, full.shows_phone, full.shows_messages) == (True, True, True)
    bare = patient_timeline(patient, Disclosure())
    assert (bare.patient.name, bare.patient.phone, bare.surveys) == (None, None, None)
    assert (bare.shows_name, bare.shows_phone) == (False, False)


def test_survey_answers_only_for_roles_that_read_them(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    cases.survey_session(
        patient,
        clock.now() - timedelta(days=1),
        {
            "fft": ("answered", "very_good", "1"),
            "why": ("answered", "Kind staff", "Kind staff"),
        },
    )
    clinician = scope_for(desk.member(Role.CLINICIAN, ["north"]).user_id)
    found = patient_timeline(patient, Disclosure.of(clinician))
    assert found.surveys is not None
    [survey] = found.surveys
    assert (survey.title, survey.version, survey.state, survey.channel) == (
        "Friends and Family Test",
        1,
        "completed",
        "sms",
    )
    first = survey.answers[0]
    assert (first.question, first.value, first.words) == (
        "Overall, how was your experience of our service?",
        "Very good",
        "1",
    )
    assert survey.answers[1].words == "Kind staff"
    receptionist = scope_for(desk.member(Role.RECEPTIONIST, ["north"]).user_id)
    assert patient_timeline(patient, Disclosure.of(receptionist)).surveys is None


def test_the_consent_ledger_names_its_sources(
    world: World, clock: FixedClock, desk: StaffDesk
) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    member = desk.member(Role.RECEPTIONIST, ["north"], name="Rita Patel")
    now = clock.now()
    cases.opt_out(patient, now - timedelta(days=2))
    record_opt_in(patient.id, north.id, "all", "reply", now - timedelta(days=1))
    cases.opt_out(patient, now - timedelta(hours=1), source=f"staff:{member.user_id}")
    record_opt_in(patient.id, north.id, "sms", "reply", now)
    db.session.commit()
    found = patient_timeline(patient, _everything(north.id))
    assert [(c.action, c.channel, c.source, c.staff_name) for c in found.consent] == [
        ("opt_out", "all", "reply", None),
        ("opt_in", "all", "reply", None),
        ("opt_out", "all", "staff", "Rita Patel"),
        ("opt_in", "sms", "reply", None),
    ]
    # The latest event per channel is in force ("all" counts for every channel).
    assert found.patient.opted_out == ("whatsapp", "voice", "web")


def test_an_opt_out_of_everything_reads_as_all(world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    patient = world.patient(north, "P1")
    cases.opt_out(patient, clock.now())
    assert patient_timeline(patient, _everything(north.id)).patient.opted_out == ("all",)
