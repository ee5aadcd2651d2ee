"""The voice webhooks: signed requests in, TwiML out, appointments and answers recorded.

Requests come through Flask's test client signed as Twilio signs them (the raw request
URI is in the environment, as under gunicorn). Every response is parsed as XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.appointments.imports import import_appointment_rows
from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging import compose
from app.messaging import voice as call_texts
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.patients.models import Patient
from app.patients.service import import_patient_rows
from app.surveys import service as surveys
from app.surveys import texts
from app.surveys.calls import key_value
from app.surveys.definitions import parse_definition
from app.surveys.models import SessionState, SurveyAnswer, SurveySession
from app.webhooks import voice as voice_routes
from tests.conftest import make_test_app
from tests.public.web_survey import open_invitation

BASE = "https://wesaid.example.org"
TOKEN = "voice-test-token"
CLINIC_SENDER = "+442071838750"
PATIENT = "+447400123456"
LANDLINE = "+441134960123"
VISIT = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # Tuesday; London is on GMT
CALL = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "1" * 32, "CallStatus": "in-progress"}


@contextmanager
def _client(database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[FlaskClient]:
    """A client of an app served at BASE with the voice blueprint."""
    served = make_test_app(
        database_url, clock, redis_conn, PUBLIC_BASE_URL=BASE, TWILIO_AUTH_TOKEN=TOKEN
    )
    if "voice" not in served.blueprints:
        served.register_blueprint(voice_routes.bp)
    try:
        yield served.test_client()
    finally:
        with served.app_context():
            db.engine.dispose()


@pytest.fixture
def voice(
    app: Flask, database_url: str, clock: FixedClock, redis_conn: Redis
) -> Iterator[FlaskClient]:
    """The client, over tables emptied for the test."""
    with _client(database_url, clock, redis_conn) as client:
        yield client


@pytest.fixture
def gate(database_url: str, clock: FixedClock, redis_conn: Redis) -> Iterator[FlaskClient]:
    """The client, for requests refused before the database is read."""
    with _client(database_url, clock, redis_conn) as client:
        yield client


def _sign(path: str, form: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(BASE + path, form))


def _post(client: FlaskClient, path: str, digits: str | None = None, **headers: str) -> Any:
    form = dict(CALL) if digits is None else {**CALL, "Digits": digits}
    signed = {"X-Twilio-Signature": _sign(path, form), **headers}
    return client.post(path, data=form, headers=signed)


def _twiml(response: Any) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)  # noqa: S314 (our own response)
    assert root.tag == "Response"
    return root


def _says(root: ET.Element) -> list[tuple[str, str | None]]:
    return [(say.text or "", say.get("language")) for say in root.iter("Say")]


def _verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


@dataclass(frozen=True)
class Booking:
    clinic_id: int
    patient_id: int
    appointment_id: int


def _book(clock: FixedClock, locale: str = "en", phone: str = PATIENT) -> Booking:
    clinic = create_clinic(
        f"c{locale.lower()}",
        name="North Clinic",
        timezone="Europe/London",
        sender=CLINIC_SENDER,
        clock=clock,
        reminder_rules=[],
    )
    row = {"external_id": "P1", "phone": phone, "locale": locale, "channel": "voice"}
    report = import_patient_rows(clinic.id, [row], source="test", strict=True, clock=clock)
    assert not report.errors, report.errors
    patient_id = db.session.scalars(select(Patient.id)).one()
    visit = {"external_id": "A1", "patient_external_id": "P1", "starts_at": VISIT.isoformat()}
    report = import_appointment_rows(clinic.id, [visit], source="test", strict=True, clock=clock)
    assert not report.errors, report.errors
    appointment_id = db.session.scalars(select(Appointment.id)).one()
    return Booking(clinic.id, patient_id, appointment_id)


def _voice_message(booking: Booking, clock: FixedClock, kind: str = "reminder") -> int:
    now = clock.now()
    message = OutboundMessage(
        clinic_id=booking.clinic_id,
        patient_id=booking.patient_id,
        appointment_id=booking.appointment_id,
        kind=kind,
        channel="voice",
        state=MessageState.SENDING,
        due_at=now,
        expires_at=now + timedelta(hours=6),
        created_at=now,
        updated_at=now,
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def _survey_call(booking: Booking, clock: FixedClock) -> tuple[int, int]:
    """A voice survey invitation whose session is open, as the dispatcher leaves it."""
    message_id = _voice_message(booking, clock, kind="survey_invite")
    session_id, _body = open_invitation(message_id, clock, BASE)
    db.session.commit()
    return message_id, session_id


def _appointment(appointment_id: int) -> Appointment:
    db.session.expire_all()
    found = db.session.get(Appointment, appointment_id)
    assert found is not None
    return found


def _answers(session_id: int) -> dict[str, tuple[str, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.session_id == session_id))
    return {a.question_id: (a.status, a.value) for a in rows}


# -- signatures and malformed requests ---------------------------------------------------

VOICE_PATHS = [
    "/webhooks/twilio/voice?m=1",
    "/webhooks/twilio/voice/menu?m=1&t=0",
    "/webhooks/twilio/voice/answer?s=1&q=fft&t=0",
]


@pytest.mark.parametrize("path", VOICE_PATHS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": ""},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Twilio-Signature": _sign(VOICE_PATHS[0], CALL, "some-other-token")},
    ],
    ids=["missing", "empty", "garbage", "other-token"],
)
def test_unsigned_requests_are_refused(
    gate: FlaskClient, path: str, headers: dict[str, str]
) -> None:
    response = gate.post(path, data=CALL, headers=headers)
    assert response.status_code == 403
    assert b"<Say" not in response.data


def test_a_signature_for_another_query_is_refused(gate: FlaskClient) -> None:
    signature = _sign("/webhooks/twilio/voice?m=1", CALL)
    response = gate.post(
        "/webhooks/twilio/voice?m=2", data=CALL, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/twilio/voice",
        "/webhooks/twilio/voice?m=abc",
        "/webhooks/twilio/voice?m=0",
        "/webhooks/twilio/voice/menu?m=1&t=x",
        "/webhooks/twilio/voice/answer?s=1",
        "/webhooks/twilio/voice/answer?s=1&q=Not%20an%20id",
        "/webhooks/twilio/voice/answer?q=fft",
    ],
)
def test_malformed_queries_are_400(gate: FlaskClient, path: str) -> None:
    assert _post(gate, path).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/twilio/voice?m=999",
        "/webhooks/twilio/voice/menu?m=999&t=0",
        "/webhooks/twilio/voice/answer?s=999&q=fft&t=0",
    ],
)
def test_unknown_calls_get_a_polite_goodbye(voice: FlaskClient, path: str) -> None:
    root = _twiml(_post(voice, path, digits="1"))
    assert _says(root) == [(call_texts.GOODBYE, "en-GB")]
    assert _verbs(root) == ["Say", "Hangup"]


# -- reminders ---------------------------------------------------------------------------


def test_the_reminder_is_read_and_one_key_is_gathered(
    voice: FlaskClient, clock: FixedClock
) -> None:
    booking = _book(clock)
    message_id = _voice_message(booking, clock)
    root = _twiml(_post(voice, f"/webhooks/twilio/voice?m={message_id}"))
    [gather] = root.findall("Gather")
    action = f"{BASE}/webhooks/twilio/voice/menu?m={message_id}&t=0"
    assert _verbs(root) == ["Gather", "Redirect"]
    assert gather.attrib == {
        "input": "dtmf",
        "numDigits": "1",
        "action": action,
        "method": "POST",
        "timeout": str(call_texts.GATHER_SECONDS),
    }
    [(text, language)] = _says(root)
    assert language == "en-GB"
    assert text.startswith("This is North Clinic. Your appointment is on Tuesday 3 March at 14:00.")
    assert "Press 1 to confirm, 2 to cancel, or 3 to ask for a new time." in text
    redirect = root.find("Redirect")
    assert redirect is not None
    assert (redirect.text, redirect.get("method")) == (action, "POST")


@pytest.mark.parametrize(
    ("digit", "said", "status", "confirmed", "rebook"),
    [
        ("1", "Thank you. Your appointment on Tuesday 3 March at 14:00 is confirmed.",
         AppointmentStatus.BOOKED, True, False),
        ("2", "Your appointment on Tuesday 3 March at 14:00 is cancelled. Thank you for "
         "telling us.", AppointmentStatus.CANCELLED_PATIENT, False, False),
        ("3", "Thank you. North Clinic will contact you to find a new time for your "
         "appointment on Tuesday 3 March.", AppointmentStatus.BOOKED, False, True),
    ],
)  # fmt: skip
def test_menu_keys_act_on_the_appointment(
    voice: FlaskClient,
    clock: FixedClock,
    digit: str,
    said: str,
    status: AppointmentStatus,
    confirmed: bool,
    rebook: bool,
) -> None:
    booking = _book(clock)
    message_id = _voice_message(booking, clock)
    root = _twiml(_post(voice, f"/webhooks/twilio/voice/menu?m={message_id}&t=0", digit))
    appointment = _appointment(booking.appointment_id)
    assert _says(root) == [(said, "en-GB")]
    assert _verbs(root) == ["Say", "Hangup"]
    assert appointment.status is status
    assert (appointment.confirmed_at is not None, appointment.rebook_requested_at is not None) == (
        confirmed,
        rebook,
    )


@pytest.mark.parametrize("digits", [None, "7"])
def test_no_key_or_a_wrong_one_asks_once_more_then_ends(
    voice: FlaskClient, clock: FixedClock, digits: str | None
) -> None:
    booking = _book(clock)
    message_id = _voice_message(booking, clock)
    again = _twiml(_post(voice, f"/webhooks/twilio/voice/menu?m={message_id}&t=0", digits))
    done = _twiml(_post(voice, f"/webhooks/twilio/voice/menu?m={message_id}&t=1", digits))
    [gather] = again.findall("Gather")
    assert _says(again)[0] == (call_texts.NOT_HEARD, "en-GB")
    assert gather.get("action") == f"{BASE}/webhooks/twilio/voice/menu?m={message_id}&t=1"
    assert _says(done) == [(call_texts.GOODBYE, "en-GB")]
    assert _verbs(done) == ["Say", "Hangup"]
    appointment = _appointment(booking.appointment_id)
    assert (appointment.status, appointment.confirmed_at) == (AppointmentStatus.BOOKED, None)


def test_a_cancelled_appointment_is_not_read_out(voice: FlaskClient, clock: FixedClock) -> None:
    booking = _book(clock)
    message_id = _voice_message(booking, clock)
    _post(voice, f"/webhooks/twilio/voice/menu?m={message_id}&t=0", "2")
    root = _twiml(_post(voice, f"/webhooks/twilio/voice?m={message_id}"))
    assert _says(root) == [(call_texts.GOODBYE, "en-GB")]


@pytest.mark.parametrize(
    ("locale", "language", "catalogue_locale"),
    [("cy", "cy-GB", "cy"), ("pl", "pl-PL", "pl"), ("so", "en-GB", "en")],
)
def test_the_voice_speaks_the_patients_language_or_falls_back(
    voice: FlaskClient, clock: FixedClock, locale: str, language: str, catalogue_locale: str
) -> None:
    booking = _book(clock, locale)
    message_id = _voice_message(booking, clock)
    root = _twiml(_post(voice, f"/webhooks/twilio/voice?m={message_id}"))
    [(text, said_in)] = _says(root)
    expected_goodbye, _ = compose.localise(call_texts.GOODBYE, (catalogue_locale, "en"))
    goodbye = _twiml(_post(voice, f"/webhooks/twilio/voice/menu?m={message_id}&t=1"))
    assert said_in == language
    assert _says(goodbye) == [(expected_goodbye, language)]
    assert ("Press 1 to confirm" in text) is (catalogue_locale == "en")


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        (("so", "en"), ("en",)),
        (("cy", "en"), ("cy", "en")),
        (("so", "pl", "en"), ("pl", "en")),
        (("so",), ("en",)),
    ],
)
def test_voice_chain_drops_languages_without_a_voice(
    chain: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert call_texts.voice_chain(chain) == expected


# -- surveys -----------------------------------------------------------------------------

FFT_PROMPTS = [
    "Press 1 for Very good.",
    "Press 2 for Good.",
    "Press 3 for Neither good nor poor.",
    "Press 4 for Poor.",
    "Press 5 for Very poor.",
    "Press 6 for Don't know.",
]


def test_a_survey_call_introduces_itself_and_asks_the_first_question(
    voice: FlaskClient, clock: FixedClock
) -> None:
    message_id, session_id = _survey_call(_book(clock), clock)
    root = _twiml(_post(voice, f"/webhooks/twilio/voice?m={message_id}"))
    [gather] = root.findall("Gather")
    intro = "Hello. This is North Clinic with a short survey about your recent visit."
    assert [text for text, _ in _says(root)] == [intro, texts.FFT_QUESTION, *FFT_PROMPTS]
    assert {language for _, language in _says(root)} == {"en-GB"}
    assert gather.get("action") == f"{BASE}/webhooks/twilio/voice/answer?s={session_id}&q=fft&t=0"
    assert (gather.get("numDigits"), gather.get("input")) == ("1", "dtmf")


@pytest.mark.parametrize(
    ("digit", "status", "value"),
    [
        ("2", "answered", "good"),
        ("6", "dont_know", "dont_know"),
        ("*", "skipped", None),
    ],
)
def test_a_key_answers_and_free_text_is_skipped_on_the_telephone(
    voice: FlaskClient, clock: FixedClock, digit: str, status: str, value: str | None
) -> None:
    _message_id, session_id = _survey_call(_book(clock), clock)
    root = _twiml(_post(voice, f"/webhooks/twilio/voice/answer?s={session_id}&q=fft&t=0", digit))
    assert [text for text, _ in _says(root)] == [
        texts.VOICE_FREE_TEXT,
        "Thank you for your answers. North Clinic reads every one.",
    ]
    assert _verbs(root) == ["Say", "Say", "Hangup"]
    assert _answers(session_id) == {"fft": (status, value), "comment": ("skipped", None)}
    session = db.session.get(SurveySession, session_id)
    assert session is not None
    assert session.state is SessionState.COMPLETED


@pytest.mark.parametrize("digits", [None, "9"])
def test_no_key_asks_once_more_then_records_a_skip(
    voice: FlaskClient, clock: FixedClock, digits: str | None
) -> None:
    _message_id, session_id = _survey_call(_book(clock), clock)
    path = f"/webhooks/twilio/voice/answer?s={session_id}&q=fft"
    again = _twiml(_post(voice, f"{path}&t=0", digits))
    [gather] = again.findall("Gather")
    assert _says(again)[:2] == [(call_texts.NOT_HEARD, "en-GB"), (texts.FFT_QUESTION, "en-GB")]
    assert gather.get("action") == f"{BASE}{path}&t=1"
    assert _answers(session_id) == {}
    _twiml(_post(voice, f"{path}&t=1", digits))
    assert _answers(session_id)["fft"] == ("skipped", None)


def test_a_late_repeat_carries_on_where_the_conversation_is(
    voice: FlaskClient, clock: FixedClock
) -> None:
    definition = {
        "slug": "two-keys",
        "questions": [
            {"id": "again", "type": "yes_no", "text": "Would you come again?"},
            {"id": "score", "type": "scale", "min": 1, "max": 5, "text": "Score us."},
        ],
    }
    booking = _book(clock)
    clinic = db.session.get(Clinic, booking.clinic_id)
    assert clinic is not None
    clinic.survey_slug = "two-keys"
    surveys.register_definition(definition, booking.clinic_id, clock.now())
    db.session.commit()
    _message_id, session_id = _survey_call(booking, clock)
    path = f"/webhooks/twilio/voice/answer?s={session_id}"
    first = _twiml(_post(voice, f"{path}&q=again&t=0", "1"))
    repeat = _twiml(_post(voice, f"{path}&q=again&t=0", "2"))
    for root in (first, repeat):
        [gather] = root.findall("Gather")
        assert [text for text, _ in _says(root)] == ["Score us.", "Press a number from 1 to 5."]
        assert gather.get("action") == f"{BASE}{path}&q=score&t=0"
    assert _answers(session_id) == {"again": ("answered", "yes")}


def test_a_closed_survey_says_goodbye(voice: FlaskClient, clock: FixedClock) -> None:
    booking = _book(clock)
    message_id, session_id = _survey_call(booking, clock)
    surveys.close_for_opt_out(booking.patient_id, booking.clinic_id, clock.now())
    db.session.commit()
    for path in (
        f"/webhooks/twilio/voice?m={message_id}",
        f"/webhooks/twilio/voice/answer?s={session_id}&q=fft&t=0",
    ):
        root = _twiml(_post(voice, path, "1"))
        assert _verbs(root) == ["Say", "Hangup"]
    assert _answers(session_id) == {}


@pytest.mark.parametrize(
    ("question", "digits", "expected"),
    [
        ({"type": "single_choice", "options": ["a", "b", "dont_know"]}, "2", "b"),
        ({"type": "single_choice", "options": ["a", "b", "dont_know"]}, "3", "dont_know"),
        ({"type": "single_choice", "options": ["a", "b"]}, "3", None),
        ({"type": "single_choice", "options": ["a", "b"]}, "*", "skip"),
        ({"type": "yes_no"}, "1", "yes"),
        ({"type": "yes_no"}, "2", "no"),
        ({"type": "yes_no"}, "3", None),
        ({"type": "scale", "min": 1, "max": 5}, "5", "5"),
        ({"type": "scale", "min": 1, "max": 5}, "0", None),
        ({"type": "number", "min": 0, "max": 20}, "12", "12"),
        ({"type": "number", "min": 0, "max": 20}, "21", None),
        ({"type": "number", "min": 0, "max": 20}, "1#", None),
        ({"type": "yes_no"}, "", None),
    ],
)
def test_key_value(question: dict[str, Any], digits: str, expected: str | None) -> None:
    raw: dict[str, Any] = {"id": "q", "text": "Question?", **question}
    if "options" in raw:
        raw["options"] = [{"key": key, "label": key} for key in question["options"]]
    definition = parse_definition({"slug": "k", "questions": [raw]})
    assert key_value(definition.questions[0], digits) == expected
