"""Test data and page reading for the survey web channel.

`invite_web` goes through the real services: a clinic, a patient whose channel is
"web", an attended appointment, the invitation the outcome plans, and the session
opened with a signed link. `draft_catalogues` installs small Polish and Arabic
catalogues (test data, not the project's translations) so that pages can be checked
in those languages before the real catalogues exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app import web_assets
from app.appointments.models import Appointment, AppointmentStatus
from app.clinics.models import Clinic
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.messaging import compose
from app.messaging.dispatcher import outgoing
from app.messaging.models import OutboundMessage
from app.messaging.registry import ComposeContext
from app.patients.models import Patient
from app.patients.service import import_patient_rows
from app.public.survey_form import FORM_FIELD, bp, init_web
from app.surveys import invitations, service, texts, web_texts
from app.surveys.models import SurveyAnswer, SurveySession

CLINIC_SENDER = "+442071838750"
BASE_URL = "https://wesaid.example.org"
_LINK = re.compile(r"/s/([A-Za-z0-9_.-]+)")


@dataclass(frozen=True)
class WebInvite:
    session_id: int
    patient_id: int
    token: str
    #: The SMS text that carried the link.
    body: str

    @property
    def path(self) -> str:
        return f"/s/{self.token}"


def serve_survey_pages(app: Flask) -> Flask:
    """The app with the survey pages, whether or not create_app registers them yet."""
    web_assets.init_app(app)
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    init_web(app)
    return app


def add_clinic(clock: FixedClock, slug: str = "north", default_locale: str = "en") -> int:
    clinic = create_clinic(
        slug,
        name=f"{slug.title()} Clinic",
        timezone="Europe/London",
        sender=CLINIC_SENDER,
        clock=clock,
        default_locale=default_locale,
    )
    return clinic.id


def use_survey(clinic_id: int, definition: Mapping[str, Any], clock: FixedClock) -> int:
    """Make `definition` the clinic's survey; returns its version id."""
    version = service.register_definition(definition, clinic_id, clock.now())
    clinic = db.session.get(Clinic, clinic_id)
    assert clinic is not None
    clinic.survey_slug = version.slug
    db.session.commit()
    return version.id


def invite_web(
    app: Flask,
    clinic_id: int,
    clock: FixedClock,
    phone: str = "+447400123456",
    locale: str = "en",
    base_url: str = BASE_URL,
) -> WebInvite:
    """A web patient who attended an hour ago, invited now with a signed link."""
    external_id = "W" + phone[-6:]
    row = {"external_id": external_id, "phone": phone, "locale": locale, "channel": "web"}
    report = import_patient_rows(clinic_id, [row], source="test", strict=True, clock=clock)
    assert not report.errors, report.errors
    patient = db.session.scalars(
        select(Patient).where(Patient.clinic_id == clinic_id, Patient.external_id == external_id)
    ).one()
    assert patient.channel_preference == "web"
    now = clock.now()
    appointment = Appointment(
        clinic_id=clinic_id,
        patient_id=patient.id,
        external_id="A" + external_id,
        starts_at=now - timedelta(hours=1),
        status=AppointmentStatus.ATTENDED,
        outcome_recorded_at=now,
        created_at=now - timedelta(days=3),
        updated_at=now,
    )
    db.session.add(appointment)
    db.session.flush()
    planned = invitations.plan_invitation(appointment.id, clock)
    assert planned.message_id is not None, planned.reason
    session_id, body = open_invitation(
        planned.message_id, clock, base_url, app.config["SECRET_KEY"]
    )
    db.session.commit()
    match = _LINK.search(body)
    assert match is not None, "the invitation carries no link"
    return WebInvite(session_id, patient.id, match.group(1), body)


def open_invitation(
    message_id: int,
    clock: FixedClock,
    base_url: str,
    secret_key: str = "test-key",  # noqa: S107
) -> tuple[int, str]:
    """Compose a planned invitation as the dispatcher does when it sends it: the session
    it opened, and the body. Does not commit."""
    context = ComposeContext(clock.now(), clock, base_url, secret_key)
    draft = invitations.compose_invitation(outgoing(message_id), context)
    message = db.session.get(OutboundMessage, message_id)
    assert message is not None
    assert message.survey_session_id is not None
    return message.survey_session_id, draft.body


# -- draft catalogues (test data) --------------------------------------------------------

