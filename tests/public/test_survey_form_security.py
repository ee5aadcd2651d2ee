"""What the survey pages refuse and protect, through the Flask test client on real
PostgreSQL: stale forms, expired, closed and tampered links, headers, rate limits, logs.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.core.clock import FixedClock
from app.extensions import db
from app.public.survey_form import FORM_FIELD, SECURITY_HEADERS
from app.surveys import service
from app.surveys.links import form_token, link_signer
from app.surveys.models import SessionState
from tests.public.web_survey import (
    WebInvite,
    form_token_in,
    invite_web,
    parse_page,
    session_row,
    stored_answers,
    submit,
)

PHONE = "+447400123456"


@pytest.mark.parametrize("token", [None, "", "forged", "from-another-session"])
def test_a_form_without_its_token_is_sent_back_with_the_answers(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock, token: str | None
) -> None:
    invite = invite_web(app, clinic_id, clock)
    data = {"fft": "good", "comment": "Clean and calm"}
    if token == "from-another-session":
        token = form_token(app.config["SECRET_KEY"], invite.session_id + 1, clock=clock)
    if token is not None:
        data[FORM_FIELD] = token
    response = web.post(invite.path, data=data)
    assert response.status_code == 400
    page = parse_page(response)
    assert page.one("div", role="alert")
    assert page.one("input", id="q-fft-2").get("checked") == ""
    assert "Clean and calm" in page.text
    assert stored_answers(invite.session_id) == {}


def test_a_form_left_open_too_long_must_be_sent_again(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    invite = invite_web(app, clinic_id, clock)
    token = form_token_in(web.get(invite.path))
    clock.advance(timedelta(hours=25))  # the session lasts 48 hours; a form token one day
    response = web.post(invite.path, data={FORM_FIELD: token, "fft": "good"})
    assert response.status_code == 400
    assert "Please check your answers and send them again." in " ".join(parse_page(response).text)
    retry = web.post(invite.path, data={FORM_FIELD: form_token_in(response), "fft": "good"})
    assert retry.status_code == 200


# -- links that no longer work -----------------------------------------------------------


@pytest.mark.usefixtures("drafts")
def test_an_expired_link_says_so_in_the_patients_language(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    app.config["SURVEY_LINK_MAX_AGE_SECONDS"] = 3600
    invite = invite_web(app, clinic_id, clock, locale="pl")
    clock.advance(timedelta(hours=2))  # the link is too old; the session is still open
    assert session_row(invite.session_id).state is SessionState.OPEN
    for response in (web.get(invite.path), web.post(invite.path, data={"fft": "good"})):
        assert response.status_code == 410
        page = parse_page(response)
        assert page.one("html") == {"lang": "pl", "dir": "ltr"}
        assert "Ta ankieta jest już zamknięta" in page.text
    assert stored_answers(invite.session_id) == {}


def _past_lifetime(invite: WebInvite, clock: FixedClock) -> None:
    clock.advance(timedelta(hours=49))


def _swept(invite: WebInvite, clock: FixedClock) -> None:
    clock.advance(timedelta(hours=49))
    assert service.expire_sessions(clock.now()) == 1
    clock.set(clock.now() - timedelta(hours=48))  # even back in time, an expired session stays so


def _opted_out(invite: WebInvite, clock: FixedClock) -> None:
    session = session_row(invite.session_id)
    service.close_for_opt_out(session.patient_id, session.clinic_id, clock.now())
    db.session.commit()


@pytest.mark.parametrize("close", [_past_lifetime, _swept, _opted_out])
def test_a_closed_session_is_gone(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock, close: Any
) -> None:
    invite = invite_web(app, clinic_id, clock)
    token = form_token_in(web.get(invite.path))
    close(invite, clock)
    assert web.get(invite.path).status_code == 410
    response = web.post(invite.path, data={FORM_FIELD: token, "fft": "good"})
    assert response.status_code == 410
    assert "This survey has closed" in parse_page(response).text
    assert stored_answers(invite.session_id) == {}


def _changed(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda invite, app, clock: _changed(invite.token), id="changed"),
        pytest.param(lambda invite, app, clock: invite.token[:20], id="truncated"),
        pytest.param(lambda invite, app, clock: str(invite.session_id), id="bare-id"),
        pytest.param(
            lambda invite, app, clock: link_signer("another-key-entirely-0123456789ab").dumps(
                {"s": invite.session_id}
            ),
            id="other-key",
        ),
        pytest.param(
            lambda invite, app, clock: link_signer(app.config["SECRET_KEY"], clock=clock).dumps(
                {"s": invite.session_id + 1000}
            ),
            id="unknown-session",
        ),
        pytest.param(
            lambda invite, app, clock: link_signer(app.config["SECRET_KEY"], clock=clock).dumps(
                {"s": 2**63}
            ),
            id="signed-id-past-any-column",
        ),
    ],
)
def test_a_tampered_or_unknown_link_is_not_found(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock, make: Any
) -> None:
    invite = invite_web(app, clinic_id, clock, locale="pl")
    token = make(invite, app, clock)
    for response in (web.get(f"/s/{token}"), web.post(f"/s/{token}", data={"fft": "good"})):
        assert response.status_code == 404
        page = parse_page(response)
        assert page.one("html") == {"lang": "en", "dir": "ltr"}
        assert "Link not recognised" in page.text
    assert stored_answers(invite.session_id) == {}


# -- headers, limits, logs ----------------------------------------------------------------


def test_every_page_sends_the_security_headers(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    invite = invite_web(app, clinic_id, clock)
    form = web.get(invite.path)
    responses = [
        form,
        web.post(invite.path, data={FORM_FIELD: form_token_in(form)}),  # 422
        web.post(invite.path, data={FORM_FIELD: form_token_in(form), "fft": "good"}),  # 200
        web.get(invite.path),  # 409
        web.get("/s/not-a-link"),  # 404
    ]
    assert [r.status_code for r in responses] == [200, 422, 200, 409, 404]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_the_public_pages_are_rate_limited(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    app.config["SURVEY_LINK_RATE_LIMIT"] = "3 per minute"
    invite = invite_web(app, clinic_id, clock)
    codes = [web.get(invite.path).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = web.get(invite.path)
    assert limited.status_code == 429
    assert "Please wait" in parse_page(limited).text
    assert limited.headers["Retry-After"] == "60"
    assert limited.headers["Referrer-Policy"] == "no-referrer"
    # The limit is per link: another patient's link still opens.
    other = invite_web(app, clinic_id, clock, phone="+447400123457")
    assert web.get(other.path).status_code == 200


def test_the_address_limit_covers_every_link(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    app.config["SURVEY_WEB_RATE_LIMIT"] = "2 per minute"
    codes = [web.get(f"/s/guess{n}").status_code for n in range(3)]
    assert codes == [404, 404, 429]


def test_logs_hold_no_token_number_or_answer(
    app: Flask,
    web: FlaskClient,
    clinic_id: int,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    invite = invite_web(app, clinic_id, clock)
    with caplog.at_level(logging.DEBUG):
        submit(web, invite, fft="poor", comment="Rude on the phone")
        web.get(invite.path)
        web.get(f"/s/{_changed(invite.token)}")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"session {invite.session_id}" in logged
    for secret in (invite.token, PHONE, "Rude on the phone"):
        assert secret not in logged


def test_the_invitation_carries_the_link(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    invite = invite_web(app, clinic_id, clock)
    assert f"https://wesaid.example.org/s/{invite.token} " in invite.body
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", invite.token)
    assert web.get(invite.path).status_code == 200
