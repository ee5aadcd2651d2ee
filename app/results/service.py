"""Results commands: invitations and responses as surveys run; snapshots on demand and nightly.

A snapshot rakes the respondents of one survey × scope × period to the invited cohort
on age band, sex, ethnic group and deprivation quintile (app.results.categories), with
"unknown" an explicit level. A level with cohort members but no respondents is merged into
its nearest neighbour (the `adjacent` rule in app.results.weighting) and the merge is
recorded in the diagnostics. The snapshot keeps weighted and unweighted estimates side by
side, with intervals, the effective sample size and the non-response report; any estimate
resting on fewer than 10 responses is marked for suppression in public outputs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clinics.models import Clinic
from app.clinics.queries import get_clinic_by_slug
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.patients.models import Patient
from app.results import categories as cat
from app.results.estimates import Estimate, effective_sample_size, kish_deff, weighted_proportion
from app.results.models import ResultSnapshot, SurveyInvitation, SurveyResponse
from app.results.nonresponse import nonresponse_report
from app.results.weighting import Margin, WeightingError, WeightingResult, rake

#: Public outputs hide any estimate resting on fewer responses than this.
SUPPRESS_BELOW = 10
SCOPES = ("clinic", "service", "organisation")
#: The Friends and Family Test's question id, and its answers counted as positive and
#: negative (NHS England's definition: of all responses, "don't know" included).
FFT_QUESTION = "fft"
FFT_POSITIVE = frozenset({"very_good", "good"})
FFT_NEGATIVE = frozenset({"poor", "very_poor"})
#: Answer statuses that count as a response.
_ANSWERED = ("answered", "dont_know")
#: The longest survey name or pathway (the size of their columns).
MAX_NAME = 64


@dataclass(frozen=True)
class Invitee:
    """A patient just invited to a survey (a conversation has opened)."""

    session_id: int
    survey_version_id: int
    survey_slug: str
    clinic_id: int
    patient_id: int
    pathway: str | None
    channel: str


@dataclass(frozen=True)
class GivenAnswer:
    """One answer of a conversation, as the response keeps it."""

    question_id: str
    status: str
    value: str | None
    language: str | None


def pseudonym_secret(secret_key: str) -> bytes:
    """The key of respondents' pseudonyms, derived from the app's SECRET_KEY."""
    return hmac.new(secret_key.encode(), b"wesaid.respondent", hashlib.sha256).digest()


def respondent_key(secret: bytes, clinic_id: int, patient_id: int) -> str:
    """A keyed hash of the patient within a clinic: stable, not reversible without `secret`."""
    message = f"{clinic_id}:{patient_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def record_invitation(invitee: Invitee, now: datetime, secret: bytes) -> None:
    """Write the invitation row for a conversation that has just opened, with the
    patient's weighting categories as they are now. Does not commit."""
    patient = db.session.get(Patient, invitee.patient_id)
    clinic = db.session.get(Clinic, invitee.clinic_id)
    assert patient is not None
    assert clinic is not None
    local = now.astimezone(ZoneInfo(clinic.timezone))
    db.session.add(
        SurveyInvitation(
            session_id=invitee.session_id,
            survey_version_id=invitee.survey_version_id,
            survey_slug=invitee.survey_slug,
            organisation_id=clinic.organisation_id,
            clinic_id=clinic.id,
            pathway=invitee.pathway,
            period=f"{local.year:04d}-{local.month:02d}",
            respondent_key=respondent_key(secret, clinic.id, patient.id),
            age_band=cat.age_band(patient.birth_year, local.year),
            sex=cat.sex(patient.sex),
            ethnic=cat.ethnic_group(patient.ethnic_category),
            imd=cat.imd(patient.imd_quintile),
            language=patient.locale,
            channel=invitee.channel,
            invited_at=now,
            responded=False,
        )
    )


def record_response(session_id: int, answers: Sequence[GivenAnswer], now: datetime) -> None:
    """Copy a conversation's answers so far into its pseudonymous response row. Does not
    commit."""
    invitation = db.session.scalar(
        select(SurveyInvitation).where(SurveyInvitation.session_id == session_id)
    )
    if invitation is None:
        return
    stored = {
        a.question_id: {"status": a.status, "value": a.value, "language": a.language}
        for a in answers
    }
    fft = next(
        (a.value for a in answers if a.question_id == FFT_QUESTION and a.status in _ANSWERED),
        None,
    )
    response = db.session.scalar(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id)
    )
    if response is None:
        response = SurveyResponse(
            invitation_id=invitation.id,
            respondent_key=invitation.respondent_key,
            survey_version_id=invitation.survey_version_id,
            language=invitation.language,
            channel=invitation.channel,
            responded_at=now,
        )
        db.session.add(response)
    response.answers = stored
    response.fft = fft
    response.updated_at = now
    invitation.responded = any(a.status in _ANSWERED for a in answers)


