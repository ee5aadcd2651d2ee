"""Reads of stored snapshots for the results pages (never the invitations or responses).

A place is what a snapshot is of: a clinic, an organisation, or a service (a pathway
within an organisation). The pages ask which surveys and months a place has results for,
and the latest version of each month's snapshot over a run of months, in one read each.
The respondents' weights are never loaded for a page: it has no use for them, and in a
large organisation they are most of a snapshot's size. `respondent_weights` reads them
for the theme shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import defer

from app.extensions import db
from app.results.models import ResultSnapshot


@dataclass(frozen=True)
class Place:
    """What a snapshot is of: ("clinic", clinic id), ("organisation", organisation id) or
    ("service", organisation id, pathway)."""

    scope: str
    scope_id: int
    pathway: str = ""


def _at(place: Place) -> list[ColumnElement[bool]]:
    return [
        ResultSnapshot.scope == place.scope,
        ResultSnapshot.scope_id == place.scope_id,
        ResultSnapshot.scope_key == place.pathway,
    ]


def surveys_and_months(place: Place) -> dict[str, list[str]]:
    """Each survey with results at `place`, and its months ("YYYY-MM"), newest first."""
    rows = db.session.execute(
        select(ResultSnapshot.survey_slug, ResultSnapshot.period)
        .where(*_at(place))
        .group_by(ResultSnapshot.survey_slug, ResultSnapshot.period)
    ).all()
    found: dict[str, list[str]] = {}
    for slug, period in rows:
        found.setdefault(slug, []).append(period)
    return {slug: sorted(months, reverse=True) for slug, months in sorted(found.items())}


def monthly_snapshots(place: Place, slug: str, first: str, last: str) -> list[ResultSnapshot]:
    """The latest version of the snapshot of each month from `first` to `last` (both
    "YYYY-MM") that has one, oldest first, without the respondents' weights."""
    latest = (
        select(ResultSnapshot.period, func.max(ResultSnapshot.version).label("version"))
        .where(
            *_at(place),
            ResultSnapshot.survey_slug == slug,
            ResultSnapshot.period.between(first, last),
        )
        .group_by(ResultSnapshot.period)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(ResultSnapshot)
            .options(defer(ResultSnapshot.weights))
            .join(
                latest,
                and_(
                    ResultSnapshot.period == latest.c.period,
                    ResultSnapshot.version == latest.c.version,
                ),
            )
            .where(*_at(place), ResultSnapshot.survey_slug == slug)
            .order_by(ResultSnapshot.period)
        )
    )


def service_pathways(organisation_ids: Iterable[int]) -> dict[int, list[str]]:
    """The pathways each of these organisations has service results for, by name."""
    wanted = sorted(set(organisation_ids))
    if not wanted:
        return {}
    rows = db.session.execute(
        select(ResultSnapshot.scope_id, ResultSnapshot.scope_key)
        .where(ResultSnapshot.scope == "service", ResultSnapshot.scope_id.in_(wanted))
        .group_by(ResultSnapshot.scope_id, ResultSnapshot.scope_key)
    ).all()
    found: dict[int, list[str]] = {}
    for organisation_id, pathway in rows:
        found.setdefault(organisation_id, []).append(pathway)
    return {key: sorted(value) for key, value in found.items()}


def respondent_weights(snapshot: ResultSnapshot) -> dict[int, float]:
    """Each respondent's weight in `snapshot`, by invitation id, in either form a
    snapshot has stored them (`ResultSnapshot.weights`)."""
    stored = snapshot.weights or {}
    if "invitations" in stored:
        return dict(zip(stored["invitations"], stored["weights"], strict=True))
    return {int(key.removeprefix("inv-")): float(weight) for key, weight in stored.items()}
