"""The results API's POST: a new snapshot version only when the inputs changed, and only
for a survey and pathway that exist; names in the URL checked before any query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from app.clinics.models import Clinic
from app.clinics.service import create_clinic
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from app.extensions import db
from app.patients.models import Patient
from app.results import recording
from app.results import service as results
from app.results.models import ResultSnapshot
from app.surveys.models import SessionState, SurveySession
from app.surveys.service import current_version
from tests.conftest import START

PERIOD = f"{START:%Y-%m}"
SECRET = b"test-pseudonym-secret"
PEOPLE = [
    {"birth_year": 1950 + 10 * (i % 5), "sex": "FM"[i % 2], "imd": 1 + i % 5} for i in range(12)
]


def _clinic(slug: str, sender: str, clock: FixedClock, org: str = "trust") -> Clinic:
    return create_clinic(
        slug, name=slug.title(), timezone="Europe/London", sender=sender, clock=clock, org_slug=org
    )


def _invite(
    clinic: Clinic, clock: FixedClock, *, pathway: str | None = None, answer: int = 8
) -> list[int]:
    """Invite PEOPLE to the clinic's FFT; the first `answer` answer. Returns the sessions."""
    now = clock.now()
    version = current_version(clinic, "fft", now)
    assert version is not None
    sessions = []
    for index, person in enumerate(PEOPLE):
        patient = Patient(
            clinic_id=clinic.id,
            external_id=f"{clinic.slug}-{pathway}-{index}",
            phone=f"+44740{clinic.id:02d}{index:05d}",
            locale="en",
            birth_year=person["birth_year"],
            sex=person["sex"],
            imd_quintile=person["imd"],
            channel_preference="sms",
            created_at=now,
            updated_at=now,
        )
        db.session.add(patient)
        db.session.flush()
        session = SurveySession(
            clinic_id=clinic.id,
            patient_id=patient.id,
            survey_version_id=version.id,
            channel="sms",
            locale="en",
            state=SessionState.OPEN,
            current_question="fft",
            opened_at=now,
            expires_at=now + timedelta(hours=48),
            last_activity_at=now,
        )
        db.session.add(session)
        db.session.flush()
        recording.record_invitation(
            recording.Invitee(
                session.id, version.id, "fft", clinic.id, patient.id, pathway, session.channel
            ),
            now,
            SECRET,
        )
        if index < answer:
            _answer(session.id, "good" if index % 3 else "poor", now)
        sessions.append(session.id)
    db.session.commit()
    return sessions


def _answer(session_id: int, value: str, now: datetime) -> None:
    recording.record_response(
        session_id, [recording.GivenAnswer("fft", "answered", value, "en")], now
    )


def _snapshots() -> int:
    return int(db.session.scalar(select(func.count(ResultSnapshot.id))) or 0)


@pytest.fixture
def north(app: Flask, clock: FixedClock) -> Clinic:
    return _clinic("north", "+442071838750", clock)


@pytest.fixture
def auth(north: Clinic, clock: FixedClock) -> dict[str, str]:
    token = create_token(label="test", clinic_id=north.id, clock=clock).secret
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _url(survey: str = "fft", query: str = "") -> str:
    return f"/api/v1/clinics/north/results/{survey}/{PERIOD}{query}"


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements run meanwhile."""
    seen: list[str] = []

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", _record)


# -- versions ------------------------------------------------------------------------------


def test_a_new_version_only_when_the_inputs_changed(
    client: FlaskClient, north: Clinic, auth: dict[str, str], clock: FixedClock
) -> None:
    sessions = _invite(north, clock)
    first = client.post(_url(), headers=auth)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["version"] == 1
    again = client.post(_url(), headers=auth)
    assert again.status_code == 200  # nothing changed: the latest version, not a new one
    assert again.get_json() == first.get_json()
    assert _snapshots() == 1
    _answer(sessions[8], "very_good", clock.now() + timedelta(hours=1))
    db.session.commit()
    changed = client.post(_url(), headers=auth)
    assert changed.status_code == 201
    assert changed.get_json()["version"] == 2
    assert client.get(_url(), headers=auth).get_json()["version"] == 2
    assert _snapshots() == 2


def test_a_version_written_a_moment_ago_by_another_request_stands(
    app: Flask, north: Clinic, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two POSTs at once both find the inputs new; the second to commit answers the
    first one's version instead of failing."""
    _invite(north, clock)
    compute = results.compute_snapshot

    def _raced(*args: Any, **kwargs: Any) -> Any:
        compute(*args, **kwargs)  # the other request
        raise IntegrityError("INSERT", {}, Exception("duplicate version"))

    monkeypatch.setattr(results, "compute_snapshot", _raced)
    snapshot, created = results.refresh_snapshot("fft", "clinic", north.id, PERIOD, clock.now())
    assert (snapshot.version, created) == (1, False)


