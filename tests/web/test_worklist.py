"""Today, the worklist, as every role sees it: what it shows and hides, handling an item
with and without htmx, bad input, isolation and the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.casework.models import HandledItem
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.casework import cases
from tests.casework.cases import Desk
from tests.web.staff import StaffDesk, csrf_token
from tests.world import World

URL_ATTRIBUTES = re.compile(r'(?:href|action|src|hx-post|hx-get)="([^"]*)"')
HTMX = {"HX-Request": "true"}


@pytest.fixture
def desks(app: Flask, world: World, clock: FixedClock) -> dict[str, Desk]:
    """An item of every kind at north and south (one trust) and at east (another)."""
    found = {}
    for slug, org in (("north", "trust"), ("south", "trust"), ("east", "other")):
        clinic = world.clinic(slug, org=org)
        found[slug] = cases.every_kind(world, clock, clinic, slug.upper())
    return found


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _national(e164: str) -> str:
    return "0" + e164[3:7] + " " + e164[7:]


def _secrets(desk: Desk) -> list[str]:
    """What identifies the desk's patient and their words."""
    patient = desk.patient
    return [
        f"Lovelace-{patient.external_id}",
        patient.phone,
        _national(patient.phone),
        desk.stranger.from_number,
        _national(desk.stranger.from_number),
        f"what time is it again {patient.external_id}",
    ]


def _urls(page: str) -> list[str]:
    return URL_ATTRIBUTES.findall(page)


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _signed_in(client: Any, desk: StaffDesk, role: Role, *clinics: str, org: str = "trust") -> Any:
    return desk.sign_in(client, desk.member(role, list(clinics), org=org, name="Rita Patel"))


def _handle(client: Any, kind: str, record: int, note: str = "", **headers: str) -> Any:
    token = csrf_token(client, "/staff/worklist")
    data = {"csrf_token": token, "kind": kind, "record_id": record, "note": note}
    return client.post("/staff/worklist/handle", data=data, headers=headers)


def test_a_receptionist_sees_their_clinic_and_nothing_else(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    answer = client.get("/staff/worklist")
    page = _text(answer)
    assert answer.status_code == 200
    assert "<title>Today – WeSaid</title>" in page
    assert "6 things need a person." in page
    north = desks["north"]
    for secret in _secrets(north):
        if not secret.startswith("+"):  # numbers are written as people write them
            assert secret in page, secret
    for other in ("south", "east"):
        assert not [s for s in _secrets(desks[other]) if s in page]
    assert "The number is not a mobile, so it cannot get texts. (error 21614)" in page
    assert "From a number no patient of the clinic has" in page
    assert "The patient replied STOP" in page
    assert page.count("Mark as handled</span>") == 6
    assert f'href="/staff/patients/{north.patient.id}"' in page
    assert "Open items by clinic" not in page  # one clinic: the counts are the clinic's
    assert 'src="/static/vendor/htmx/htmx.min.js"' in page


def test_no_name_number_or_text_in_any_url(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.ADMIN)
    page = _text(client.get("/staff/worklist"))
    handled = _text(client.get("/staff/worklist?show=handled&kind=opt_out"))
    urls = _urls(page) + _urls(handled)
    assert urls
    for desk_ in desks.values():
        for secret in _secrets(desk_):
            assert not [u for u in urls if secret.replace(" ", "") in u.replace(" ", "")]


def test_an_organisation_wide_role_sees_counts_per_clinic(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], world: World
) -> None:
    _signed_in(client, desk, Role.CLINIC_MANAGER)
    page = _text(client.get("/staff/worklist"))
    assert "12 things need a person." in page
    assert "Open items by clinic" in page
    counts = re.findall(
        r'<th role="rowheader"[^>]*><a href="/staff/worklist\?clinic=(\d+)">(\w+)</a>', page
    )
    assert counts == [
        (str(world.clinics["north"].id), "North"),
        (str(world.clinics["south"].id), "South"),
    ]
    assert not [s for s in _secrets(desks["east"]) if s in page]
    south = world.clinics["south"].id
    narrowed = _text(client.get(f"/staff/worklist?clinic={south}&kind=failed_message"))
    assert "Lovelace-SOUTH" in narrowed
    assert "Lovelace-NORTH" not in narrowed
    assert "Replies not understood</h2>" not in narrowed


def test_a_clinician_reads_but_cannot_handle(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.CLINICIAN, "north")
    page = _text(client.get("/staff/worklist"))
    assert "Lovelace-NORTH" in page
    assert "Mark as handled" not in page
    refused = _handle(client, "flagged_reply", desks["north"].reply.id)
    assert refused.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(HandledItem)) == 0


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR, Role.EXPERIENCE_LEAD])
def test_roles_without_the_worklist_are_refused(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], role: Role
) -> None:
    _signed_in(client, desk, role)
    for answer in (
        client.get("/staff/worklist"),
        _handle(client, "flagged_reply", desks["north"].reply.id),
    ):
        assert answer.status_code == 403
        assert "You cannot do this" in _text(answer)
        assert not [s for d in desks.values() for s in _secrets(d) if s in _text(answer)]
    assert "Today" not in _text(client.get("/staff/"))


def test_nobody_signed_in_goes_to_sign_in(client: Any, desks: dict[str, Desk]) -> None:
    answer = client.get("/staff/worklist")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/staff/sign-in")


