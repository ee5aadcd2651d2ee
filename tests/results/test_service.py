"""The results store: invitations and pseudonymous responses as surveys run, and snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.clinics.service import create_clinic
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from app.core.errors import Invalid
from app.extensions import db
from app.patients.models import Patient
from app.results import recording
from app.results import service as results
from app.results.models import ResultSnapshot, SurveyInvitation, SurveyResponse
from app.surveys.models import SessionState, SurveySession
from app.surveys.service import current_version
from tests.results import cohorts
from tests.world import World

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
SECRET = b"test-pseudonym-secret"


def _cohort(clock: FixedClock, people: list[dict[str, Any]]) -> int:
    """A clinic whose patients were each invited; `answer` set means they answered the FFT."""
    clinic = create_clinic(
        "north", name="North", timezone="Europe/London", sender="+442071838750", clock=clock
    )
    version = current_version(clinic, "fft", NOW)
    assert version is not None
    for index, person in enumerate(people):
        patient = Patient(
            clinic_id=clinic.id,
            external_id=f"P{index}",
            phone=f"+4474001{index:05d}",
            locale=person.get("locale", "en"),
            birth_year=person.get("birth_year"),
            sex=person.get("sex"),
            ethnic_category=person.get("ethnic"),
            imd_quintile=person.get("imd"),
            channel_preference="sms",
            created_at=NOW,
            updated_at=NOW,
        )
        db.session.add(patient)
        db.session.flush()
        session = SurveySession(
            clinic_id=clinic.id,
            patient_id=patient.id,
            survey_version_id=version.id,
            channel="sms",
            locale=patient.locale,
            state=SessionState.OPEN,
            current_question="fft",
            opened_at=NOW,
            expires_at=NOW + timedelta(hours=48),
            last_activity_at=NOW,
        )
        db.session.add(session)
        db.session.flush()
        recording.record_invitation(
            recording.Invitee(
                session.id, version.id, "fft", clinic.id, patient.id, None, session.channel
            ),
            NOW,
            SECRET,
        )
        if person.get("answer"):
            answer = recording.GivenAnswer("fft", "answered", person["answer"], "en")
            recording.record_response(session.id, [answer], NOW)
    db.session.commit()
    return clinic.id


def test_an_invitation_snapshots_categories_under_a_pseudonym(
    app: Flask, clock: FixedClock
) -> None:
    clinic_id = _cohort(
        clock,
        [
            {
                "birth_year": 1950,
                "sex": "F",
                "ethnic": "H",
                "imd": 1,
                "locale": "bn",
                "answer": "good",
            }
        ],
    )
    invitation = db.session.scalars(select(SurveyInvitation)).one()
    patient_id = db.session.scalar(select(Patient.id))
    assert (invitation.age_band, invitation.sex, invitation.ethnic, invitation.imd) == (
        "75+",
        "F",
        "asian",
        "1",
    )
    assert (invitation.language, invitation.channel, invitation.period) == ("bn", "sms", "2026-03")
    assert invitation.respondent_key == recording.respondent_key(SECRET, clinic_id, patient_id)
    assert len(invitation.respondent_key) == 64  # a SHA-256 HMAC, not the id
    assert invitation.respondent_key != recording.respondent_key(b"other", clinic_id, patient_id)
    response = db.session.scalars(select(SurveyResponse)).one()
    assert (response.fft, response.respondent_key) == ("good", invitation.respondent_key)
    assert invitation.responded


# Young men answer less and are less positive: weighting must pull the estimate down.
YOUNG_MEN = {"birth_year": 2000, "sex": "M", "ethnic": "A", "imd": 1}
OLDER_WOMEN = {"birth_year": 1955, "sex": "F", "ethnic": "A", "imd": 5}


def _skewed() -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    for i in range(40):  # 40 young men, 10 answer, half positive
        people.append(YOUNG_MEN | ({"answer": "good" if i % 2 else "poor"} if i < 10 else {}))
    for i in range(40):  # 40 older women, 30 answer, 90% positive
        answer = "very_good" if i % 10 else "neither"
        people.append(OLDER_WOMEN | ({"answer": answer} if i < 30 else {}))
    return people


def test_a_snapshot_weights_towards_the_cohort(app: Flask, clock: FixedClock) -> None:
    clinic_id = _cohort(clock, _skewed())
    snapshot = results.compute_snapshot("fft", "clinic", clinic_id, "2026-03", NOW)
    assert snapshot is not None
    fft = snapshot.estimates["fft_positive"]
    assert fft["unweighted"]["estimate"] == pytest.approx((5 + 27) / 40)
    # Cohort halves: 0.5 · 5/10 + 0.5 · 27/30 = 0.7
    assert fft["weighted"]["estimate"] == pytest.approx(0.7)
    assert fft["weighted"]["ci_low"] < 0.7 < fft["weighted"]["ci_high"]
    assert fft["suppressed"] is False
    d = snapshot.diagnostics
    assert (d["invited"], d["responses"], d["converged"]) == (80, 40, True)
    assert d["max_margin_error"] < 1e-6
    assert d["kish_deff"] > 1
    assert sum(snapshot.weights["weights"]) == pytest.approx(80)
    assert len(snapshot.weights["invitations"]) == 40
    young = next(
        row
        for row in snapshot.nonresponse["levels"]
        if (row["variable"], row["level"]) == ("age_band", "25-39")
    )
    assert (young["invited"], young["responded"], young["rate"]) == (40, 10, 0.25)
    assert young["std_diff_before"] < 0
    assert young["std_diff_after"] == pytest.approx(0, abs=1e-9)


def test_snapshots_are_versioned_and_recomputed_only_when_inputs_change(
    app: Flask, clock: FixedClock
) -> None:
    clinic_id = _cohort(clock, _skewed())
    first = results.compute_snapshot("fft", "clinic", clinic_id, "2026-03", NOW)
    # The nightly run adds the organisation's snapshot; the clinic's inputs stand.
    assert results.recompute_recent(NOW + timedelta(days=1)) == 1
    assert results.recompute_recent(NOW + timedelta(days=1)) == 0
    again = results.compute_snapshot("fft", "clinic", clinic_id, "2026-03", NOW)
    assert first is not None
    assert again is not None
    assert (first.version, again.version) == (1, 2)
    assert db.session.scalar(select(ResultSnapshot.id).where(ResultSnapshot.version == 1))


def test_small_cells_are_marked_for_suppression(app: Flask, clock: FixedClock) -> None:
    clinic_id = _cohort(clock, [OLDER_WOMEN | {"answer": "good"}, OLDER_WOMEN])
    snapshot = results.compute_snapshot("fft", "clinic", clinic_id, "2026-03", NOW)
    assert snapshot is not None
    assert snapshot.estimates["fft_positive"]["suppressed"] is True
    assert all(row["suppressed"] for row in snapshot.nonresponse["levels"])


def test_no_responses_still_reports_who_was_not_heard(app: Flask, clock: FixedClock) -> None:
    clinic_id = _cohort(clock, [YOUNG_MEN, OLDER_WOMEN])
    snapshot = results.compute_snapshot("fft", "clinic", clinic_id, "2026-03", NOW)
    assert snapshot is not None
    assert (snapshot.method, snapshot.estimates) == ("none", {})
    assert snapshot.nonresponse["responded"] == 0


@pytest.mark.parametrize(
    ("scope", "period", "message"),
    [("ward", "2026-03", "scope must be one of"), ("clinic", "March", "period must be YYYY-MM")],
)
def test_bad_requests(app: Flask, scope: str, period: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        results.compute_snapshot("fft", scope, 1, period, NOW)


def _token(clinic_id: int, clock: FixedClock) -> str:
    token = create_token(label="test", clinic_id=clinic_id, clock=clock).secret
    db.session.commit()
    return token


def test_the_results_api(app: Flask, client: Any, clock: FixedClock) -> None:
    clinic_id = _cohort(clock, _skewed())
    token = _token(clinic_id, clock)
    url = "/api/v1/clinics/north/results/fft/2026-03"
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth).status_code == 404
    created = client.post(url, headers=auth)
    assert created.status_code == 201, created.json
    body = client.get(url, headers=auth).json
    fft = body["estimates"]["fft_positive"]
    assert fft["weighted"]["estimate"] == pytest.approx(0.7)
    assert fft["unweighted"]["estimate"] == pytest.approx(0.8)
    assert {"ci_low", "ci_high"} <= set(fft["weighted"])
    assert body["diagnostics"]["ess"] > 0
    assert body["nonresponse"]["r_indicator"] is not None
    text = created.get_data(as_text=True)
    assert "respondent_key" not in text
    assert "+4474" not in text
    assert "weights" not in body  # no per-respondent weights
    org = client.get(url + "?scope=organisation", headers=auth)
    assert org.status_code == 404  # not computed for the organisation yet
    assert client.get(url + "?scope=service", headers=auth).status_code == 400
    assert client.get("/api/v1/clinics/north/results/fft/March", headers=auth).status_code == 400


def test_results_compute_command(app: Flask, runner: Any, clock: FixedClock) -> None:
    _cohort(clock, _skewed())
    result = runner.invoke(
        args=["results", "compute", "--survey", "fft", "--clinic", "north", "--period", "2026-03"]
    )
    assert result.exit_code == 0, result.output
    import json

    printed = json.loads(result.output)
    assert printed["version"] == 1
    assert printed["estimates"]["fft_positive"]["weighted"]["estimate"] == pytest.approx(0.7)
    bad = runner.invoke(
        args=["results", "compute", "--survey", "fft", "--clinic", "nowhere", "--period", "2026-03"]
    )
    assert bad.exit_code == 2


# -- every question, and response by channel within each group ------------------------------


def test_a_snapshot_keeps_every_question_weighted_like_the_fft(
    app: Flask, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    (snapshot,) = cohorts.survey_months(north, ["2026-02"], 400)
    questions = {q["id"]: q for q in snapshot.questions or []}
    assert list(questions) == ["fft", "clean", "pain", "waited", "interpreter", "comment"]
    # The FFT question's shares are the FFT's own figures: the same weights, the same base.
    shares = {o["key"]: o for o in questions["fft"]["options"]}
    positive = snapshot.estimates["fft_positive"]
    assert shares["very_good"]["estimate"] + shares["good"]["estimate"] == pytest.approx(
        positive["weighted"]["estimate"]
    )
    assert questions["fft"]["respondents"] == positive["n"] == snapshot.diagnostics["responses"]
    assert sum(o["estimate"] for o in questions["clean"]["options"]) == pytest.approx(1.0)
    assert questions["pain"]["skipped"] > 0
    assert questions["pain"]["mean"]["lower"] < questions["pain"]["mean"]["estimate"]
    assert questions["waited"]["kind"] == "number"
    assert "options" not in questions["waited"]
    # Only the few Bengali speakers were asked about an interpreter: too few to show.
    interpreter = questions["interpreter"]
    assert 0 < interpreter["respondents"] < 10
    for option in interpreter["options"]:
        assert option["suppressed"] is True
        assert option["reason"] == "fewer than 10 responses"
        assert "estimate" not in option
    assert questions["comment"]["respondents"] > 0
    assert "options" not in questions["comment"]


def test_the_api_returns_the_questions_as_stored(
    app: Flask, client: Any, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    (snapshot,) = cohorts.survey_months(north, ["2026-02"], 200)
    token = _token(north.id, clock)
    url = "/api/v1/clinics/north/results/clinic-visit/2026-02"
    body = client.get(url, headers={"Authorization": f"Bearer {token}"}).json
    stored = db.session.get(ResultSnapshot, snapshot.id)
    assert stored is not None
    assert body["questions"] == stored.questions
    assert body["nonresponse"]["by_channel"] == stored.nonresponse["by_channel"]


def test_an_fft_figure_on_too_few_responses_says_why(app: Flask, clock: FixedClock) -> None:
    clinic_id = _cohort(clock, [OLDER_WOMEN | {"answer": "good"}, OLDER_WOMEN])
    snapshot = results.compute_snapshot("fft", "clinic", clinic_id, "2026-03", NOW)
    assert snapshot is not None
    fft = snapshot.estimates["fft_positive"]
    assert (fft["suppressed"], fft["reason"]) == (True, "fewer than 10 responses")


def test_response_by_channel_is_kept_within_each_group(
    app: Flask, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    (snapshot,) = cohorts.survey_months(north, ["2026-02"], 400)
    cells = {
        (c["variable"], c["level"], c["channel"]): (c["invited"], c["responded"])
        for c in snapshot.nonresponse["by_channel"]
    }
    # cohorts.CELLS: 75+ are 20% of 400, 85% by SMS answering 5%, 15% by voice answering 60%.
    assert cells[("age_band", "75+", "sms")] == (68, 3)
    assert cells[("age_band", "75+", "voice")] == (12, 7)
    assert ("age_band", "75+", "web") not in cells  # nobody invited there
    for variable in ("age_band", "sex", "ethnic", "imd", "language"):
        total = sum(i for (v, _, _), (i, _) in cells.items() if v == variable)
        assert total == snapshot.diagnostics["invited"]
    assert {v for v, _, _ in cells} == {"age_band", "sex", "ethnic", "imd", "language"}
    flagged = {(r["variable"], r["level"]) for r in snapshot.nonresponse["levels"] if r["flagged"]}
    assert flagged == {("age_band", "16-24"), ("age_band", "75+")}


def test_an_older_computation_is_redone_once(app: Flask, world: World, clock: FixedClock) -> None:
    north = world.clinic("north")
    (snapshot,) = cohorts.survey_months(north, ["2026-02"], 100)
    snapshot.diagnostics = {**snapshot.diagnostics, "computation": results.COMPUTATION - 1}
    db.session.commit()
    later = datetime(2026, 3, 5, tzinfo=UTC)
    again = results.compute_snapshot(
        "clinic-visit", "clinic", north.id, "2026-02", later, only_if_changed=True
    )
    assert again is not None
    assert again.version == 2
    assert "by_channel" in again.nonresponse
    assert (
        results.compute_snapshot(
            "clinic-visit", "clinic", north.id, "2026-02", later, only_if_changed=True
        )
        is None
    )


def test_each_pathway_of_an_organisation_has_its_own_versions(
    app: Flask, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    cohorts.survey_months(north, ["2026-02"], 60, pathway="msk")
    cohorts.survey_months(world.clinic("south"), ["2026-02"], 60, pathway="cardiology")
    org = north.organisation_id
    for pathway in ("msk", "cardiology"):
        snapshot = results.compute_snapshot(
            "clinic-visit", "service", org, "2026-02", NOW, scope_key=pathway
        )
        assert snapshot is not None
        invited = len(cohorts.invitees(60))
        assert (snapshot.version, snapshot.diagnostics["invited"]) == (1, invited)
