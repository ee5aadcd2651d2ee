"""Template texts and each clinic's own wording of them.

The texts are those the features register (`app.messaging.registry.TemplateSet`), by
name. A clinic may override any of them per locale; an override is linted before it is
stored, so it can never ask a patient to reply with an opt-out word.
"""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditAction
from app.audit.service import SYSTEM, Actor, record
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.core.errors import Invalid
from app.core.locales import SUPPORTED_LOCALES
from app.extensions import db
from app.messaging import compose
from app.messaging.lint import Problem, lint, placeholders
from app.messaging.models import TemplateOverride
from app.messaging.registry import template_texts


def overrides_for(clinic_id: int) -> compose.Overrides:
    """The clinic's own wording of templates: message id → locale → text."""
    by_name = template_texts()
    result: dict[str, dict[str, str]] = {}
    for row in db.session.scalars(
        select(TemplateOverride).where(TemplateOverride.clinic_id == clinic_id)
    ):
        msgid = by_name.get(row.kind)
        if msgid is not None:
            result.setdefault(msgid, {})[row.locale] = row.body
    return result


def set_template_override(
    clinic_id: int,
    name: str,
    locale: str,
    text: str | None,
    clock: Clock,
    actor: Actor = SYSTEM,
) -> list[Problem]:
    """Set (or, with `text` None, remove) a clinic's wording of one template. Commits,
    and records the change in the audit log (which template and locale, never the text).

    Raises Invalid for an unknown template or locale, or a text the template lint refuses
    (a reply word that opts out, a missing or unknown placeholder, an over-long body);
    returns the warnings it accepted.
    """
    known = template_texts()
    if name not in known:
        raise Invalid(f"unknown template {name!r}; one of: {', '.join(sorted(known))}")
    if locale not in SUPPORTED_LOCALES:
        raise Invalid(f"unknown locale {locale!r}")
    row = db.session.scalar(
        select(TemplateOverride).where(
            TemplateOverride.clinic_id == clinic_id,
            TemplateOverride.kind == name,
            TemplateOverride.locale == locale,
        )
    )
    if text is None:
        if row is not None:
            _audit(row, actor, clock, removed=True)
            db.session.delete(row)
        db.session.commit()
        return []
    problems = lint(text, locale=locale, expected_placeholders=placeholders(known[name]))
    errors = [p.message for p in problems if p.level == "error"]
    if errors:
        raise Invalid(f"{name} {locale}: " + "; ".join(errors))
    now = clock.now()
    if row is None:
        row = TemplateOverride(
            clinic_id=clinic_id, kind=name, locale=locale, body=text, updated_at=now
        )
        db.session.add(row)
        db.session.flush()
    else:
        row.body, row.updated_at = text, now
    _audit(row, actor, clock, removed=False)
    db.session.commit()
    return problems


def _audit(row: TemplateOverride, actor: Actor, clock: Clock, *, removed: bool) -> None:
    clinic = db.session.get(Clinic, row.clinic_id)
    record(
        AuditAction.EDIT_TEMPLATE,
        actor,
        clock.now(),
        record_type="template_override",
        record_ids=[row.id],
        clinic_id=row.clinic_id,
        organisation_id=clinic.organisation_id if clinic else None,
        detail={"template": row.kind, "locale": row.locale, "removed": removed},
    )