_POLISH = {
    texts.FFT_TITLE: "Test Przyjaciół i Rodziny",
    texts.FFT_QUESTION: "Ogólnie rzecz biorąc, jak oceniasz naszą usługę?",
    texts.FFT_VERY_GOOD: "Bardzo dobrze",
    texts.FFT_GOOD: "Dobrze",
    texts.FFT_NEITHER: "Ani dobrze, ani źle",
    texts.FFT_POOR: "Źle",
    texts.FFT_VERY_POOR: "Bardzo źle",
    texts.FFT_DONT_KNOW: "Nie wiem",
    texts.FFT_FOLLOW_UP: "Co było dobre, a co możemy poprawić?",
    web_texts.SUBMIT: "Wyślij odpowiedzi",
    web_texts.OPTIONAL: "opcjonalne",
    web_texts.ERROR_CHOOSE: "Wybierz jedną odpowiedź.",
    web_texts.THANKS_TITLE: "Dziękujemy",
    web_texts.ANSWERED_TITLE: "Już udzielono odpowiedzi",
    web_texts.CLOSED_TITLE: "Ta ankieta jest już zamknięta",
}
_ARABIC = {
    texts.FFT_TITLE: "اختبار الأصدقاء والعائلة",
    texts.FFT_QUESTION: "بشكل عام، كيف كانت تجربتك مع خدمتنا؟",
    texts.FFT_VERY_GOOD: "جيدة جدًا",
    texts.FFT_GOOD: "جيدة",
    texts.FFT_NEITHER: "لا جيدة ولا سيئة",
    texts.FFT_POOR: "سيئة",
    texts.FFT_VERY_POOR: "سيئة جدًا",
    texts.FFT_DONT_KNOW: "لا أعرف",
    texts.FFT_FOLLOW_UP: "ما الذي كان جيدًا، وما الذي يمكننا تحسينه؟",
    web_texts.SUBMIT: "إرسال إجاباتي",
    web_texts.OPTIONAL: "اختياري",
    web_texts.ERROR_CHOOSE: "اختر إجابة واحدة.",
    web_texts.THANKS_TITLE: "شكرًا لك",
    web_texts.ANSWERED_TITLE: "تمت الإجابة بالفعل",
    web_texts.CLOSED_TITLE: "تم إغلاق هذا الاستبيان",
}
DRAFTS: dict[str, dict[str, str]] = {"pl": _POLISH, "ar": _ARABIC}


def _clear_catalogue_caches() -> None:
    compose.catalogue.cache_clear()
    compose.translator.cache_clear()


@contextmanager
def draft_catalogues(folder: Path) -> Iterator[None]:
    """Serve the DRAFTS catalogues (and no others) from `folder` while the block runs."""
    for locale, messages in DRAFTS.items():
        catalog = Catalog(locale=locale)
        for msgid, msgstr in messages.items():
            catalog.add(msgid, msgstr)
        target = folder / locale / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / f"{compose.DOMAIN}.po").open("wb") as stream:
            write_po(stream, catalog)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compose, "TRANSLATIONS_DIR", folder)
        _clear_catalogue_caches()
        try:
            yield
        finally:
            _clear_catalogue_caches()


# -- reading pages and answers ----------------------------------------------------------


class PageParts(HTMLParser):
    """The parts of a page the tests look at: tags with their attributes, and text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    def all(self, tag: str, **where: str) -> list[dict[str, str]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(k) == v for k, v in where.items())
        ]

    def one(self, tag: str, **where: str) -> dict[str, str]:
        [found] = self.all(tag, **where)
        return found


def parse_page(response: TestResponse) -> PageParts:
    return PageParts(response.get_data(as_text=True))


def form_token_in(response: TestResponse) -> str:
    return parse_page(response).one("input", name=FORM_FIELD)["value"]


def submit(web: FlaskClient, invite: WebInvite, **answers: str) -> TestResponse:
    """Open the form, then send it with `answers`, as a browser would."""
    token = form_token_in(web.get(invite.path))
    return web.post(invite.path, data={FORM_FIELD: token, **answers})


def stored_answers(session_id: int) -> dict[str, tuple[str, str | None]]:
    """The session's stored answers: question id → (status, value)."""
    db.session.expire_all()
    rows = db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.session_id == session_id))
    return {row.question_id: (row.status, row.value) for row in rows}


def session_row(session_id: int) -> SurveySession:
    db.session.expire_all()
    found = db.session.get(SurveySession, session_id)
    assert found is not None
    return found
