""" "You said, we did" in the workspace: an experience lead writes an entry and approves a
masked quote, both land on the public page and in the audit log; another clinic's
staff cannot reach them."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.models import Clinic
from app.clinics.roles import Role
from app.extensions import db
from app.yousaid.models import PublishedQuote, YouSaidEntry
from tests.web.staff import StaffDesk, post_form
from tests.world import World
from tests.yousaid.seed import surveyed_month
from tests.yousaid.test_service import WORDS, _comment


@pytest.fixture
def north(app: Flask, world: World) -> Clinic:
    made = world.clinic("north")
    world.clinic("south")
    surveyed_month(made, "2026-03", 20, 12, WORDS)
    return made


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _actions() -> list[AuditAction]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_lead_writes_an_entry_and_approves_a_quote(
    client: Any, desk: StaffDesk, north: Clinic
) -> None:
    desk.sign_in(client, desk.member(Role.EXPERIENCE_LEAD, ["north"]))
    quotes = _text(client.get("/staff/you-said/quotes"))
    # Masked words only, never the name or number the patient wrote.
    assert "Quartermain" not in quotes
    assert "07400 999111" not in quotes
    assert "[phone]" in quotes
    assert AuditAction.VIEW_QUOTES in _actions()
    comment = _comment(north.id, "2026-03")
    approved = post_form(
        client, f"/staff/you-said/quotes/{comment.id}/approve", {}, "/staff/you-said/quotes"
    )
    assert approved.status_code == 302
    quote = db.session.scalar(select(PublishedQuote))
    assert quote is not None

    # A clinic's lead may write for their clinic only, not the whole organisation.
    form = _text(client.get("/staff/you-said/new"))
    assert f'value="clinic:{north.id}"' in form
    assert 'value="organisation:' not in form
    refused = post_form(
        client,
        "/staff/you-said/new",
        {"place": f"clinic:{north.id}", "said": "", "did": "We did", "status": "done"},
    )
    assert refused.status_code == 422
    assert "Write what patients said" in _text(refused)
    saved = post_form(
        client,
        "/staff/you-said/new",
        {
            "place": f"clinic:{north.id}",
            "said": "Waiting times were too long",
            "did": "We added an evening clinic",
            "status": "in_progress",
            "started_on": "2026-03-01",
            "quotes": str(quote.id),
        },
    )
    assert saved.status_code == 302
    entry = db.session.scalar(select(YouSaidEntry))
    assert entry is not None
    assert entry.quote_ids == [quote.id]
    public = _text(client.get("/p/trust/north"))
    assert "We added an evening clinic" in public
    assert quote.text in public

    withdrawn = post_form(
        client, f"/staff/you-said/published/{quote.id}/withdraw", {}, "/staff/you-said/quotes"
    )
    assert withdrawn.status_code == 302
    assert _actions().count(AuditAction.EDIT_YOU_SAID) == 1
    assert AuditAction.APPROVE_QUOTE in _actions()
    assert AuditAction.WITHDRAW_QUOTE in _actions()


def test_another_clinics_lead_and_other_roles_cannot_reach_them(
    app: Flask, client: Any, desk: StaffDesk, north: Clinic
) -> None:
    desk.sign_in(client, desk.member(Role.EXPERIENCE_LEAD, ["north"]))
    post_form(
        client,
        "/staff/you-said/new",
        {"place": f"clinic:{north.id}", "said": "North said", "did": "North did", "status": "done"},
    )
    entry = db.session.scalar(select(YouSaidEntry))
    assert entry is not None
    south = app.test_client()
    desk.sign_in(south, desk.member(Role.EXPERIENCE_LEAD, ["south"]))
    assert south.get(f"/staff/you-said/{entry.id}").status_code == 404
    assert "North said" not in _text(south.get("/staff/you-said"))
    comment = _comment(north.id, "2026-03")
    token_page = "/staff/you-said/quotes"
    assert (
        post_form(south, f"/staff/you-said/quotes/{comment.id}/approve", {}, token_page).status_code
        == 404
    )
    analyst = app.test_client()
    desk.sign_in(analyst, desk.member(Role.ANALYST, ["north"]))
    assert analyst.get("/staff/you-said").status_code == 403
