"""The clinic under test for route-by-route tests: its rows, a value for every route
argument naming one of them, and how to build each route's URL.

A new route whose arguments have no value here fails tests/web/test_isolation.py until
one is added to `ARGUMENTS`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app.audit.service import SYSTEM
from app.clinics import accounts
from app.clinics.models import ApiToken, Clinic, StaffUser
from app.clinics.roles import Role
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from app.events.models import Subscription
from app.events.service import NewSubscription, subscribe
from app.experiments.queries import find_experiment
from app.experiments.service import create_experiment
from app.experiments.spec import parse_definition
from app.extensions import db
from app.goals.models import Goal
from app.goals.service import GoalInput, open_goal
from app.messaging.models import InboundMessage, OutboundMessage
from app.patients.models import Patient
from app.reports.models import BoardReportRun, ReportState
from app.runtime import get_runtime
from app.themes.models import CommentSource, ThemeComment
from app.uploads.kinds import ImportKind, ImportState
from app.uploads.models import ImportRun
from app.yousaid.models import EntryStatus, PublishedQuote, YouSaidEntry
from app.yousaid.service import EntryInput, create_entry
from tests.world import World

#: What identifies the clinic under test's patient: none of it may reach an outsider.
SECRETS = ("Zebedee", "Quartermain", "+447400999111", "07400 999111", "NORTH-SECRET-1")
SECRET_BODY = "meet me by the north gate"

#: Routes that are not the workspace's or the API's, and what protects them instead.
ELSEWHERE = {
    "static": "public files of the design system",
    "survey_web.show_form": "a signed, expiring link per invitation (tests/public)",
    "survey_web.submit_form": "a signed, expiring link per invitation (tests/public)",
    "goal_web.show_goals": "a signed, expiring link per round of goal questions (tests/goals)",
    "goal_web.submit_goals": "a signed, expiring link per round of goal questions (tests/goals)",
    "operations.healthz": "public by design: says only that the process is up",
    "operations.readyz": "public by design: names failed checks, never a value (tests)",
    "operations.metrics_page": "counts only; a bearer token when one is set (tests)",
    "webhooks.inbound_sms": "Twilio's request signature (tests/webhooks)",
    "webhooks.status_callback": "Twilio's request signature (tests/webhooks)",
    "voice.call_answered": "Twilio's request signature (tests/webhooks)",
    "voice.survey_answer": "Twilio's request signature (tests/webhooks)",
    "voice.reminder_menu": "Twilio's request signature (tests/webhooks)",
    "voice.goal_answer": "Twilio's request signature (tests/goals)",
    "api_reference.openapi_json": "public: describes the API, holds no data (tests/api)",
    "api_reference.reference": "public: describes the API, holds no data (tests/api)",
    "public_page.organisation": "public: published figures only (tests/yousaid)",
    "public_page.clinic": "public: published figures only (tests/yousaid)",
    "public_page.clinic_poster": "public: published figures only (tests/yousaid)",
    "public_page.open_data_json": "public: published figures only (tests/yousaid)",
    "public_page.open_data_csv": "public: published figures only (tests/yousaid)",
}
#: Workspace pages anyone may open: they show no clinic data.
OPEN_PAGES = {
    "staff_auth.sign_in",
    "staff_auth.second_factor",
    "staff_auth.enrol",
    "staff_auth.welcome",
    "staff_auth.sign_out",
}


@dataclass
class North:
    """The clinic under test and its rows."""

    clinic_id: int
    patient_id: int
    appointment_id: int
    outbound_id: int
    inbound_id: int


#: A value for each route argument, naming a row of the clinic under test.
ARGUMENTS: dict[str, Callable[[North], object]] = {
    "slug": lambda north: "north",
    "secret": lambda north: "not-a-link",
    "survey": lambda north: "fft",
    "period": lambda north: "2026-03",
    "patient_id": lambda north: north.patient_id,
    "appointment_id": lambda north: north.appointment_id,
    "message_id": lambda north: north.outbound_id,
    "inbound_id": lambda north: north.inbound_id,
    "clinic_id": lambda north: north.clinic_id,
    "name": lambda north: "reminder",
    "locale": lambda north: "cy",
    "user_id": lambda north: _north_staff(north).id,
    "grant_id": lambda north: _north_staff(north).grants[0].id,
    "token_id": lambda north: _north_token(north),
    "run_id": lambda north: _north_import(north),
    "chart": lambda north: "dna",
    "experiment_id": lambda north: _north_experiment(north),
    "figure": lambda north: "boundary",
    "goal_id": lambda north: _north_goal(north),
    "report_id": lambda north: _north_report(north),
    "external_id": lambda north: "NORTH-SECRET-1",  # the PAS's identifier (the API's reads)
    "subscription_id": lambda north: _north_subscription(north),
    "entry_id": lambda north: _north_entry(north),
    "comment_id": lambda north: _north_comment(north),
    "quote_id": lambda north: _north_quote(north),
}


def _north_staff(north: North) -> StaffUser:
    """A receptionist of the clinic under test only (made the first time it is asked for)."""
    email = "north-only@example.nhs.uk"
    found = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    if found is None:
        accounts.invite(email, "trust", Role.RECEPTIONIST, ["north"], get_runtime().clock, SYSTEM)
        found = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    assert found is not None
    return found


def _north_token(north: North) -> int:
    """An API token of the clinic under test (made the first time it is asked for)."""
    found = db.session.scalar(select(ApiToken.id).where(ApiToken.label == "north isolation"))
    if found is None:
        clock = get_runtime().clock
        found = create_token(label="north isolation", clinic_id=north.clinic_id, clock=clock).id
    return found


def _north_subscription(north: North) -> int:
    """An event subscription of the clinic under test (made the first time it is asked for)."""
    found = db.session.scalar(
        select(Subscription.id).where(Subscription.clinic_id == north.clinic_id)
    )
    if found is None:
        clinic = db.session.get(Clinic, north.clinic_id)
        new = NewSubscription("https://north.example.nhs.uk/hooks", ["patient.opted_out"])
        found = subscribe(
            clinic, new, SYSTEM, get_runtime().clock.now(), allow_loopback_http=False
        )[0].id
    return found


def _north_report(north: North) -> int:
    """A board report a staff member of the clinic under test asked for (made the first
    time it is asked for)."""
    staff = _north_staff(north)
    found = db.session.scalar(select(BoardReportRun.id).where(BoardReportRun.user_id == staff.id))
    if found is None:
        run = BoardReportRun(
            organisation_id=db.session.get(Clinic, north.clinic_id).organisation_id,
            user_id=staff.id,
            month=datetime(2026, 2, 1, tzinfo=UTC).date(),
            locale="en",
            reach={"attendance": [north.clinic_id]},
            state=ReportState.FAILED,
            error="for the isolation tests",
            created_at=get_runtime().clock.now(),
        )
        db.session.add(run)
        db.session.commit()
        found = run.id
    return found


def _north_import(north: North) -> int:
    """An import of the clinic under test, its file named after the patient (made the
    first time it is asked for)."""
    found = db.session.scalar(select(ImportRun.id).where(ImportRun.clinic_id == north.clinic_id))
    if found is None:
        run = ImportRun(
            clinic_id=north.clinic_id,
            user_id=_north_staff(north).id,
            kind=ImportKind.PATIENTS,
            file_name="Quartermain.csv",
            file_bytes=1,
            strict=False,
            state=ImportState.IMPORTED,
            report="Quartermain.csv:2: phone: premium rate number not accepted",
            problems=1,
            created_at=get_runtime().clock.now(),
        )
        db.session.add(run)
        db.session.commit()
        found = run.id
    return found


def _north_experiment(north: North) -> int:
    """A running wording experiment of the clinic under test (made the first time it is
    asked for)."""
    found = find_experiment("north-wording")
    if found is None:
        definition = {
            "slug": "north-wording",
            "clinics": ["north"],
            "starts_at": "2026-03-01",
            "baseline": 0.111,
            "min_difference": 0.027,
            "arms": [
                {"name": "A"},
                {"name": "B", "reminder": {"en": "%(clinic)s: %(date)s at %(time)s."}},
            ],
        }
        found = create_experiment(parse_definition(definition), get_runtime().clock)
    return found.id


def _north_goal(north: North) -> int:
    """A goal of the clinic under test's patient, in words that name someone (made the
    first time it is asked for)."""
    found = db.session.scalar(select(Goal.id).where(Goal.patient_id == north.patient_id))
    if found is None:
        given = GoalInput("Swim with Zebedee again", "en", score=4)
        found = open_goal(north.patient_id, given, SYSTEM, get_runtime().clock).id
    return found


def _north_entry(north: North) -> int:
    """A "you said, we did" entry of the clinic under test (made the first time)."""
    found = db.session.scalar(
        select(YouSaidEntry.id).where(YouSaidEntry.clinic_id == north.clinic_id)
    )
    if found is None:
        clinic = db.session.get(Clinic, north.clinic_id)
        assert clinic is not None
        given = EntryInput("NORTH-SECRET-1: a quieter room", "We made one", EntryStatus.DONE)
        now = get_runtime().clock.now()
        found = create_entry(clinic.organisation_id, clinic.id, given, SYSTEM, now).id
    return found


def _north_comment(north: North) -> int:
    """A free-text answer of the clinic under test to code or quote (made the first time)."""
    found = db.session.scalar(
        select(ThemeComment.id).where(ThemeComment.clinic_id == north.clinic_id)
    )
    if found is None:
        clinic = db.session.get(Clinic, north.clinic_id)
        assert clinic is not None
        comment = ThemeComment(
            organisation_id=clinic.organisation_id,
            clinic_id=clinic.id,
            source=CommentSource.SURVEY,
            period="2026-03",
            locale="en",
            collected_at=get_runtime().clock.now(),
        )
        db.session.add(comment)
        db.session.commit()
        found = comment.id
    return found


def _north_quote(north: North) -> int:
    """A quote of the clinic under test, published (made the first time)."""
    found = db.session.scalar(
        select(PublishedQuote.id).where(PublishedQuote.clinic_id == north.clinic_id)
    )
    if found is None:
        clinic = db.session.get(Clinic, north.clinic_id)
        assert clinic is not None
        quote = PublishedQuote(
            organisation_id=clinic.organisation_id,
            clinic_id=clinic.id,
            comment_id=_north_comment(north),
            text="NORTH-SECRET-1 was very kind",
            locale="en",
            period="2026-03",
            approved_at=get_runtime().clock.now(),
        )
        db.session.add(quote)
        db.session.commit()
        found = quote.id
    return found


def seed(world: World, clock: FixedClock) -> North:
    north = world.clinic("north", org="trust")
    world.clinic("south", org="trust")
    world.clinic("east", org="other")
    patient = world.patient(
        north,
        "NORTH-SECRET-1",
        phone="+447400999111",
        given_name="Zebedee",
        family_name="Quartermain",
    )
    appointment = world.book(
        north, "APPT-1", "NORTH-SECRET-1", datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    )
    outbound = db.session.scalar(
        select(OutboundMessage).where(OutboundMessage.patient_id == patient.id)
    )
    assert outbound is not None
    outbound.body = SECRET_BODY
    inbound = InboundMessage(
        provider_sid="SM" + "9" * 32,
        clinic_id=north.id,
        patient_id=patient.id,
        from_number=patient.phone,
        to_number=north.sender,
        body=SECRET_BODY,
        state="flagged",
        flag_reason="not_understood",
        received_at=clock.now(),
    )
    db.session.add(inbound)
    db.session.commit()
    return North(north.id, patient.id, appointment.id, outbound.id, inbound.id)


def fingerprint() -> str:
    """A digest of the clinic's personal data and messages: equal before and after means
    nothing was changed."""
    rows: list[Any] = []
    for model in (Patient, OutboundMessage, InboundMessage):
        for row in db.session.scalars(select(model).order_by(model.id)):
            rows.append(sorted((k, str(v)) for k, v in vars(row).items() if not k.startswith("_")))
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def url_for_rule(app: Flask, rule: Rule, north: North) -> str:
    missing = sorted(set(rule.arguments) - set(ARGUMENTS))
    assert not missing, f"{rule.endpoint}: no value for {missing}; add them to ARGUMENTS"
    values = {name: ARGUMENTS[name](north) for name in rule.arguments}
    with app.test_request_context():
        return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def readable(answer: TestResponse) -> str:
    """What a response shows a reader: a PDF's text, anything else as text."""
    if answer.mimetype == "application/pdf":
        reader = PdfReader(io.BytesIO(answer.get_data()))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    return answer.get_data(as_text=True)