def test_showing_personal_data_is_audited_once_per_view(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], world: World
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    client.get("/staff/worklist")
    [event] = _events(AuditAction.VIEW_WORKLIST)
    north = desks["north"]
    assert event.record_type == "patient"
    assert event.record_ids == sorted({north.patient.id, north.opt_out.patient_id})
    assert event.organisation_id == world.clinics["north"].organisation_id
    assert event.detail == {"unknown_numbers": 1}


def test_handling_without_javascript_redirects_back(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], clock: FixedClock
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    reply = desks["north"].reply
    token = csrf_token(client, "/staff/worklist")
    answer = client.post(
        "/staff/worklist/handle?kind=flagged_reply",
        data={
            "csrf_token": token,
            "kind": "flagged_reply",
            "record_id": reply.id,
            "note": "Rang back",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/staff/worklist?kind=flagged_reply"
    page = _text(client.get(answer.headers["Location"]))
    assert "Marked as handled: Reply not understood." in page
    assert f'id="item-flagged_reply-{reply.id}"' not in page
    handled = _text(client.get("/staff/worklist?show=handled"))
    assert f'id="item-flagged_reply-{reply.id}"' in handled
    assert "by Rita Patel" in handled
    assert "Rang back" in handled
    [event] = _events(AuditAction.HANDLE_WORKLIST)
    assert (event.record_type, event.record_ids) == ("inbound_message", [reply.id])
    assert "Rang back" not in str(event.detail)


def test_handling_with_htmx_answers_the_item_in_place(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    slot = desks["north"].cancellation
    answer = _handle(client, "cancellation", slot.id, "Offered to Mr B", **HTMX)
    body = _text(answer)
    assert answer.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith("<div") or f'id="item-cancellation-{slot.id}"' in body
    assert 'role="status"' in body
    assert "Handled</strong>" in body
    assert "Offered to Mr B" in body
    assert "Mark as handled" not in body
    again = _handle(client, "cancellation", slot.id, "twice", **HTMX)
    assert again.status_code == 200
    assert "Offered to Mr B" in _text(again)
    assert db.session.scalar(select(func.count()).select_from(HandledItem)) == 1


def test_a_note_too_long_is_refused_and_nothing_saved(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    failure = desks["north"].failure
    plain = _handle(client, "failed_message", failure.id, "x" * 501)
    page = _text(plain)
    assert plain.status_code == 422
    assert "<title>Error: Today – WeSaid</title>" in page
    assert f'href="#note-failed_message-{failure.id}"' in page
    assert "Write a note of 500 characters or fewer" in page
    assert "x" * 501 in page  # what they typed is kept for them to shorten
    partial = _handle(client, "failed_message", failure.id, "x" * 501, **HTMX)
    assert partial.status_code == 422
    assert "<html" not in _text(partial)
    assert "Write a note of 500 characters or fewer" in _text(partial)
    assert db.session.scalar(select(func.count()).select_from(HandledItem)) == 0
    assert _events(AuditAction.HANDLE_WORKLIST) == []


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        ("", "1"),
        ("nonsense", "1"),
        ("flagged_reply", ""),
        ("flagged_reply", "abc"),
        ("opt_out", "-3"),
    ],
)
def test_an_item_not_named_is_a_clear_400(
    client: Any, desk: StaffDesk, desks: dict[str, Desk], kind: str, record: str
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    token = csrf_token(client, "/staff/worklist")
    answer = client.post(
        "/staff/worklist/handle", data={"csrf_token": token, "kind": kind, "record_id": record}
    )
    assert answer.status_code == 400
    assert "Choose an item from the list to mark as handled." in _text(answer)


def test_items_of_other_clinics_are_not_found(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    for kind, record in (
        ("flagged_reply", desks["south"].reply.id),
        ("opt_out", desks["east"].opt_out.id),
        ("failed_message", 9_999_999),
        ("opt_out", desks["north"].reply.id),  # a record of another kind
    ):
        answer = _handle(client, kind, record)
        assert answer.status_code == 404
        assert "Page not found" in _text(answer)
    assert db.session.scalar(select(func.count()).select_from(HandledItem)) == 0


def test_a_form_without_its_token_is_refused(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    answer = client.post(
        "/staff/worklist/handle",
        data={"kind": "flagged_reply", "record_id": desks["north"].reply.id},
    )
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(HandledItem)) == 0


def test_filters_that_mean_nothing_show_everything(
    client: Any, desk: StaffDesk, desks: dict[str, Desk]
) -> None:
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    for query in ("kind=%00", "clinic=abc", "clinic=99999999999", "show=<b>"):
        answer = client.get(f"/staff/worklist?{query}")
        assert answer.status_code == 200
        assert "6 things need a person." in _text(answer)


def test_an_empty_worklist_says_so(client: Any, desk: StaffDesk, world: World) -> None:
    world.clinic("north")
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    page = _text(client.get("/staff/worklist"))
    assert "Nothing needs a person right now." in page
    assert "appear here as they happen" in page
    assert _events(AuditAction.VIEW_WORKLIST) == []
    handled = _text(client.get("/staff/worklist?show=handled"))
    assert "Nothing has been marked as handled yet." in handled


def test_the_section_is_in_the_navigation(client: Any, desk: StaffDesk, world: World) -> None:
    world.clinic("north")
    _signed_in(client, desk, Role.RECEPTIONIST, "north")
    home = _text(client.get("/staff/"))
    assert 'href="/staff/worklist"' in home
    assert "Replies to read, rebook requests, cancelled slots" in home
