"""The goal form behind a link: what a link that is altered, too old, used already or
past its appointment gets; the form token; the page's headers; the patient's language."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from app.audit.service import SYSTEM
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.extensions import db
from app.goals import service as goals
from app.goals.links import goal_link
from app.goals.models import GoalRound, RoundState
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState
from app.public.survey_form import SECURITY_HEADERS
from tests.world import World


@pytest.fixture
def link(app: Flask, world: World, clock: FixedClock) -> tuple[str, int, list[int]]:
    """A link to an open round of a Welsh patient with two goals; its path, the round's
    id and the goals' ids."""
    north = world.clinic()
    patient = world.patient(north, "P1", locale="cy")
    made = [
        goals.open_goal(patient.id, goals.GoalInput(words, "cy", english), SYSTEM, clock).id
        for words, english in (("Cerdded i'r siop", "Walk to the shop"), ("Cysgu", "Sleep"))
    ]
    starts = clock.now() + timedelta(days=2)
    message = OutboundMessage(
        clinic_id=north.id,
        patient_id=patient.id,
        kind=MessageKind.GOAL_QUESTION,
        channel=Channel.WEB,
        state=MessageState.DELIVERED,
        due_at=clock.now(),
        expires_at=starts,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.session.add(message)
    db.session.flush()
    found = GoalRound(
        clinic_id=north.id,
        patient_id=patient.id,
        message_id=message.id,
        channel=Channel.WEB,
        locale="cy",
        state=RoundState.OPEN,
        current_goal_id=made[0],
        opened_at=clock.now(),
        expires_at=starts,
    )
    db.session.add(found)
    db.session.commit()
    url = goal_link("https://wesaid.example.org", found.id, app.config["SECRET_KEY"], clock)
    return url.removeprefix("https://wesaid.example.org"), found.id, made


def _token(page: Any) -> str:
    found = re.search(r'name="_form" value="([^"]+)"', page.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_the_form_is_in_the_patients_language_with_strict_headers(
    app: Flask, link: tuple[str, int, list[int]]
) -> None:
    path, _, _ = link
    page = app.test_client().get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="cy"' in html
    assert "Pa mor agos ydych chi at: Cerdded i&#39;r siop?" in html
    assert "10 (wedi&#39;i gyrraedd)" in html
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    assert "Set-Cookie" not in page.headers


def test_a_stale_form_token_or_a_missing_score_keeps_what_was_given(
    app: Flask, link: tuple[str, int, list[int]], clock: FixedClock
) -> None:
    path, _, made = link
    client = app.test_client()
    token = _token(client.get(path))
    given = {f"goal_{made[0]}": "4", f"goal_{made[1]}": "7"}
    clock.advance(timedelta(days=1, minutes=1))
    stale = client.post(path, data={"_form": token, **given})
    assert stale.status_code == 400
    assert 'value="4" checked' in stale.get_data(as_text=True)
    fresh = _token(stale)
    missing = client.post(path, data={"_form": fresh, f"goal_{made[0]}": "12"})
    assert missing.status_code == 422
    assert client.post(path, data={"_form": fresh, **given}).status_code == 200


@pytest.mark.parametrize(
    ("change", "status"),
    [("tamper", 404), ("too_old", 410), ("appointment_started", 410)],
)
def test_a_link_that_cannot_be_used_says_why(
    app: Flask, link: tuple[str, int, list[int]], clock: FixedClock, change: str, status: int
) -> None:
    path, _, _ = link
    if change == "tamper":
        path = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    elif change == "too_old":
        clock.advance(timedelta(days=30))
    else:
        clock.advance(timedelta(days=2))
    answer = app.test_client().get(path)
    assert answer.status_code == status
    assert "Set-Cookie" not in answer.headers


def test_a_survey_link_is_not_a_goal_link(app: Flask, link: tuple[str, int, list[int]]) -> None:
    path, _, _ = link
    assert app.test_client().get(path.replace("/g/", "/s/")).status_code == 404
