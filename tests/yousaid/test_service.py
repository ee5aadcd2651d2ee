"""Entries and quotes: the rules that hold whoever asks, and the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.core.errors import Invalid
from app.extensions import db
from app.patients.forgetting import count_everywhere, erase_everywhere
from app.results.models import SurveyInvitation, SurveyResponse
from app.surveys.models import SurveySession
from app.themes.codebook import codebook
from app.themes.models import ThemeComment
from app.yousaid import service
from app.yousaid.models import EntryStatus
from app.yousaid.queries import candidates_in
from tests.world import World
from tests.yousaid.seed import surveyed_month

NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)
STAFF = Actor(user_id=None, address="127.0.0.1")
#: What a patient wrote, with a name after a title, a mobile number and an email.
WORDS = (
    "Dr Quartermain was kind but call me on 07400 999111 or zeb@example.com next time",
    "The waiting room was too hot",
)


def _comment(clinic_id: int, period: str) -> ThemeComment:
    found = db.session.scalars(
        select(ThemeComment)
        .where(ThemeComment.clinic_id == clinic_id, ThemeComment.period == period)
        .order_by(ThemeComment.id)
    ).first()
    assert found is not None
    return found


def _actions() -> list[AuditAction]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_quote_is_masked_and_needs_ten_respondents_in_its_clinics_month(world: World) -> None:
    clinic = world.clinic("north")
    surveyed_month(clinic, "2026-02", 20, 9, WORDS)
    surveyed_month(clinic, "2026-03", 20, 10, WORDS)

    small = _comment(clinic.id, "2026-02")
    with pytest.raises(Invalid, match="fewer than 10 respondents"):
        service.approve_quote(small.id, STAFF, NOW)
    offered = {c.comment_id: c for c in candidates_in([clinic.id])}
    assert not offered[small.id].enough

    quote = service.approve_quote(_comment(clinic.id, "2026-03").id, STAFF, NOW)
    assert "Quartermain" not in quote.text
    assert "07400 999111" not in quote.text
    assert "zeb@example.com" not in quote.text
    assert "[name]" in quote.text
    assert "[phone]" in quote.text
    assert quote.period == "2026-03"
    assert quote.id in {q.id for q in service.live_quotes(clinic.organisation_id, clinic.id)}
    assert quote.comment_id not in {c.comment_id for c in candidates_in([clinic.id])}

    service.withdraw_quote(quote.id, STAFF, NOW)
    assert service.live_quotes(clinic.organisation_id) == []
    assert _actions()[-2:] == [AuditAction.APPROVE_QUOTE, AuditAction.WITHDRAW_QUOTE]
    again = service.approve_quote(quote.comment_id, STAFF, NOW)
    assert again.id == quote.id
    assert again.withdrawn_at is None


def test_entries_check_their_fields_themes_and_quotes(world: World) -> None:
    north = world.clinic("north")
    east = world.clinic("east")
    surveyed_month(north, "2026-03", 12, 10, WORDS)
    surveyed_month(east, "2026-03", 12, 10, WORDS)
    quote = service.approve_quote(_comment(east.id, "2026-03").id, STAFF, NOW)
    theme = next(t for t in codebook(north.organisation_id) if t.name == "Parking")
    given = service.EntryInput(
        said="The car park was full every morning.",
        did="We opened the staff car park to patients before 10am.",
        status=EntryStatus.IN_PROGRESS,
        theme_ids=[theme.id],
        started_on=date(2026, 3, 1),
    )

    entry = service.create_entry(north.organisation_id, north.id, given, STAFF, NOW)
    assert (entry.theme_ids, entry.status) == ([theme.id], EntryStatus.IN_PROGRESS)

    for broken, field in (
        (service.EntryInput("  ", "did", EntryStatus.PLANNED), "said"),
        (service.EntryInput("said", "x" * 1001, EntryStatus.PLANNED), "did"),
        (service.EntryInput("said", "did", EntryStatus.DONE, theme_ids=[10**6]), "theme_ids"),
        # A quote of another clinic cannot illustrate this clinic's entry.
        (service.EntryInput("said", "did", EntryStatus.DONE, quote_ids=[quote.id]), "quote_ids"),
        (
            service.EntryInput(
                "said",
                "did",
                EntryStatus.DONE,
                started_on=date(2026, 3, 2),
                done_on=date(2026, 3, 1),
            ),
            "done_on",
        ),
    ):
        with pytest.raises(Invalid, match=field):
            service.update_entry(entry.id, broken, STAFF, NOW)

    # The organisation's own entry may show any of its clinics' quotes.
    whole = service.create_entry(
        north.organisation_id,
        None,
        service.EntryInput("said", "did", EntryStatus.DONE, quote_ids=[quote.id]),
        STAFF,
        NOW,
    )
    assert whole.quote_ids == [quote.id]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.EDIT_YOU_SAID)
    ).all()
    assert [(e.record_ids, e.detail["change"]) for e in events] == [
        ([entry.id], "create"),
        ([whole.id], "create"),
    ]


def test_erasing_the_patient_withdraws_and_blanks_their_quote(world: World) -> None:
    clinic = world.clinic("north")
    surveyed_month(clinic, "2026-03", 20, 10, WORDS)
    quote = service.approve_quote(_comment(clinic.id, "2026-03").id, STAFF, NOW)
    session = db.session.get(SurveySession, _session_of(quote.comment_id))
    assert session is not None
    assert count_everywhere(session.patient_id, clinic.id)["published_quotes"] == 1

    assert erase_everywhere(session.patient_id, clinic.id, NOW)["quotes_withdrawn"] == 1
    db.session.commit()
    assert quote.text == ""
    assert quote.withdrawn_at == NOW
    assert service.live_quotes(clinic.organisation_id) == []


def _session_of(comment_id: int) -> int:
    found = db.session.scalar(
        select(SurveyInvitation.session_id)
        .join(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
        .join(ThemeComment, ThemeComment.response_id == SurveyResponse.id)
        .where(ThemeComment.id == comment_id)
    )
    assert found is not None
    return found
