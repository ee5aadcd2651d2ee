"""Results commands: snapshots on demand and nightly (invitations and responses are
recorded as surveys run, by `app.results.recording`).

A snapshot rakes the respondents of one survey × scope × period to the invited cohort
(app.results.summary says how) and keeps weighted and unweighted estimates side by side,
with intervals, the effective sample size, every question's figures with the same weights
and the non-response report; any figure resting on fewer than 10 responses is marked for
suppression.

Snapshots are immutable versions. A new one is written only when its inputs changed:
`diagnostics.inputs` is a digest of the cohort (each invitation, whether it responded,
its FFT answer and when its response last changed: any new or changed answer moves that
time) and `diagnostics.computation` the version of what a snapshot computes. A survey
version never changes once stored, so the questions' definitions need no place in the
digest. The computation version is compared beside the digest (not folded into it) so
that a snapshot made before a change of computation (one without every question's
figures, say) is recomputed once by the nightly run, and from then on only when its
cohort changes; so is one whose digest was taken in an earlier form than
`cohort.DIGEST_FORM`. The cohort is read as columns (`app.results.cohort`), never as an
object per invitation: an organisation's month may hold a million.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.models import Clinic
from app.clinics.queries import get_clinic_by_slug
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.results import sources
from app.results.cohort import read_cohort, read_columns
from app.results.models import ResultSnapshot, SurveyInvitation
from app.results.queries import Place
from app.results.questions import SUPPRESS_BELOW, question_specs
from app.results.summary import json_safe, summarise, summarise_columns, uses_fft

__all__ = ["SUPPRESS_BELOW", "summarise"]

SCOPES = ("clinic", "service", "organisation")
#: What a snapshot computes, as a version: 2 added every question's figures and the
#: response of each language and channel, 3 the response by channel within each group.
#: Raise it when a snapshot's content changes.
COMPUTATION = 3
#: The longest survey name or pathway (the size of their columns).
MAX_NAME = 64


def scope_filter(scope: str, scope_id: int, scope_key: str) -> list[Any]:
    if scope == "clinic":
        return [SurveyInvitation.clinic_id == scope_id]
    if scope == "organisation":
        return [SurveyInvitation.organisation_id == scope_id]
    if scope == "service":
        return [SurveyInvitation.organisation_id == scope_id, SurveyInvitation.pathway == scope_key]
    raise Invalid(f"scope must be one of {', '.join(SCOPES)}")


def compute_snapshot(
    slug: str,
    scope: str,
    scope_id: int,
    period: str,
    now: datetime,
    *,
    scope_key: str = "",
    only_if_changed: bool = False,
) -> ResultSnapshot | None:
    """Weight, estimate and store a new snapshot version. Commits.

    With `only_if_changed`, returns None without writing when the inputs are those of the
    latest version (the nightly run). Raises Invalid for a bad scope or period and when
    weights cannot be made (the message names the variable and level).
    """
    check_period(period)
    where = [
        SurveyInvitation.survey_slug == slug,
        SurveyInvitation.period == period,
        *scope_filter(scope, scope_id, scope_key),
    ]
    cohort = read_cohort(where)
    latest = _latest(slug, scope, scope_id, scope_key, period)
    if only_if_changed and latest is not None and _unchanged(latest, cohort.inputs):
        return None
    definitions = sources.definitions(cohort.versions)
    fft_rule = uses_fft(definitions)
    specs = question_specs(definitions or {})
    result = summarise_columns(read_columns(cohort, where, specs, fft_rule), specs, fft_rule)
    result["diagnostics"] |= {"inputs": cohort.inputs, "computation": COMPUTATION}
    snapshot = ResultSnapshot(
        survey_slug=slug,
        scope=scope,
        scope_id=scope_id,
        scope_key=scope_key,
        period=period,
        version=(latest.version + 1) if latest else 1,
        method=result["method"],
        diagnostics=json_safe(result["diagnostics"]),
        estimates=json_safe(result["estimates"]),
        nonresponse=json_safe(result["nonresponse"]),
        questions=json_safe(result["questions"]),
        weights=result["weights"],
        computed_at=now,
    )
    db.session.add(snapshot)
    db.session.commit()
    return snapshot


def refresh_snapshot(
    slug: str, scope: str, scope_id: int, period: str, now: datetime, *, scope_key: str = ""
) -> tuple[ResultSnapshot, bool]:
    """The snapshot of today's inputs: a new version if they changed since the latest
    (True), else the latest itself (False). Commits. Raises Invalid as compute_snapshot."""
    try:
        written = compute_snapshot(
            slug, scope, scope_id, period, now, scope_key=scope_key, only_if_changed=True
        )
    except IntegrityError:
        # Another request wrote this version a moment ago; theirs stands.
        db.session.rollback()
        latest = _latest(slug, scope, scope_id, scope_key, period)
        if latest is None:
            raise
        return latest, False
    if written is not None:
        return written, True
    latest = _latest(slug, scope, scope_id, scope_key, period)
    assert latest is not None  # unchanged inputs are those of the latest version
    return latest, False


def check_name(what: str, value: str) -> None:
    """Raise Invalid unless `value` (a survey name or pathway from a request) is 1 to
    MAX_NAME printable characters: the database is not asked about anything else."""
    if not 0 < len(value) <= MAX_NAME or not value.isprintable():
        raise Invalid(f"{what} must be 1 to {MAX_NAME} printable characters")


def check_survey(clinic: Clinic, scope: str, slug: str) -> None:
    """Raise NotFound unless `slug` is the clinic's survey or one its scope (the clinic,
    or its organisation) has invited patients to."""
    if slug == clinic.survey_slug:
        return
    where = (
        SurveyInvitation.clinic_id == clinic.id
        if scope == "clinic"
        else SurveyInvitation.organisation_id == clinic.organisation_id
    )
    found = db.session.scalar(
        select(SurveyInvitation.id).where(SurveyInvitation.survey_slug == slug, where).limit(1)
    )
    if found is None:
        place = "this clinic" if scope == "clinic" else "this clinic's organisation"
        raise NotFound(f"{place} has no survey of that name")


def check_pathway(organisation_id: int, pathway: str) -> None:
    """Raise NotFound unless some patient of the organisation was invited on `pathway`."""
    found = db.session.scalar(
        select(SurveyInvitation.id)
        .where(
            SurveyInvitation.organisation_id == organisation_id,
            SurveyInvitation.pathway == pathway,
        )
        .limit(1)
    )
    if found is None:
        raise NotFound("no patient of this organisation was surveyed on that pathway")


def check_period(period: str) -> None:
    """Raise Invalid unless `period` is a month, YYYY-MM."""
    try:
        datetime.strptime(period, "%Y-%m")
    except ValueError:
        raise Invalid(f"period must be YYYY-MM, got {period!r}") from None


def _latest(
    slug: str, scope: str, scope_id: int, scope_key: str, period: str
) -> ResultSnapshot | None:
    """The latest version, its weights left unread until asked for: in a large
    organisation they are most of a snapshot, and a new version does not need them."""
    return db.session.scalar(
        select(ResultSnapshot)
        .options(defer(ResultSnapshot.weights))
        .where(
            ResultSnapshot.survey_slug == slug,
            ResultSnapshot.scope == scope,
            ResultSnapshot.scope_id == scope_id,
            ResultSnapshot.scope_key == scope_key,
            ResultSnapshot.period == period,
        )
        .order_by(ResultSnapshot.version.desc())
        .limit(1)
    )


def _unchanged(latest: ResultSnapshot, inputs: str) -> bool:
    diagnostics = latest.diagnostics
    return diagnostics.get("inputs") == inputs and diagnostics.get("computation") == COMPUTATION


@dataclass(frozen=True, order=True)
class SnapshotPlace:
    """One snapshot to keep up to date: a survey at a place (a clinic, a service: a
    pathway of an organisation, or an organisation) in a month."""

    survey_slug: str
    scope: str
    scope_id: int
    period: str
    pathway: str = ""


def recent_places(since: datetime) -> list[SnapshotPlace]:
    """Every survey × place × month with an invitation since `since`: each clinic, each
    organisation as a whole and each of its pathways (services), from one grouped read.
    Clinics come first, then services, then organisations."""
    rows = db.session.execute(
        select(
            SurveyInvitation.survey_slug,
            SurveyInvitation.organisation_id,
            SurveyInvitation.clinic_id,
            SurveyInvitation.pathway,
            SurveyInvitation.period,
        )
        .where(SurveyInvitation.invited_at >= since)
        .group_by(
            SurveyInvitation.survey_slug,
            SurveyInvitation.organisation_id,
            SurveyInvitation.clinic_id,
            SurveyInvitation.pathway,
            SurveyInvitation.period,
        )
    ).all()
    places: set[SnapshotPlace] = set()
    for slug, organisation_id, clinic_id, pathway, period in rows:
        places.add(SnapshotPlace(slug, "clinic", clinic_id, period))
        places.add(SnapshotPlace(slug, "organisation", organisation_id, period))
        if pathway:
            places.add(SnapshotPlace(slug, "service", organisation_id, period, pathway))
    return sorted(places, key=lambda p: (SCOPES.index(p.scope), p))


def recompute_recent(now: datetime, months: int = 2) -> int:
    """The nightly run: a new snapshot version for every survey and recent period, at
    every clinic, service and organisation that invited patients to it, whose inputs
    changed. A place whose weights cannot be made is left as it was. Commits; returns
    how many were written."""
    written = 0
    for place in recent_places(now - timedelta(days=31 * months)):
        try:
            snapshot = compute_snapshot(
                place.survey_slug,
                place.scope,
                place.scope_id,
                place.period,
                now,
                scope_key=place.pathway,
                only_if_changed=True,
            )
        except Invalid:
            db.session.rollback()
            continue
        written += snapshot is not None
    return written


def latest_snapshot(
    slug: str, scope: str, scope_id: int, period: str, scope_key: str = ""
) -> ResultSnapshot | None:
    check_period(period)
    if scope not in SCOPES:
        raise Invalid(f"scope must be one of {', '.join(SCOPES)}")
    return _latest(slug, scope, scope_id, scope_key, period)


def snapshot_count() -> int:
    return int(db.session.scalar(select(func.count(ResultSnapshot.id))) or 0)


def scope_of(clinic: Clinic, scope: str, pathway: str = "") -> tuple[str, int, str]:
    """The scope (clinic, its organisation, or a service: a pathway of the organisation)
    as (scope, scope id, pathway). Raises Invalid for an unknown scope or a service
    without its pathway."""
    if scope == "clinic":
        return scope, clinic.id, ""
    if scope == "organisation":
        return scope, clinic.organisation_id, ""
    if scope == "service":
        if not pathway:
            raise Invalid("scope=service needs a pathway")
        return scope, clinic.organisation_id, pathway
    raise Invalid(f"scope must be one of {', '.join(SCOPES)}")


def compute_clinic_snapshot(
    slug: str, clinic_slug: str, scope: str, period: str, now: datetime, pathway: str = ""
) -> ResultSnapshot:
    """`compute_snapshot` for a scope named from the clinic `clinic_slug`; commits."""
    clinic = get_clinic_by_slug(clinic_slug)
    scope, scope_id, key = scope_of(clinic, scope, pathway)
    snapshot = compute_snapshot(slug, scope, scope_id, period, now, scope_key=key)
    assert snapshot is not None
    return snapshot


def snapshot_json(snapshot: ResultSnapshot) -> dict[str, Any]:
    """A snapshot as analysts see it (without per-respondent weights)."""
    return {
        "survey": snapshot.survey_slug,
        "scope": snapshot.scope,
        "scope_id": snapshot.scope_id,
        "pathway": snapshot.scope_key or None,
        "period": snapshot.period,
        "version": snapshot.version,
        "method": snapshot.method,
        "computed_at": snapshot.computed_at.isoformat(),
        "estimates": snapshot.estimates,
        "diagnostics": {k: v for k, v in snapshot.diagnostics.items() if k != "inputs"},
        "nonresponse": snapshot.nonresponse,
        # None for a version computed before every question was estimated.
        "questions": snapshot.questions,
    }


def record_export(
    place: Place,
    organisation_id: int,
    snapshot_ids: Sequence[int],
    what: str,
    rows: int,
    file_format: str,
    clock: Clock,
    actor: Actor,
) -> None:
    """Record in the audit log (EXPORT) that a chart or table of these snapshots was
    downloaded: which one, in which format, how many rows. Commits."""
    record(
        AuditAction.EXPORT,
        actor,
        clock.now(),
        record_type="result_snapshot",
        record_ids=sorted(snapshot_ids),
        clinic_id=place.scope_id if place.scope == "clinic" else None,
        organisation_id=organisation_id,
        detail={"what": f"results_{what}", "format": file_format, "rows": rows},
    )
    db.session.commit()
