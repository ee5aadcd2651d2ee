"""JSON API v1: weighted survey results for a clinic, its organisation or a service.

`GET /api/v1/clinics/<slug>/results/<survey>/<YYYY-MM>` returns the latest snapshot:
weighted and unweighted estimates side by side, each with its interval, the effective
sample size, the diagnostics of the weighting and the non-response report. `?scope=` is
`clinic` (default), `organisation` (the clinic's) or `service` (with `&pathway=`). No
names, numbers, message bodies or respondent keys are returned; estimates on fewer than
10 responses carry `"suppressed": true`. `POST` to the same URL computes a new version.
The bearer token is the clinic's, as for the import endpoints.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.api.routes import _authenticated_clinic, _error, _unauthorised
from app.clinics.models import Clinic
from app.core.errors import WeSaidError
from app.results import service
from app.results.models import ResultSnapshot
from app.runtime import get_runtime

bp = Blueprint("results_api", __name__, url_prefix="/api/v1")


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


def _scope(clinic: Clinic) -> tuple[str, int, str]:
    scope = request.args.get("scope", "clinic")
    if scope == "clinic":
        return scope, clinic.id, ""
    if scope == "organisation":
        return scope, clinic.organisation_id, ""
    if scope == "service":
        pathway = request.args.get("pathway", "")
        if not pathway:
            raise _BadRequest("scope=service needs a pathway")
        return scope, clinic.organisation_id, pathway
    raise _BadRequest("scope must be clinic, organisation or service")


class _BadRequest(Exception):
    pass


@bp.route("/clinics/<slug>/results/<survey>/<period>", methods=["GET", "POST"])
def results(slug: str, survey: str, period: str) -> tuple[Response, int]:
    clinic = _authenticated_clinic(slug)
    if clinic is None:
        return _unauthorised()
    try:
        scope, scope_id, pathway = _scope(clinic)
        if request.method == "POST":
            now = get_runtime().clock.now()
            snapshot = service.compute_snapshot(
                survey, scope, scope_id, period, now, scope_key=pathway
            )
        else:
            snapshot = service.latest_snapshot(survey, scope, scope_id, period, pathway)
    except _BadRequest as exc:
        return _error(str(exc), 400)
    except WeSaidError as exc:
        return _error(str(exc), 400)
    if snapshot is None:
        return _error("no results for this survey and period yet", 404)
    return jsonify(snapshot_json(snapshot)), 201 if request.method == "POST" else 200
