"""The survey web form with hostile answers: the answers are stored whole (thanks, 200)
or the form comes back with its problems and nothing stored; never a 500."""

from __future__ import annotations

import itertools

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from app.clinics.queries import find_clinic_by_slug
from app.core.clock import FixedClock
from app.surveys.models import SessionState
from tests.properties.values import nasty_text
from tests.public.web_survey import (
    add_clinic,
    form_token_in,
    invite_web,
    serve_survey_pages,
    session_row,
    stored_answers,
)

_PHONES = (f"+4474001{n:05d}" for n in itertools.count())
ANSWER = st.one_of(
    st.sampled_from(["very_good", "good", "dont_know", "skip", "1"]),
    nasty_text,
    st.text(min_size=1590, max_size=1610),
)


def _clinic(clock: FixedClock) -> int:
    found = find_clinic_by_slug("north")
    return found.id if found is not None else add_clinic(clock)


@pytest.mark.storage
@given(
    fft=st.one_of(st.sampled_from(["very_good", "poor", "dont_know"]), ANSWER, st.none()),
    comment=st.one_of(st.sampled_from(["a\x00b", "\x00"]), ANSWER, st.none()),
    extra=st.dictionaries(nasty_text, nasty_text, max_size=2),
)
def test_a_submission_is_stored_whole_or_sent_back(
    app: Flask,
    clock: FixedClock,
    fft: str | None,
    comment: str | None,
    extra: dict[str, str],
) -> None:
    web: FlaskClient = serve_survey_pages(app).test_client()
    clinic_id = _clinic(clock)
    invite = invite_web(app, clinic_id, clock, phone=next(_PHONES))
    form = {**extra, "_form": form_token_in(web.get(invite.path))}
    form |= {name: value for name, value in (("fft", fft), ("comment", comment)) if value}
    response = web.post(invite.path, data=form)
    assert response.status_code in (200, 400, 413, 422)
    answers = stored_answers(invite.session_id)
    if response.status_code == 200:
        assert session_row(invite.session_id).state is SessionState.COMPLETED
        assert "fft" in answers
    else:
        assert answers == {}
        assert session_row(invite.session_id).state is SessionState.OPEN