# -- snapshots ---------------------------------------------------------------------------


def _scope_filter(scope: str, scope_id: int, scope_key: str) -> list[Any]:
    if scope == "clinic":
        return [SurveyInvitation.clinic_id == scope_id]
    if scope == "organisation":
        return [SurveyInvitation.organisation_id == scope_id]
    if scope == "service":
        return [SurveyInvitation.organisation_id == scope_id, SurveyInvitation.pathway == scope_key]
    raise Invalid(f"scope must be one of {', '.join(SCOPES)}")


def _cohort(
    slug: str, scope: str, scope_id: int, scope_key: str, period: str
) -> list[tuple[SurveyInvitation, SurveyResponse | None]]:
    rows = db.session.execute(
        select(SurveyInvitation, SurveyResponse)
        .outerjoin(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
        .where(
            SurveyInvitation.survey_slug == slug,
            SurveyInvitation.period == period,
            *_scope_filter(scope, scope_id, scope_key),
        )
        .order_by(SurveyInvitation.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


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
    cohort = _cohort(slug, scope, scope_id, scope_key, period)
    inputs = _digest(cohort)
    latest = _latest(slug, scope, scope_id, scope_key, period)
    if only_if_changed and latest is not None and latest.diagnostics.get("inputs") == inputs:
        return None
    result = summarise(cohort)
    result["diagnostics"]["inputs"] = inputs
    snapshot = ResultSnapshot(
        survey_slug=slug,
        scope=scope,
        scope_id=scope_id,
        scope_key=scope_key,
        period=period,
        version=(latest.version + 1) if latest else 1,
        method=result["method"],
        diagnostics=_json_safe(result["diagnostics"]),
        estimates=_json_safe(result["estimates"]),
        nonresponse=_json_safe(result["nonresponse"]),
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
    return db.session.scalar(
        select(ResultSnapshot)
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


def _digest(cohort: Sequence[tuple[SurveyInvitation, SurveyResponse | None]]) -> str:
    parts = [
        (
            inv.id,
            inv.responded,
            resp.fft if resp else None,
            resp.updated_at.isoformat() if resp else "",
        )
        for inv, resp in cohort
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def summarise(cohort: Sequence[tuple[SurveyInvitation, SurveyResponse | None]]) -> dict[str, Any]:
    """Weights, estimates and the non-response report for a cohort (no database writes)."""
    invited = len(cohort)
    fft_rows = [(inv, resp) for inv, resp in cohort if resp is not None and resp.fft]
    responded = np.array([resp is not None and bool(resp.fft) for _, resp in cohort], dtype=bool)
    diagnostics: dict[str, Any] = {
        "invited": invited,
        "responses": len(fft_rows),
        "response_rate": (len(fft_rows) / invited) if invited else None,
        "variables": list(cat.RAKING_VARIABLES),
    }
    codes, levels = _codes([inv for inv, _ in cohort])
    if not fft_rows:
        return {
            "method": "none",
            "diagnostics": diagnostics | {"reason": "no responses"},
            "estimates": {},
            "nonresponse": _nonresponse(codes, levels, responded, None) if invited else {},
            "weights": {},
        }
    weighting = _weigh(codes, levels, responded)
    answers = [resp.fft for _, resp in fft_rows]
    weights = weighting.weights
    diagnostics |= {
        "converged": weighting.converged,
        "iterations": weighting.iterations,
        "max_margin_error": weighting.max_margin_error,
        "cells": weighting.cells,
        "collapsed": [asdict(c) for c in weighting.collapsed],
        "kish_deff": kish_deff(weights),
        "ess": effective_sample_size(weights),
        "weights_min": float(weights.min()),
        "weights_max": float(weights.max()),
    }
    estimates = {
        "fft_positive": _proportion([a in FFT_POSITIVE for a in answers], weighting),
        "fft_negative": _proportion([a in FFT_NEGATIVE for a in answers], weighting),
    }
    full_weights = np.zeros(invited)
    full_weights[responded] = weights
    return {
        "method": weighting.method,
        "diagnostics": diagnostics,
        "estimates": estimates,
        "nonresponse": _nonresponse(codes, levels, responded, full_weights),
        "weights": {
            f"inv-{inv.id}": float(w) for (inv, _), w in zip(fft_rows, weights, strict=True)
        },
    }


def _codes(
    invitations: Sequence[SurveyInvitation],
) -> tuple[dict[str, np.ndarray], dict[str, tuple[str, ...]]]:
    codes: dict[str, np.ndarray] = {}
    levels: dict[str, tuple[str, ...]] = {}
    for variable in cat.RAKING_VARIABLES:
        names = cat.LEVELS[variable]
        index = {name: i for i, name in enumerate(names)}
        codes[variable] = np.array(
            [index.get(getattr(inv, variable), index[cat.UNKNOWN]) for inv in invitations],
            dtype=np.int64,
        )
        levels[variable] = names
    return codes, levels


def _weigh(
    codes: Mapping[str, np.ndarray], levels: Mapping[str, tuple[str, ...]], responded: np.ndarray
) -> WeightingResult:
    margins = [
        Margin(
            (variable,),
            np.bincount(column, minlength=len(levels[variable])).astype(np.float64),
            (levels[variable],),
        )
        for variable, column in codes.items()
    ]
    respondent_codes = {variable: column[responded] for variable, column in codes.items()}
    try:
        return rake(respondent_codes, margins, collapse="adjacent")
    except WeightingError as exc:
        raise Invalid(f"cannot weight: {exc}") from None


def _proportion(flags: Sequence[bool], weighting: WeightingResult) -> dict[str, Any]:
    values = np.array(flags, dtype=np.float64)
    weighted = weighted_proportion(values, weighting, ci="logit")
    unweighted = weighted_proportion(values, np.ones(len(values)), ci="wilson")
    return {
        "weighted": _estimate(weighted),
        "unweighted": _estimate(unweighted),
        "n": weighted.n,
        "ess": effective_sample_size(weighting.weights),
        "suppressed": weighted.n < SUPPRESS_BELOW,
    }


def _estimate(estimate: Estimate) -> dict[str, Any]:
    return {
        "estimate": estimate.estimate,
        "se": estimate.se,
        "ci_low": estimate.ci_low,
        "ci_high": estimate.ci_high,
        "ci_method": estimate.ci_method,
        "design_deff": None if math.isnan(estimate.design_deff) else estimate.design_deff,
    }


def _nonresponse(
    codes: Mapping[str, np.ndarray],
    levels: Mapping[str, tuple[str, ...]],
    responded: np.ndarray,
    weights: np.ndarray | None,
) -> dict[str, Any]:
    report = nonresponse_report(codes, responded, levels=levels, weights=weights)
    return {
        "invited": report.invited,
        "responded": report.responded,
        "overall_rate": report.overall_rate,
        "r_indicator": _finite(report.r_indicator),
        "max_bias": _finite(report.max_bias),
        "levels": [
            {
                "variable": row.variable,
                "level": row.level,
                "invited": row.invited,
                "responded": row.responded,
                "rate": _finite(row.rate),
                "ci_low": _finite(row.ci_low),
                "ci_high": _finite(row.ci_high),
                "std_diff_before": _finite(row.std_diff_before),
                "std_diff_after": _finite(row.std_diff_after),
                "flagged": row.flagged,
                "suppressed": row.responded < SUPPRESS_BELOW,
            }
            for row in report.levels
            if row.invited
        ],
    }


def _json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity: an undefined number (a single answer's SE) is null."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.bool_ | np.integer):
        return value.item()
    return value


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def recompute_recent(now: datetime, months: int = 2) -> int:
    """The nightly run: a new snapshot version for every clinic, survey and recent period
    whose inputs changed. Commits; returns how many were written."""
    since = now - timedelta(days=31 * months)
    scopes = db.session.execute(
        select(SurveyInvitation.survey_slug, SurveyInvitation.clinic_id, SurveyInvitation.period)
        .where(SurveyInvitation.invited_at >= since)
        .group_by(SurveyInvitation.survey_slug, SurveyInvitation.clinic_id, SurveyInvitation.period)
    ).all()
    written = 0
    for slug, clinic_id, period in scopes:
        try:
            snapshot = compute_snapshot(
                slug, "clinic", clinic_id, period, now, only_if_changed=True
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
    }
