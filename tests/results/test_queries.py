"""Reads of stored snapshots for the results pages: latest versions, places, months."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import inspect

from app.core.clock import FixedClock
from app.extensions import db
from app.results.models import ResultSnapshot
from app.results.queries import (
    Place,
    monthly_snapshots,
    respondent_weights,
    service_pathways,
    surveys_and_months,
)
from tests.world import World

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _stored(place: Place, slug: str, period: str, version: int) -> ResultSnapshot:
    row = ResultSnapshot(
        survey_slug=slug,
        scope=place.scope,
        scope_id=place.scope_id,
        scope_key=place.pathway,
        period=period,
        version=version,
        method="raking",
        diagnostics={"version_was": version},
        estimates={},
        nonresponse={},
        questions=[],
        weights={"invitations": [1], "weights": [1.0]},
        computed_at=AT,
    )
    db.session.add(row)
    return row


def test_the_latest_version_of_each_month_in_range(
    app: Flask, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north")
    here, elsewhere = Place("clinic", north.id), Place("organisation", north.organisation_id)
    for period, versions in (("2025-11", 1), ("2025-12", 3), ("2026-01", 2), ("2026-02", 1)):
        for version in range(1, versions + 1):
            _stored(here, "fft", period, version)
    _stored(here, "other", "2026-01", 5)
    _stored(elsewhere, "fft", "2026-01", 9)
    db.session.commit()
    db.session.expire_all()
    found = monthly_snapshots(here, "fft", "2025-12", "2026-01")
    assert [(s.period, s.version) for s in found] == [("2025-12", 3), ("2026-01", 2)]
    assert all(s.diagnostics["version_was"] == s.version for s in found)
    # The respondents' weights stay in the database.
    assert all("weights" in inspect(s).unloaded for s in found)
    assert monthly_snapshots(here, "fft", "2024-01", "2024-12") == []


def test_surveys_and_months_of_a_place(app: Flask, world: World, clock: FixedClock) -> None:
    north, south = world.clinic("north"), world.clinic("south")
    here = Place("clinic", north.id)
    for slug, period in (("fft", "2026-01"), ("fft", "2026-02"), ("visit", "2025-12")):
        _stored(here, slug, period, 1)
    _stored(here, "fft", "2026-02", 2)
    _stored(Place("clinic", south.id), "only-south", "2026-02", 1)
    db.session.commit()
    assert surveys_and_months(here) == {"fft": ["2026-02", "2026-01"], "visit": ["2025-12"]}
    assert surveys_and_months(Place("organisation", north.organisation_id)) == {}


def test_pathways_with_service_results(app: Flask, world: World, clock: FixedClock) -> None:
    north = world.clinic("north", org="trust")
    east = world.clinic("east", org="other")
    trust, other = north.organisation_id, east.organisation_id
    for organisation, pathway in ((trust, "msk"), (trust, "cardiology"), (other, "renal")):
        _stored(Place("service", organisation, pathway), "fft", "2026-02", 1)
    _stored(Place("service", trust, "msk"), "fft", "2026-01", 1)
    db.session.commit()
    found: dict[int, Any] = service_pathways([trust])
    assert found == {trust: ["cardiology", "msk"]}
    assert service_pathways([]) == {}


def test_respondent_weights_are_read_in_either_stored_form(
    app: Flask, world: World, clock: FixedClock
) -> None:
    place = Place("clinic", world.clinic("north").id)
    listed = _stored(place, "fft", "2026-01", 1)
    listed.weights = {"invitations": [7, 3], "weights": [1.5, 0.25]}
    keyed = _stored(place, "fft", "2026-01", 2)  # as versions before the lists were kept
    keyed.weights = {"inv-7": 1.5, "inv-3": 0.25}
    empty = _stored(place, "fft", "2026-01", 3)
    empty.weights = {}
    db.session.commit()
    for snapshot in (listed, keyed):
        db.session.expire(snapshot)
        assert respondent_weights(snapshot) == {7: 1.5, 3: 0.25}
    assert respondent_weights(empty) == {}
