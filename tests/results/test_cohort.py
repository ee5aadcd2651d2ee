"""A snapshot reads its cohort as columns (app.results.cohort); its figures are those the
summary gives for the same invitations and responses loaded as objects, on PostgreSQL
and on SQLite, whatever the answers hold: every status, a second version of the survey
whose question changed kind, levels nobody expects, an empty FFT answer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.clinics.models import Clinic
from app.clinics.service import create_clinic
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.extensions import db
from app.patients.models import Patient
from app.results import service as results
from app.results import sources
from app.results.models import ResultSnapshot, SurveyInvitation, SurveyResponse
from app.results.summary import json_safe, summarise
from app.surveys.models import SessionState, SurveySession
from app.surveys.service import register_definition
from tests.results.cohorts import VISIT_SURVEY

PERIOD = "2026-03"
INVITED_AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
#: The visit survey's next version: "waited" became a yes/no question, "pain" is gone.
CHANGED = VISIT_SURVEY | {
    "questions": [
        q if q["id"] != "waited" else {"id": "waited", "type": "yes_no", "text": "Did you wait?"}
        for q in VISIT_SURVEY["questions"]
        if q["id"] != "pain"
    ]
}
#: A survey without the Friends and Family Test: whoever answered anything responded.
NO_FFT = {
    "slug": "no-fft",
    "title": "Two questions",
    "questions": [
        {"id": "clean", "type": "yes_no", "text": "Was the clinic clean?"},
        {"id": "waited", "type": "number", "text": "How many days?", "min": 0, "max": 99},
    ],
}
AGES = ("16-24", "25-39", "40-54", "55-64", "65-74", "75+", "unknown", "101+")
SEXES = ("F", "M", "F", "unknown", "X")
ETHNIC = ("white", "asian", "black", "mixed", "other", "unknown")
IMD = ("1", "2", "3", "4", "5", "unknown")
LANGUAGES = ("en", "en", "cy", "pl", "unknown", "en", "ur")
CHANNELS = (Channel.SMS, Channel.SMS, Channel.WHATSAPP, Channel.VOICE, Channel.WEB)
FFT = ("very_good", "good", "neither", "poor", "very_poor")


def _visit_answers(index: int) -> dict[str, Any]:
    """Every status a conversation stores, spread over the respondents."""
    answers: dict[str, Any] = {
        "fft": {"status": "answered", "value": FFT[index % 5], "language": "en"},
        "clean": {"status": "answered", "value": "yes" if index % 3 else "no", "language": "en"},
        "pain": {"status": "answered", "value": str(1 + index % 5), "language": "en"},
        "waited": {"status": "answered", "value": str(index % 30), "language": "en"},
    }
    if index % 11 == 0:
        answers["fft"] = {"status": "dont_know", "value": "dont_know", "language": "en"}
    if index % 7 == 0:
        answers["pain"] = {"status": "skipped", "value": None, "language": "en"}
    if index % 13 == 0:
        answers["clean"] = {"status": "unparsed", "value": "maybe", "language": "en"}
    if index % 17 == 0:
        answers["waited"] = {"status": "answered", "value": "ages", "language": "en"}
    if index % 19 == 0:
        answers["pain"] = {"status": "answered", "value": "06", "language": "en"}
    if index % 4 == 0:
        answers["comment"] = {"status": "answered", "value": f"words {index}", "language": "en"}
    if index % 23 == 0:
        answers["interpreter"] = {"status": "dont_know", "value": None, "language": "pl"}
    return answers


def _no_fft_answers(index: int) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "clean": {"status": "answered", "value": "yes" if index % 2 else "no", "language": "en"}
    }
    if index % 3 == 0:
        answers["waited"] = {"status": "answered", "value": str(index % 9), "language": "en"}
    return answers


def _invite(clinic: Clinic, definition: Mapping[str, Any], count: int, offset: int = 0) -> None:
    """`count` invitations of the clinic to the survey's current version, about half of
    them answered (a few answered nothing, or left an empty FFT answer). Commits."""
    version = register_definition(definition, clinic.id, INVITED_AT)
    patient = Patient(
        clinic_id=clinic.id,
        external_id=f"C{clinic.id}-{version.id}-{offset}",
        phone="+447400100200",
        locale="en",
        channel_preference="sms",
        created_at=INVITED_AT,
        updated_at=INVITED_AT,
    )
    db.session.add(patient)
    db.session.flush()
    fft = any(q["id"] == "fft" for q in definition["questions"])
    for k in range(count):
        index = offset + k
        session = SurveySession(
            clinic_id=clinic.id,
            patient_id=patient.id,
            survey_version_id=version.id,
            channel=CHANNELS[index % len(CHANNELS)],
            locale="en",
            state=SessionState.COMPLETED,
            opened_at=INVITED_AT,
            expires_at=INVITED_AT + timedelta(hours=48),
            last_activity_at=INVITED_AT,
        )
        db.session.add(session)
        db.session.flush()
        answered = index % 2 == 0 or index % 9 == 0
        invitation = SurveyInvitation(
            session_id=session.id,
            survey_version_id=version.id,
            survey_slug=version.slug,
            organisation_id=clinic.organisation_id,
            clinic_id=clinic.id,
            period=PERIOD,
            respondent_key=f"{clinic.id}-{session.id}",
            age_band=AGES[index % len(AGES)],
            sex=SEXES[index % len(SEXES)],
            ethnic=ETHNIC[index % len(ETHNIC)],
            imd=IMD[index % len(IMD)],
            language=LANGUAGES[index % len(LANGUAGES)],
            channel=CHANNELS[index % len(CHANNELS)],
            invited_at=INVITED_AT,
            responded=answered and index % 10 != 4,
        )
        db.session.add(invitation)
        db.session.flush()
        if not answered:
            continue
        answers = _visit_answers(index) if fft else _no_fft_answers(index)
        if index % 10 == 4:
            answers = {}  # a conversation that opened and stored nothing
        stored = answers.get("fft", {})
        given = stored.get("value") if stored.get("status") in ("answered", "dont_know") else None
        db.session.add(
            SurveyResponse(
                invitation_id=invitation.id,
                respondent_key=invitation.respondent_key,
                survey_version_id=version.id,
                answers=answers,
                fft="" if index % 29 == 0 else given,
                language=invitation.language,
                channel=invitation.channel,
                responded_at=INVITED_AT + timedelta(minutes=index),
                updated_at=INVITED_AT + timedelta(minutes=index, microseconds=index),
            )
        )
    db.session.commit()


def _objects_summary(slug: str, scope: str, scope_id: int) -> dict[str, Any]:
    """The summary of the cohort loaded as (invitation, response) objects."""
    where = SurveyInvitation.clinic_id if scope == "clinic" else SurveyInvitation.organisation_id
    pairs = db.session.execute(
        select(SurveyInvitation, SurveyResponse)
        .outerjoin(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
        .where(
            SurveyInvitation.survey_slug == slug,
            SurveyInvitation.period == PERIOD,
            where == scope_id,
        )
        .order_by(SurveyInvitation.id)
    ).all()
    cohort = [(inv, resp) for inv, resp in pairs]
    versions = sorted({inv.survey_version_id for inv, _ in cohort})
    return summarise(cohort, sources.definitions(versions))


def _assert_same(snapshot: ResultSnapshot | None, expected: dict[str, Any]) -> None:
    assert snapshot is not None
    diagnostics = dict(snapshot.diagnostics)
    assert diagnostics.pop("computation") == results.COMPUTATION
    assert len(diagnostics.pop("inputs")) == 64
    assert diagnostics == json_safe(expected["diagnostics"])
    assert snapshot.method == expected["method"]
    assert snapshot.estimates == json_safe(expected["estimates"])
    assert snapshot.nonresponse == json_safe(expected["nonresponse"])
    assert snapshot.questions == json_safe(expected["questions"])
    assert snapshot.weights == expected["weights"]


@pytest.fixture
def clinic(app: Any, clock: FixedClock) -> Clinic:
    found = create_clinic(
        "north", name="North", timezone="Europe/London", sender="+442071838750", clock=clock
    )
    db.session.commit()
    return found


@pytest.mark.storage
def test_the_columns_give_the_figures_of_the_objects(backend: str, clinic: Clinic) -> None:
    _invite(clinic, VISIT_SURVEY, 150)
    _invite(clinic, CHANGED, 90, offset=150)
    expected = _objects_summary("clinic-visit", "clinic", clinic.id)
    snapshot = results.compute_snapshot("clinic-visit", "clinic", clinic.id, PERIOD, NOW)
    _assert_same(snapshot, expected)
    assert snapshot is not None
    questions = {q["id"]: q for q in snapshot.questions or []}
    # Every status is there to be counted, and the changed question is read by its kind.
    assert questions["pain"]["skipped"] > 0
    assert questions["pain"]["unparsed"] > 0
    assert questions["pain"]["not_asked"] > 0
    assert questions["clean"]["unparsed"] > 0
    assert questions["waited"]["kind"] == "yes_no"
    assert questions["interpreter"]["dont_know"] > 0
    assert snapshot.diagnostics["collapsed"] or snapshot.diagnostics["converged"]
    organisation = results.compute_snapshot(
        "clinic-visit", "organisation", clinic.organisation_id, PERIOD, NOW
    )
    _assert_same(organisation, expected)


@pytest.mark.storage
def test_without_the_fft_whoever_answered_anything_responded(backend: str, clinic: Clinic) -> None:
    _invite(clinic, NO_FFT, 120)
    expected = _objects_summary("no-fft", "clinic", clinic.id)
    snapshot = results.compute_snapshot("no-fft", "clinic", clinic.id, PERIOD, NOW)
    _assert_same(snapshot, expected)
    assert snapshot is not None
    assert snapshot.diagnostics["respondents"] == "any_answer"
    assert snapshot.estimates == {}


@pytest.mark.storage
def test_a_cohort_without_invitations_or_responses(backend: str, clinic: Clinic) -> None:
    empty = results.compute_snapshot("clinic-visit", "clinic", clinic.id, PERIOD, NOW)
    _assert_same(empty, _objects_summary("clinic-visit", "clinic", clinic.id))
    _invite(clinic, VISIT_SURVEY, 6, offset=1)
    db.session.execute(
        update(SurveyResponse).values(fft=None).execution_options(synchronize_session=False)
    )
    db.session.commit()
    silent = results.compute_snapshot("clinic-visit", "clinic", clinic.id, PERIOD, NOW)
    _assert_same(silent, _objects_summary("clinic-visit", "clinic", clinic.id))
    assert silent is not None
    assert (silent.method, silent.diagnostics["responses"]) == ("none", 0)


@pytest.mark.storage
def test_the_inputs_change_with_an_answer_or_its_time(backend: str, clinic: Clinic) -> None:
    _invite(clinic, VISIT_SURVEY, 40)

    def again() -> ResultSnapshot | None:
        return results.compute_snapshot(
            "clinic-visit", "clinic", clinic.id, PERIOD, NOW, only_if_changed=True
        )

    first = again()
    assert first is not None
    assert again() is None
    response = db.session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)).first()
    assert response is not None
    response.fft = "very_poor" if response.fft != "very_poor" else "good"
    db.session.commit()
    changed = again()
    assert changed is not None
    assert changed.diagnostics["inputs"] != first.diagnostics["inputs"]
    assert again() is None
    # A later answer to another question moves only the response's time.
    response.updated_at = response.updated_at + timedelta(seconds=5)
    db.session.commit()
    assert again() is not None
    assert again() is None
