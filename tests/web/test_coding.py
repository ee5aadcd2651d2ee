"""The coding queue: an experience lead codes comments one at a time, masked, with the
suggestions ticked; confirming is audited and moves on (in place with htmx); another
clinic's staff reach nothing; retraining is queued for those who may ask for it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.extensions import db
from app.queueing import QUEUE_FOR_JOB, JobName
from app.runtime import get_runtime
from app.themes.codebook import codebook
from app.themes.models import PalsContact, ThemeCode, ThemeComment
from app.themes.pals import PalsKind
from tests.web.staff import StaffDesk, csrf_token
from tests.world import World
from tests.yousaid.seed import surveyed_month

WORDS = (
    "Dr Quartermain was rude, call me on 07400 999111",
    "Waited over two hours, the clinic was running very late",
    "The nurse was lovely and caring",
)


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    made = world.clinic("north")
    world.clinic("south")
    surveyed_month(made, "2026-03", 12, 10, WORDS)
    return made


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _comments() -> list[ThemeComment]:
    return list(db.session.scalars(select(ThemeComment).order_by(ThemeComment.id)))


def _actions() -> list[AuditAction]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _ticked(page: str) -> set[int]:
    return {int(v) for v in re.findall(r'name="theme" type="checkbox" value="(\d+)" checked', page)}


def test_a_lead_confirms_one_comment_after_another(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    desk.sign_in(client, desk.member(Role.EXPERIENCE_LEAD, ["north"]))
    page = _text(client.get("/staff/coding"))
    first, second, third = _comments()
    # Masked words only; the keyword suggestion (staff manner) is ticked.
    assert "07400 999111" not in page
    assert "Quartermain" not in page
    assert "[phone]" in page
    assert f"Comment {first.id}" in page
    names = {t.id: t.name for t in codebook(north.organisation_id)}
    assert "Staff manner & personal attributes" in {names[i] for i in _ticked(page)}
    assert 'accesskey="c"' in page
    assert 'accesskey="s"' in page
    assert "3 comments to code." in page
    assert AuditAction.VIEW_COMMENT in _actions()

    token = csrf_token(client, "/staff/coding")
    chosen = sorted(_ticked(page))
    done = client.post(
        f"/staff/coding/{first.id}",
        data={"csrf_token": token, "theme": [str(i) for i in chosen], "sentiment": "4"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert first.confirmed_at is not None
    assert first.sentiment == 4
    coded = db.session.scalars(select(ThemeCode.theme_id).where(ThemeCode.comment_id == first.id))
    assert sorted(coded) == chosen
    assert AuditAction.CODE_COMMENT in _actions()

    # With htmx the answer is the next comment alone, to swap in place.
    swapped = client.post(
        f"/staff/coding/{second.id}",
        data={"csrf_token": token, "sentiment": "5"},
        headers={"HX-Request": "true"},
    )
    assert swapped.status_code == 200
    body = _text(swapped)
    assert body.lstrip().startswith('<div id="coding-item"')
    assert "Themes confirmed." in body
    assert f"Comment {third.id}" in body

    # Skipping shows the one after; past the last, the queue offers to start again.
    db.session.expire_all()
    assert f"Comment {third.id}" in _text(client.get("/staff/coding"))
    end = _text(client.get(f"/staff/coding?after={third.id}"))
    assert "No more comments after the ones you skipped." in end


@pytest.mark.parametrize(
    ("form", "why"),
    [
        ({"sentiment": "9"}, "sentiment out of range"),
        ({"sentiment": "x"}, "sentiment not a number"),
        ({"theme": "abc", "sentiment": "2"}, "theme not an id"),
        ({"theme": "999999", "sentiment": "2"}, "theme not in the code-book"),
    ],
)
def test_bad_input_saves_nothing(
    client: Any, desk: StaffDesk, north: Clinic, form: dict[str, str], why: str
) -> None:
    desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["north"]))
    first = _comments()[0]
    token = csrf_token(client, "/staff/coding")
    refused = client.post(f"/staff/coding/{first.id}", data={"csrf_token": token, **form})
    assert refused.status_code == 422, why
    assert "Choose themes from the list" in _text(refused)
    db.session.expire_all()
    assert first.confirmed_at is None


def test_other_clinics_and_roles_reach_nothing(app: Flask, desk: StaffDesk, north: Clinic) -> None:
    first = _comments()[0]
    south_lead = app.test_client()
    desk.sign_in(south_lead, desk.member(Role.EXPERIENCE_LEAD, ["south"]))
    assert "Nothing to code right now." in _text(south_lead.get("/staff/coding"))
    token = csrf_token(south_lead, "/staff/coding")
    answer = south_lead.post(f"/staff/coding/{first.id}", data={"csrf_token": token})
    assert answer.status_code == 404
    analyst = app.test_client()
    desk.sign_in(analyst, desk.member(Role.ANALYST))
    assert analyst.get("/staff/coding").status_code == 403
    db.session.expire_all()
    assert first.confirmed_at is None


def test_a_lead_asks_for_retraining(app: Flask, desk: StaffDesk, north: Clinic) -> None:
    lead = app.test_client()
    desk.sign_in(lead, desk.member(Role.EXPERIENCE_LEAD, ["north"]))
    page = _text(lead.get("/staff/coding"))
    assert "Retrain suggestions" in page
    token = csrf_token(lead, "/staff/coding")
    queue = get_runtime().queue.queue(QUEUE_FOR_JOB[JobName.TRAIN_THEMES])
    before = queue.count
    answer = lead.post(
        "/staff/coding/retrain", data={"csrf_token": token, "org": str(north.organisation_id)}
    )
    assert answer.status_code == 303
    assert queue.count == before + 1
    assert queue.jobs[-1].func_name == JobName.TRAIN_THEMES.value
    assert AuditAction.TRAIN_THEMES in _actions()
    # A clinic manager codes but does not retrain the organisation's suggestions.
    manager = app.test_client()
    desk.sign_in(manager, desk.member(Role.CLINIC_MANAGER, ["north"]))
    assert "Retrain suggestions" not in _text(manager.get("/staff/coding"))
    token = csrf_token(manager, "/staff/coding")
    refused = manager.post(
        "/staff/coding/retrain", data={"csrf_token": token, "org": str(north.organisation_id)}
    )
    assert refused.status_code == 403


def test_any_form_is_answered_without_error(client: Any, desk: StaffDesk, north: Clinic) -> None:
    desk.sign_in(client, desk.member(Role.CLINIC_MANAGER, ["north"]))
    first = _comments()[0]
    token = csrf_token(client, "/staff/coding")
    valid = [str(t.id) for t in codebook(north.organisation_id)][:3]
    field = st.one_of(st.sampled_from(valid), st.text(max_size=12))

    @settings(max_examples=30, deadline=None, phases=[Phase.generate])
    @given(themes=st.lists(field, max_size=3), sentiment=st.one_of(st.none(), st.text(max_size=6)))
    def post(themes: list[str], sentiment: str | None) -> None:
        form: dict[str, Any] = {"csrf_token": token, "theme": themes}
        if sentiment is not None:
            form["sentiment"] = sentiment
        answer = client.post(f"/staff/coding/{first.id}", data=form)
        assert answer.status_code in (303, 422), (themes, sentiment)
        args = {"org": sentiment or "", "after": themes[0] if themes else ""}
        assert client.get("/staff/coding", query_string=args).status_code in (200, 404)

    post()


def test_organisation_wide_contacts_are_for_those_who_code_for_every_clinic(
    app: Flask, desk: StaffDesk, north: Clinic
) -> None:
    contact = PalsContact(
        organisation_id=north.organisation_id,
        clinic_id=None,
        contact_date=date(2026, 3, 9),
        kind=PalsKind.COMPLAINT,
        text="Nobody answers the phone at the switchboard",
        row_key="switchboard",
        imported_at=datetime(2026, 3, 10, tzinfo=UTC),
    )
    db.session.add(contact)
    db.session.commit()
    whole = app.test_client()
    desk.sign_in(whole, desk.member(Role.EXPERIENCE_LEAD))
    for comment in _comments()[:3]:
        token = csrf_token(whole, "/staff/coding")
        whole.post(f"/staff/coding/{comment.id}", data={"csrf_token": token, "sentiment": "3"})
    page = _text(whole.get("/staff/coding"))
    assert "Nobody answers the phone at the switchboard" in page
    assert "PALS contact or complaint" in page
    pals = _comments()[-1]
    assert pals.clinic_id is None

    # A lead of one clinic neither sees nor codes it.
    one = app.test_client()
    desk.sign_in(one, desk.member(Role.EXPERIENCE_LEAD, ["north"]))
    assert "switchboard" not in _text(one.get("/staff/coding"))
    token = csrf_token(one, "/staff/coding")
    assert one.post(f"/staff/coding/{pals.id}", data={"csrf_token": token}).status_code == 404
    token = csrf_token(whole, "/staff/coding")
    done = whole.post(f"/staff/coding/{pals.id}", data={"csrf_token": token, "sentiment": "5"})
    assert done.status_code == 303
    assert "Nothing to code right now." in _text(whole.get("/staff/coding"))
