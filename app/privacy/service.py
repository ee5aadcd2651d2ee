"""Privacy commands: erase a patient, erase the provider's copies, purge old text, and
set an organisation's retention period. Each commits, and each is in the audit log.

- `erase_patient` removes or replaces every identifying field of one patient, blanks
  every text they sent or were sent, ends what was still to happen, and lists the
  provider's copies to erase; one transaction, one audit event (ids and counts only).
  The field-by-field rules are in `app.privacy.erasure`.
- `erase_at_provider` (a job, ids in) asks Twilio to blank each listed message and
  delete each listed call, and retries what Twilio could not do yet; `due_erasures`
  gives the clock what to queue again, so a lost queue loses nothing.
- `purge_old_text` blanks message bodies, replies and free-text answers older than
  each organisation's retention period; safe to run twice and on several machines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from app.audit.models import AuditAction, AuditEvent
from app.audit.queries import AuditPage, AuditSearch, all_events, count_events, search_page
from app.audit.service import Actor, record
from app.clinics.models import Clinic, Organisation
from app.clinics.queries import find_organisation, get_clinic
from app.core.channels import Channel
from app.core.clock import Clock
from app.core.erasure import SETTLED, CallEraser, EraseOutcome, MessageEraser
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.patients import forgetting
from app.patients.models import Patient
from app.privacy import erasure, queries, retention
from app.privacy.models import ErasureKind, ErasureState, ProviderErasure
from app.privacy.rules import (
    DEFAULT_RETENTION_MONTHS,
    MAX_ATTEMPTS,
    check_retention_months,
    months_before,
    retry_delay,
)
from app.queueing import JobName, JobQueue

log = logging.getLogger(__name__)

#: Patients erased this recently are looked at again by the clock: a message that was
#: being sent at the moment of erasure gets its provider sid afterwards.
SETTLE_WINDOW = timedelta(days=1)


# -- erasing a patient --------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did (or, with `already`, that it had been done before)."""

    patient_id: int
    clinic_id: int
    erased_at: datetime
    already: bool
    counts: Mapping[str, int] = field(default_factory=dict)


def erase_patient(
    patient_id: int, clock: Clock, actor: Actor, queue: JobQueue | None = None
) -> ErasureReport:
    """Erase the patient `patient_id`, in one transaction, and queue the erasure of the
    provider's copies (job arguments are ids). Commits.

    Erasing an erased patient changes nothing and says so (`already`). Raises NotFound
    for an unknown patient. The caller checks that the actor may erase in the clinic.
    """
    patient = db.session.get(Patient, patient_id, with_for_update=True)
    if patient is None:
        raise NotFound("no such patient")
    if patient.erased_at is not None:
        report = ErasureReport(patient_id, patient.clinic_id, patient.erased_at, already=True)
        db.session.rollback()
        return report
    clinic = get_clinic(patient.clinic_id)
    now = clock.now()
    counts, erasure_ids = erasure.erase_messages(patient, now)
    counts["appointments"] = erasure.pseudonymise_appointments(patient.id, now)
    counts |= forgetting.erase_everywhere(patient.id, clinic.id, now)
    erasure.pseudonymise_patient(patient, clinic.default_locale, now)
    record(
        AuditAction.ERASE_PATIENT,
        actor,
        now,
        record_type="patient",
        record_ids=[patient.id],
        clinic_id=clinic.id,
        organisation_id=clinic.organisation_id,
        detail=counts,
    )
    db.session.commit()
    _wake(queue, erasure_ids)
    return ErasureReport(patient_id, clinic.id, now, already=False, counts=dict(counts))


def _wake(queue: JobQueue | None, erasure_ids: Sequence[int]) -> None:
    if queue is None or not erasure_ids:
        return
    try:
        queue.enqueue_batches(JobName.ERASE_AT_PROVIDER, erasure_ids)
    except Exception:  # Redis down: the clock queues due erasures again, nothing is lost
        log.exception("could not queue %s provider erasure(s); the clock will", len(erasure_ids))


def settle_recent_erasures(now: datetime) -> int:
    """Look again at patients erased in the last day: blank any text written since (a
    message that was on its way when they were erased) and list new provider copies.
    Commits; returns how many provider copies were added."""
    recent = db.session.scalars(
        select(Patient).where(
            Patient.erased_at.is_not(None), Patient.erased_at >= now - SETTLE_WINDOW
        )
    ).all()
    added = 0
    for patient in recent:
        counts, _ids = erasure.erase_messages(patient, now)
        added += counts["at_provider"]
    db.session.commit()
    return added


# -- the provider's copies ----------------------------------------------------------------


