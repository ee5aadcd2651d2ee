"""Reads about surveys: which surveys a clinic can send."""

from __future__ import annotations

from flask import Flask

from app.core.clock import FixedClock
from app.extensions import db
from app.surveys.queries import survey_slugs
from app.surveys.service import register_definition
from tests.world import World

PHYSIO = {
    "slug": "physio",
    "questions": [{"id": "helpful", "type": "yes_no", "text": "Was the clinic helpful?"}],
}


def test_a_clinic_can_send_the_fft_and_its_own_surveys_only(
    app: Flask, world: World, clock: FixedClock
) -> None:
    north, south = world.clinic("north"), world.clinic("south")
    assert survey_slugs(north.id) == ["fft"]
    register_definition(PHYSIO, north.id, clock.now())
    db.session.commit()
    assert survey_slugs(north.id) == ["fft", "physio"]
    assert survey_slugs(south.id) == ["fft"]
