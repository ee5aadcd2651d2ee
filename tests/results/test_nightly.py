"""The nightly run: a snapshot for every survey and recent month at each clinic, each
pathway (service) and each organisation as a whole, written only when its inputs changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, select

from app.clinics.models import Clinic
from app.extensions import db
from app.results import service as results
from app.results.models import ResultSnapshot, SurveyInvitation, SurveyResponse
from tests.results import cohorts
from tests.world import World

MONTHS = ["2026-01", "2026-02", "2026-03"]
#: Two months back from here reaches February and March, not January.
NOW = datetime(2026, 4, 5, 2, 0, tzinfo=UTC)
RECENT = MONTHS[1:]
SURVEY = str(cohorts.VISIT_SURVEY["slug"])
PER_MONTH = 200

Stored = tuple[str, int, str, str, int]  # scope, scope id, pathway, period, version


@pytest.fixture
def clinics(app: Flask, world: World) -> dict[str, Clinic]:
    """North (physio pathway) and south (no pathway) of one trust, east (physio) of
    another; three months of invitations each, and nothing computed yet."""
    found = {
        "north": world.clinic("north", org="trust"),
        "south": world.clinic("south", org="trust"),
        "east": world.clinic("east", org="other"),
    }
    for slug, pathway in (("north", "physio"), ("south", None), ("east", "physio")):
        cohorts.survey_months(found[slug], MONTHS, PER_MONTH, pathway=pathway)
    db.session.execute(delete(ResultSnapshot))
    db.session.commit()
    return found


def _stored() -> set[Stored]:
    rows = db.session.execute(
        select(
            ResultSnapshot.scope,
            ResultSnapshot.scope_id,
            ResultSnapshot.scope_key,
            ResultSnapshot.period,
            ResultSnapshot.version,
        ).where(ResultSnapshot.survey_slug == SURVEY)
    ).all()
    return {(r[0], r[1], r[2], r[3], r[4]) for r in rows}


def _invited(**where: object) -> int:
    filters = [getattr(SurveyInvitation, k) == v for k, v in where.items()]
    return len(db.session.scalars(select(SurveyInvitation.id).where(*filters)).all())


def test_every_clinic_pathway_and_organisation_of_each_recent_month_is_written(
    clinics: dict[str, Clinic],
) -> None:
    north, south, east = clinics["north"], clinics["south"], clinics["east"]
    trust, other = north.organisation_id, east.organisation_id
    expected = {
        *(("clinic", c.id, "", period, 1) for c in (north, south, east) for period in RECENT),
        *(("service", org, "physio", period, 1) for org in (trust, other) for period in RECENT),
        *(("organisation", org, "", period, 1) for org in (trust, other) for period in RECENT),
    }
    assert results.recompute_recent(NOW) == len(expected) == 14
    assert _stored() == expected

    for period in RECENT:
        whole = results.latest_snapshot(SURVEY, "organisation", trust, period)
        service = results.latest_snapshot(SURVEY, "service", trust, period, "physio")
        assert whole is not None
        assert service is not None
        # The trust's cohort is both its clinics; its physio service is north's patients.
        assert whole.diagnostics["invited"] == _invited(organisation_id=trust, period=period)
        clinics_invited = [_invited(clinic_id=c.id, period=period) for c in (north, south)]
        assert whole.diagnostics["invited"] == sum(clinics_invited)
        assert service.diagnostics["invited"] == _invited(clinic_id=north.id, period=period)
        assert whole.nonresponse["invited"] == whole.diagnostics["invited"]


def test_nothing_is_rewritten_while_the_inputs_stand(clinics: dict[str, Clinic]) -> None:
    assert results.recompute_recent(NOW) == 14
    written = _stored()
    assert results.recompute_recent(NOW + timedelta(days=1)) == 0
    assert _stored() == written


def test_a_new_answer_rewrites_only_the_places_it_belongs_to(
    clinics: dict[str, Clinic],
) -> None:
    north, south = clinics["north"], clinics["south"]
    results.recompute_recent(NOW)
    before = _stored()
    # A patient of south answers late in March.
    invitation = db.session.scalars(
        select(SurveyInvitation)
        .where(
            SurveyInvitation.clinic_id == south.id,
            SurveyInvitation.period == "2026-03",
            SurveyInvitation.responded.is_(False),
        )
        .order_by(SurveyInvitation.id)
        .limit(1)
    ).one()
    answered_at = NOW + timedelta(hours=20)
    db.session.add(
        SurveyResponse(
            invitation_id=invitation.id,
            respondent_key=invitation.respondent_key,
            survey_version_id=invitation.survey_version_id,
            answers={"fft": {"status": "answered", "value": "good", "language": "en"}},
            fft="good",
            language=invitation.language,
            channel=invitation.channel,
            responded_at=answered_at,
            updated_at=answered_at,
        )
    )
    invitation.responded = True
    db.session.commit()

    assert results.recompute_recent(NOW + timedelta(days=1)) == 2
    assert _stored() - before == {
        ("clinic", south.id, "", "2026-03", 2),
        ("organisation", south.organisation_id, "", "2026-03", 2),
    }
    # North's physio service does not hold south's patients: it stands.
    service = results.latest_snapshot(SURVEY, "service", north.organisation_id, "2026-03", "physio")
    assert service is not None
    assert service.version == 1


def test_the_places_come_from_one_grouped_read(clinics: dict[str, Clinic]) -> None:
    places = results.recent_places(NOW - timedelta(days=62))
    assert [p.scope for p in places] == ["clinic"] * 6 + ["service"] * 4 + ["organisation"] * 4
    assert {p.period for p in places} == set(RECENT)
    assert {p.pathway for p in places if p.scope == "service"} == {"physio"}
    assert all(p.pathway == "" for p in places if p.scope != "service")
