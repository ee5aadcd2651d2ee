"""JSON API v1: weighted survey results for a clinic, its organisation or a service.

`GET /api/v1/clinics/<slug>/results/<survey>/<YYYY-MM>` returns the latest snapshot:
weighted and unweighted estimates side by side, each with its interval, the effective
sample size, the diagnostics of the weighting and the non-response report. `?scope=` is
`clinic` (default), `organisation` (the clinic's) or `service` (with `&pathway=`). No
names, numbers, message bodies or respondent keys are returned; estimates on fewer than
10 responses carry `"suppressed": true`. `POST` to the same URL writes a new version
when the inputs changed since the latest (201) and otherwise answers the latest (200).
A survey the clinic has not run (nor its organisation, for those scopes) and a pathway
no patient of the organisation was surveyed on answer 404; a survey name or pathway
that is not 1 to 64 printable characters answers 400 before any lookup. Needs the
`results:read` scope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.common import audit_change
from app.api.operations import ApiBlueprint, Call, Reply
from app.api.schemas import Name
from app.clinics.tokens import Scope
from app.core.errors import NotFound, WeSaidError
from app.results import service
from app.results.service import scope_of, snapshot_json

bp = ApiBlueprint("results_api")
RULE = "/clinics/<slug>/results/<survey>/<period>"


class Which(BaseModel):
    """The survey and month, from the URL."""

    survey: Name = Field(description="The survey's name")
    period: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="A month, YYYY-MM")


class Where(BaseModel):
    """Whose results: the clinic's, its organisation's or a service's."""

    model_config = ConfigDict(extra="ignore")

    scope: Literal["clinic", "organisation", "service"] = Field(
        default="clinic", description="Whose results"
    )
    pathway: Name | None = Field(default=None, description="The service, for `service`")


class Snapshot(BaseModel):
    """One version of the weighted results."""

    survey: str = Field(description="The survey's name")
    scope: str = Field(description="clinic, organisation or service")
    scope_id: int = Field(description="The clinic's or organisation's id")
    pathway: str | None = Field(description="The service's pathway")
    period: str = Field(description="The month, YYYY-MM")
    version: int = Field(description="Versions count up as inputs change")
    method: str = Field(description="How the answers were weighted")
    computed_at: datetime = Field(description="When this version was computed")
    estimates: Any = Field(description="Weighted and unweighted estimates with intervals")
    diagnostics: dict[str, Any] = Field(description="Of the weighting: design effect, ...")
    nonresponse: Any = Field(description="Who answered less, by group")
    questions: Any = Field(description="Every question's estimates (null for old versions)")


@bp.operation(
    "GET",
    RULE,
    scope=Scope.RESULTS_READ,
    path=Which,
    query=Where,
    responses={200: Snapshot, 404: None},
    summary="The latest weighted results of a survey for a month",
)
def latest(call: Call) -> Reply:
    """The latest snapshot; 404 until one has been computed."""
    return _results(call, refresh=False)


@bp.operation(
    "POST",
    RULE,
    scope=Scope.RESULTS_READ,
    path=Which,
    query=Where,
    responses={200: Snapshot, 201: Snapshot, 404: None},
    summary="Compute the weighted results again if their inputs changed",
)
def refresh(call: Call) -> Reply:
    """A new version (201) when the inputs changed since the latest, else the latest."""
    return _results(call, refresh=True)


def _results(call: Call, *, refresh: bool) -> Reply:
    which, where = call.path_as(Which), call.query_as(Where)
    clinic = call.clinic
    try:
        scope, scope_id, pathway = scope_of(clinic, where.scope, where.pathway or "")
        service.check_survey(clinic, scope, which.survey)
        if scope == "service":
            service.check_pathway(scope_id, pathway)
        if refresh:
            now = call.clock.now()
            snapshot, created = service.refresh_snapshot(
                which.survey, scope, scope_id, which.period, now, scope_key=pathway
            )
            if created:
                audit_change(call.caller, call.clock, "results", {"version": snapshot.version})
            return Reply(201 if created else 200, Snapshot.model_validate(snapshot_json(snapshot)))
        found = service.latest_snapshot(which.survey, scope, scope_id, which.period, pathway)
    except NotFound as exc:
        return Reply.error(404, str(exc))
    except WeSaidError as exc:
        return Reply.error(400, str(exc))
    if found is None:
        return Reply.error(404, "no results for this survey and period yet")
    return Reply(200, Snapshot.model_validate(snapshot_json(found)))