# -- what exists -----------------------------------------------------------------------------


def test_a_made_up_survey_is_not_found_and_writes_nothing(
    client: FlaskClient, north: Clinic, auth: dict[str, str], clock: FixedClock
) -> None:
    _invite(north, clock)
    for method in (client.post, client.get):
        response = method(_url("made-up"), headers=auth)
        assert response.status_code == 404
        assert "no survey of that name" in response.get_data(as_text=True)
        assert "made-up" not in response.get_data(as_text=True)  # never echoed
    assert _snapshots() == 0


def test_the_clinics_own_survey_needs_no_invitation_yet(
    client: FlaskClient, north: Clinic, auth: dict[str, str]
) -> None:
    assert north.survey_slug == "fft"
    assert client.get(_url(), headers=auth).status_code == 404  # nothing computed yet
    assert client.post(_url(), headers=auth).status_code == 201


def test_a_survey_another_clinic_ran_exists_for_the_organisation_only(
    client: FlaskClient, north: Clinic, auth: dict[str, str], clock: FixedClock
) -> None:
    south = _clinic("south", "+442071838751", clock)
    _invite(south, clock)
    north.survey_slug = "physio"  # north has moved on to a survey of its own
    db.session.commit()
    assert client.post(_url("fft"), headers=auth).status_code == 404
    assert client.post(_url("fft", "?scope=organisation"), headers=auth).status_code == 201
    elsewhere = _clinic("west", "+442071838752", clock, org="other-trust")
    _invite(elsewhere, clock)
    outside = client.post(_url("fft", "?scope=organisation"), headers=auth)
    assert outside.get_json()["scope_id"] == north.organisation_id


def test_a_pathway_never_seen_in_the_organisation_is_not_found(
    client: FlaskClient, north: Clinic, auth: dict[str, str], clock: FixedClock
) -> None:
    _invite(north, clock, pathway="physiotherapy")
    elsewhere = _clinic("west", "+442071838752", clock, org="other-trust")
    _invite(elsewhere, clock, pathway="podiatry")
    service = "?scope=service&pathway="
    made_up = client.post(_url("fft", service + "made-up"), headers=auth)
    assert made_up.status_code == 404
    assert "pathway" in made_up.get_data(as_text=True)
    assert client.post(_url("fft", service + "podiatry"), headers=auth).status_code == 404
    seen = client.post(_url("fft", service + "physiotherapy"), headers=auth)
    assert seen.status_code == 201
    assert seen.get_json()["pathway"] == "physiotherapy"
    assert _snapshots() == 1


# -- names in the URL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "",  # the survey name is the bad one
        "?scope=service&pathway=physio%00therapy",
        "?scope=service&pathway=" + "p" * 65,
        "?scope=service&pathway=",
        "?scope=service&pathway=line%0Abreak",
    ],
)
def test_bad_names_are_refused_before_any_query(
    client: FlaskClient, auth: dict[str, str], query: str
) -> None:
    survey = "f%00t" if not query else "fft"
    with _statements() as seen:
        response = client.post(_url(survey, query), headers=auth)
    assert response.status_code == 400
    assert seen == []
    assert "printable" in response.get_data(as_text=True)


@pytest.mark.parametrize("survey", ["f%00t", "x" * 65, "tab%09bed", "%7F"])
def test_bad_survey_names_are_refused(
    client: FlaskClient, auth: dict[str, str], survey: str
) -> None:
    for method in (client.get, client.post):
        assert method(_url(survey), headers=auth).status_code == 400
    assert _snapshots() == 0


def test_a_name_of_64_characters_is_a_name(client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.get(_url("x" * 64), headers=auth).status_code == 404
