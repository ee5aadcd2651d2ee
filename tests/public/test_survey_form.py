"""The survey form through the Flask test client, on real PostgreSQL: languages,
accessibility, one submission per link, required answers, skip logic and versions.

Links come from `invitations.open_session` as the dispatcher makes them; answers are read
back from the database.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.core.clock import FixedClock
from app.extensions import db
from app.public.survey_form import FORM_FIELD
from app.surveys import texts
from app.surveys.models import SessionState, SurveyAnswer
from tests.public.web_survey import (
    form_token_in,
    invite_web,
    parse_page,
    session_row,
    stored_answers,
    submit,
    use_survey,
)
from tests.surveys.test_web_form import CHECKUP

PHONE = "+447400123456"


# -- the form ---------------------------------------------------------------------------


@pytest.mark.usefixtures("drafts")
@pytest.mark.parametrize(
    ("locale", "lang", "direction", "question", "submit"),
    [
        ("en", "en", "ltr", texts.FFT_QUESTION, "Send my answers"),
        (
            "pl",
            "pl",
            "ltr",
            "Ogólnie rzecz biorąc, jak oceniasz naszą usługę?",
            "Wyślij odpowiedzi",
        ),
        ("ar", "ar", "rtl", "بشكل عام، كيف كانت تجربتك مع خدمتنا؟", "إرسال إجاباتي"),
    ],
)
def test_the_form_is_in_the_patients_language(
    app: Flask,
    web: FlaskClient,
    clinic_id: int,
    clock: FixedClock,
    locale: str,
    lang: str,
    direction: str,
    question: str,
    submit: str,
) -> None:
    invite = invite_web(app, clinic_id, clock, locale=locale)
    response = web.get(invite.path)
    assert response.status_code == 200
    page = parse_page(response)
    assert page.one("html") == {"lang": lang, "dir": direction}
    assert page.one("meta", name="viewport")["content"] == "width=device-width, initial-scale=1"
    assert question in page.text
    assert submit in page.text
    assert session_row(invite.session_id).locale == locale


def test_the_form_is_accessible(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    use_survey(clinic_id, CHECKUP, clock)
    invite = invite_web(app, clinic_id, clock)
    page = parse_page(web.get(invite.path))
    fieldsets = page.all("fieldset")
    assert [f["id"] for f in fieldsets] == [
        "q-interpreter",
        "q-interpreter_ok",
        "q-overall",
        "q-why_poor",
        "q-visits",
    ]
    assert len([tag for tag, _ in page.tags if tag == "legend"]) == len(fieldsets)
    inputs = [i for i in page.all("input") if i.get("type") != "hidden"]
    inputs += page.all("textarea")
    labelled = {label["for"] for label in page.all("label")}
    assert inputs, "no inputs"
    assert all(i["id"] in labelled for i in inputs)
    radios = page.all("input", type="radio")
    assert {r["name"] for r in radios} == {"interpreter", "interpreter_ok", "overall"}
    assert [r["value"] for r in radios if r["name"] == "interpreter_ok"] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "dont_know",
    ]
    number = page.one("input", id="q-visits-1")
    assert (number["name"], number["type"], number["inputmode"]) == ("visits", "text", "numeric")
    assert page.one("textarea")["name"] == "why_poor"
    assert "Don't know" in page.text
    assert "(optional)" in page.text
    assert [link["href"] for link in page.all("link", rel="stylesheet")] == [
        "/static/nhsuk/nhsuk-frontend.min.css",
        "/static/wesaid/nhsuk-additions.css",
    ]
    # Scripts are files from /static only, never inline (the CSP allows no inline script).
    assert page.all("script") == [{"type": "module", "src": "/static/wesaid/nhsuk-init.js"}]
    assert 'style="' not in web.get(invite.path).get_data(as_text=True)


@pytest.mark.usefixtures("drafts")
def test_a_question_in_another_language_than_the_page_is_marked(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    survey = {
        "slug": "urdu-text",
        "title": {"en": "Your visit"},
        "questions": [
            {
                "id": "overall",
                "type": "yes_no",
                "text": {"en": "Was it good?", "ur": "کیا یہ اچھا تھا؟"},
            }
        ],
    }
    use_survey(clinic_id, survey, clock)
    # No Urdu catalogue: the page's own words are English, the question is Urdu.
    invite = invite_web(app, clinic_id, clock, locale="ur")
    page = parse_page(web.get(invite.path))
    assert page.one("html") == {"lang": "en", "dir": "ltr"}
    assert page.one("span", lang="ur") == {"lang": "ur", "dir": "rtl"}
    assert "کیا یہ اچھا تھا؟" in page.text


def test_the_page_shows_no_personal_data_and_sets_no_cookie(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    invite = invite_web(app, clinic_id, clock)
    response = web.get(invite.path)
    html = response.get_data(as_text=True)
    assert PHONE not in html
    assert PHONE[1:] not in html
    assert "Set-Cookie" not in response.headers


# -- submitting ------------------------------------------------------------------------


def test_one_submission_is_one_response(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    invite = invite_web(app, clinic_id, clock)
    response = submit(web, invite, fft="good", comment="The nurse explained everything")
    assert response.status_code == 200
    assert "Thank you for your answers. North Clinic reads every one." in parse_page(response).text
    assert stored_answers(invite.session_id) == {
        "fft": ("answered", "good"),
        "comment": ("answered", "The nurse explained everything"),
    }
    session = session_row(invite.session_id)
    assert session.state is SessionState.COMPLETED
    rows = db.session.scalars(select(SurveyAnswer)).all()
    assert {(r.channel, r.raw_locale) for r in rows} == {("web", "en")}
    assert [r.raw_text for r in rows if r.question_id == "comment"] == [
        "The nurse explained everything"
    ]


def test_a_second_submission_or_visit_is_already_answered(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    invite = invite_web(app, clinic_id, clock)
    token = form_token_in(web.get(invite.path))
    first = web.post(invite.path, data={FORM_FIELD: token, "fft": "very_good"})
    assert first.status_code == 200
    again = web.post(invite.path, data={FORM_FIELD: token, "fft": "very_poor"})
    assert again.status_code == 409
    assert "Already answered" in parse_page(again).text
    assert web.get(invite.path).status_code == 409
    assert stored_answers(invite.session_id) == {
        "fft": ("answered", "very_good"),
        "comment": ("skipped", None),
    }


def test_a_required_question_left_empty_comes_back_with_an_error(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    invite = invite_web(app, clinic_id, clock)
    response = submit(web, invite, comment="Friendly reception")
    assert response.status_code == 422
    page = parse_page(response)
    assert page.one("div", role="alert")
    summary = page.one("div", **{"data-module": "nhsuk-error-summary"})
    assert (summary["tabindex"], summary["autofocus"]) == ("-1", "")
    assert page.one("a", href="#q-fft-1")
    assert page.one("fieldset", id="q-fft")["aria-describedby"] == "q-fft-error"
    assert page.one("span", id="q-fft-error")
    assert "Choose one answer." in page.text
    # The other answer is kept, and nothing is stored yet.
    assert "Friendly reception" in page.text
    assert stored_answers(invite.session_id) == {}
    assert session_row(invite.session_id).state is SessionState.OPEN
    # Answering now works.
    fixed = web.post(invite.path, data={FORM_FIELD: form_token_in(response), "fft": "neither"})
    assert fixed.status_code == 200


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"fft": "excellent"}, "q-fft", "Choose one answer."),
        (
            {"interpreter": "no", "overall": "poor", "visits": "25"},
            "q-visits",
            "Enter a whole number from 0 to 20.",
        ),
        (
            {"interpreter": "no", "overall": "poor", "why_poor": "w" * 1601, "visits": "2"},
            "q-why_poor",
            "Your answer can be up to 1600 characters long.",
        ),
    ],
)
def test_a_value_that_is_not_an_answer_comes_back(
    app: Flask,
    web: FlaskClient,
    clinic_id: int,
    clock: FixedClock,
    answers: dict[str, str],
    field: str,
    message: str,
) -> None:
    if field != "q-fft":
        use_survey(clinic_id, CHECKUP, clock)
    invite = invite_web(app, clinic_id, clock)
    response = submit(web, invite, **answers)
    assert response.status_code == 422
    page = parse_page(response)
    assert page.one("span", id=f"{field}-error")
    assert message in " ".join(page.text)
    if field == "q-visits":
        number = page.one("input", id="q-visits-1")
        assert (number["value"], number["aria-invalid"]) == ("25", "true")
        assert number["aria-describedby"] == "q-visits-hint q-visits-error"
        assert page.one("input", id="q-overall-2").get("checked") == ""
    if field == "q-why_poor":  # shown back whole, to be shortened: nothing is lost
        assert "w" * 1601 in response.get_data(as_text=True)
    assert stored_answers(invite.session_id) == {}


def test_an_answer_with_a_nul_is_stored_with_a_mark_where_it_was(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    invite = invite_web(app, clinic_id, clock)
    response = submit(web, invite, fft="poor", comment="waited\x00 an hour")
    assert response.status_code == 200
    assert stored_answers(invite.session_id)["comment"] == ("answered", "waited\ufffd an hour")


def test_skip_logic_stores_only_the_answered_path(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    use_survey(clinic_id, CHECKUP, clock)
    invite = invite_web(app, clinic_id, clock)
    response = submit(
        web,
        invite,
        interpreter="no",
        interpreter_ok="4",  # only asked after "yes"
        overall="good",
        why_poor="Nothing",  # only asked after "poor"
        visits="3",  # "good" ends the survey
    )
    assert response.status_code == 200
    assert stored_answers(invite.session_id) == {
        "interpreter": ("answered", "no"),
        "overall": ("answered", "good"),
    }


def test_answers_keep_the_version_the_session_was_opened_with(
    app: Flask, web: FlaskClient, clinic_id: int, clock: FixedClock
) -> None:
    first = use_survey(clinic_id, CHECKUP, clock)
    invite = invite_web(app, clinic_id, clock)
    changed = {**CHECKUP, "title": "Your visit to us"}
    second = use_survey(clinic_id, changed, clock)
    assert second != first
    response = submit(web, invite, interpreter="yes", interpreter_ok="5", overall="good")
    assert response.status_code == 200
    db.session.expire_all()
    rows = db.session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.session_id == invite.session_id)
    ).all()
    assert len(rows) == 3
    assert {row.survey_version_id for row in rows} == {first}