def due_erasures(now: datetime, limit: int = 1000) -> list[int]:
    """Pending provider erasures whose next attempt is due, for the clock to queue."""
    return list(
        db.session.scalars(
            select(ProviderErasure.id)
            .where(
                ProviderErasure.state == ErasureState.PENDING,
                ProviderErasure.next_attempt_at <= now,
            )
            .order_by(ProviderErasure.next_attempt_at)
            .limit(limit)
        )
    )


def erase_at_provider(
    erasure_ids: Sequence[int], channels: Mapping[str, object], clock: Clock
) -> dict[str, int]:
    """Ask the provider to erase each listed copy that is due: blank a message's text,
    delete a call's record. Commits after each.

    A copy is taken with a row lock and its next attempt pushed back before the provider
    is called, so two workers never ask for the same copy at once; a worker that dies
    mid-call leaves it for the next attempt. Erasing twice is harmless at Twilio. A copy
    still refused after MAX_ATTEMPTS is abandoned, for an operator to look at.
    """
    counts = {"erased": 0, "retry": 0, "abandoned": 0, "skipped": 0}
    for erasure_id in erasure_ids:
        taken = _take(erasure_id, clock.now())
        if taken is None:
            counts["skipped"] += 1
            continue
        kind, channel, sid = taken
        db.session.close()  # no transaction is held while the provider is called
        outcome = _ask(channels, kind, channel, sid)
        counts[_settle(erasure_id, outcome, clock.now())] += 1
    return counts


def _take(erasure_id: int, now: datetime) -> tuple[ErasureKind, Channel, str] | None:
    row = db.session.scalar(
        select(ProviderErasure)
        .where(
            ProviderErasure.id == erasure_id,
            ProviderErasure.state == ErasureState.PENDING,
            ProviderErasure.next_attempt_at <= now,
        )
        .with_for_update(skip_locked=True)
    )
    if row is None:
        db.session.rollback()
        return None
    row.attempts += 1
    row.next_attempt_at = now + retry_delay(row.attempts)
    taken = (ErasureKind(row.kind), Channel(row.channel), row.provider_sid)
    db.session.commit()
    return taken


def _ask(
    channels: Mapping[str, object], kind: ErasureKind, channel: Channel, sid: str
) -> EraseOutcome:
    plugin = channels.get(channel)
    if kind is ErasureKind.MESSAGE and isinstance(plugin, MessageEraser):
        return plugin.erase_message(sid)
    if kind is ErasureKind.CALL and isinstance(plugin, CallEraser):
        return plugin.erase_call(sid)
    log.warning("no %s channel can erase a %s", channel.value, kind.value)
    return EraseOutcome.FAILED


def _settle(erasure_id: int, outcome: EraseOutcome, now: datetime) -> str:
    row = db.session.get(ProviderErasure, erasure_id)
    assert row is not None
    if outcome in SETTLED:
        row.state, row.done_at, row.last_outcome = ErasureState.DONE, now, outcome.value
        result = "erased"
    elif row.attempts >= MAX_ATTEMPTS:
        row.state, row.last_outcome = ErasureState.ABANDONED, outcome.value
        log.warning("provider erasure %s abandoned after %s attempts", row.id, row.attempts)
        result = "abandoned"
    else:
        row.last_outcome = outcome.value
        result = "retry"
    db.session.commit()
    return result


# -- retention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeReport:
    """One organisation's purge: its cut-off and what was blanked, or that another
    process was purging it at the same moment (`skipped`)."""

    organisation_id: int | None
    slug: str
    months: int
    cutoff: datetime
    counts: Mapping[str, int]
    skipped: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def purge_old_text(clock: Clock, actor: Actor, org_slug: str | None = None) -> list[PurgeReport]:
    """Blank message bodies, replies and free-text answers older than each
    organisation's retention period (of `org_slug` only, if given). Commits after each
    organisation; a purge that blanked anything is audited with its counts.

    Safe to run twice (what is blank stays blank) and on several machines at once: each
    organisation's row is locked for its purge and skipped by whoever finds it locked.
    Replies that reached no clinic belong to no organisation: they are purged after the
    default period when every organisation is. Raises NotFound for an unknown slug.
    """
    now = clock.now()
    if org_slug is not None:
        found = find_organisation(org_slug)
        if found is None:
            raise NotFound(f"no organisation {org_slug!r}")
        ids = [found.id]
    else:
        ids = list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
    reports = [_purge_organisation(org_id, now, actor) for org_id in ids]
    if org_slug is None:
        reports.append(_purge_unowned(now, actor))
    return reports


