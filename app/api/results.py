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
that is not 1 to 64 printable characters answers 400 before any lookup. The bearer
token is the clinic's, as for the import endpoints.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.api.common import Refused, audit_change, authorised_caller, error
from app.api.problems import on_failure
from app.clinics.tokens import Scope
from app.core.errors import NotFound, WeSaidError
from app.results import service
from app.results.service import scope_of, snapshot_json
from app.runtime import get_runtime

bp = Blueprint("results_api", __name__, url_prefix="/api/v1")
bp.register_error_handler(Exception, on_failure)


@bp.route("/clinics/<slug>/results/<survey>/<period>", methods=["GET", "POST"])
def results(slug: str, survey: str, period: str) -> tuple[Response, int]:
    try:  # names from the URL are checked before the database hears of them
        service.check_name("the survey name", survey)
        if "pathway" in request.args:
            service.check_name("the pathway", request.args["pathway"])
    except WeSaidError as exc:
        return error(str(exc), 400)
    try:
        caller = authorised_caller(slug, Scope.RESULTS_READ)
    except Refused as refused:
        return refused.response
    clinic = caller.clinic
    try:
        scope, scope_id, pathway = scope_of(
            clinic, request.args.get("scope", "clinic"), request.args.get("pathway", "")
        )
        service.check_period(period)
        service.check_survey(clinic, scope, survey)
        if scope == "service":
            service.check_pathway(scope_id, pathway)
        if request.method == "POST":
            now = get_runtime().clock.now()
            snapshot, created = service.refresh_snapshot(
                survey, scope, scope_id, period, now, scope_key=pathway
            )
            if created:
                audit_change(caller, get_runtime().clock, "results", {"version": snapshot.version})
            return jsonify(snapshot_json(snapshot)), 201 if created else 200
        latest = service.latest_snapshot(survey, scope, scope_id, period, pathway)
    except NotFound as exc:
        return error(str(exc), 404)
    except WeSaidError as exc:
        return error(str(exc), 400)
    if latest is None:
        return error("no results for this survey and period yet", 404)
    return jsonify(snapshot_json(latest)), 200
