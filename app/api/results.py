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

from flask import Blueprint, Response, jsonify, request

from app.api.common import authenticated_clinic, error, unauthorised
from app.core.errors import WeSaidError
from app.results import service
from app.results.service import scope_of, snapshot_json
from app.runtime import get_runtime

bp = Blueprint("results_api", __name__, url_prefix="/api/v1")


@bp.route("/clinics/<slug>/results/<survey>/<period>", methods=["GET", "POST"])
def results(slug: str, survey: str, period: str) -> tuple[Response, int]:
    clinic = authenticated_clinic(slug)
    if clinic is None:
        return unauthorised()
    try:
        scope, scope_id, pathway = scope_of(
            clinic, request.args.get("scope", "clinic"), request.args.get("pathway", "")
        )
        if request.method == "POST":
            now = get_runtime().clock.now()
            snapshot = service.compute_snapshot(
                survey, scope, scope_id, period, now, scope_key=pathway
            )
        else:
            snapshot = service.latest_snapshot(survey, scope, scope_id, period, pathway)
    except WeSaidError as exc:
        return error(str(exc), 400)
    if snapshot is None:
        return error("no results for this survey and period yet", 404)
    return jsonify(snapshot_json(snapshot)), 201 if request.method == "POST" else 200