def _purge_organisation(organisation_id: int, now: datetime, actor: Actor) -> PurgeReport:
    organisation = db.session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation_id)
        .with_for_update(skip_locked=True, key_share=True)
    )
    if organisation is None:  # another process holds it: it is purging it now
        db.session.rollback()
        return PurgeReport(organisation_id, "", 0, now, {}, skipped=True)
    months = organisation.retention_months
    cutoff = months_before(now, months)
    clinic_ids = list(
        db.session.scalars(select(Clinic.id).where(Clinic.organisation_id == organisation.id))
    )
    counts = retention.purge_texts(clinic_ids, cutoff)
    report = PurgeReport(organisation.id, organisation.slug, months, cutoff, counts)
    _audit_purge(report, now, actor)
    db.session.commit()
    return report


def _purge_unowned(now: datetime, actor: Actor) -> PurgeReport:
    cutoff = months_before(now, DEFAULT_RETENTION_MONTHS)
    counts = {"replies": retention.blank_unowned_replies(cutoff)}
    report = PurgeReport(None, "", DEFAULT_RETENTION_MONTHS, cutoff, counts)
    _audit_purge(report, now, actor)
    db.session.commit()
    return report


def _audit_purge(report: PurgeReport, now: datetime, actor: Actor) -> None:
    if not report.total:
        return
    record(
        AuditAction.RETENTION_PURGE,
        actor,
        now,
        record_type="organisation" if report.organisation_id else "",
        record_ids=[report.organisation_id] if report.organisation_id else [],
        organisation_id=report.organisation_id,
        detail={**report.counts, "months": report.months},
    )


def set_retention(organisation_id: int, months: int, clock: Clock, actor: Actor) -> Organisation:
    """Set how many months the organisation keeps message texts and free-text answers.
    Audited; commits. Raises NotFound for an unknown organisation and Invalid for a
    period outside 1 to 120 months."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    try:
        organisation.retention_months = check_retention_months(months)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    record(
        AuditAction.EDIT_SETTINGS,
        actor,
        clock.now(),
        record_type="organisation",
        record_ids=[organisation.id],
        organisation_id=organisation.id,
        detail={"retention_months": months},
    )
    db.session.commit()
    return organisation


# -- what staff are shown -------------------------------------------------------------------


def open_erasure(patient_id: int, clock: Clock, actor: Actor) -> dict[str, int]:
    """What erasing the patient would do, as counts, for the page that asks to confirm.
    That page shows the patient's name and ID, so the view is audited. Commits. Raises
    NotFound for an unknown patient; the caller checks the actor may see them."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    preview = queries.erasure_preview(patient)
    record(
        AuditAction.VIEW_PATIENT,
        actor,
        clock.now(),
        record_type="patient",
        record_ids=[patient.id],
        clinic_id=patient.clinic_id,
        organisation_id=get_clinic(patient.clinic_id).organisation_id,
        detail={"purpose": "erasure"},
    )
    db.session.commit()
    return preview


def _single(organisation_ids: Sequence[int]) -> int | None:
    """The organisation an event belongs to when the searcher has exactly one; else
    None, and the event is theirs by who did it."""
    return organisation_ids[0] if len(organisation_ids) == 1 else None


def search_audit_log(
    search: AuditSearch, page: int, size: int, clock: Clock, actor: Actor
) -> tuple[AuditPage, list[queries.EventRow]]:
    """One page of the audit log, its events described; the search is itself audited
    (VIEW_AUDIT, with the page and the number of events shown). Commits."""
    found = search_page(search, page, size)
    record(
        AuditAction.VIEW_AUDIT,
        actor,
        clock.now(),
        record_type="audit_log",
        organisation_id=_single(list(search.organisation_ids or ())),
        detail={"page": found.page + 1, "events": len(found.events)},
    )
    db.session.commit()
    return found, queries.describe(found.events)


def export_audit_log(search: AuditSearch, clock: Clock, actor: Actor) -> Iterator[queries.EventRow]:
    """Every event the search finds, described, for a download; the export is audited
    (EXPORT, with the number of events) before the first row is read. Commits."""
    total = count_events(search)
    record(
        AuditAction.EXPORT,
        actor,
        clock.now(),
        record_type="audit_log",
        organisation_id=_single(list(search.organisation_ids or ())),
        detail={"events": total},
    )
    db.session.commit()
    return _described(all_events(search))


def _described(events: Iterator[AuditEvent], batch: int = 500) -> Iterator[queries.EventRow]:
    chunk: list[AuditEvent] = []
    for event in events:
        chunk.append(event)
        if len(chunk) == batch:
            yield from queries.describe(chunk)
            chunk = []
    yield from queries.describe(chunk)
