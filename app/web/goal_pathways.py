"""Which of a clinic's pathways ask patients for their goals' scores, and when.

- `/staff/settings/<clinic>/goals`: the clinic's pathways that use goals, with how many
  hours before each appointment the question goes, and a form that adds a pathway or
  changes its hours.
- `/staff/settings/<clinic>/goals/remove` (POST): stop asking a pathway's patients.

Both changes are in the audit log (`app.goals.service`). A clinic the staff member may
not change the settings of is "not found".
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.core.errors import Invalid
from app.core.inputs import whole_number
from app.goals.service import MAX_ASK_HOURS, pathway_hours, remove_pathway, set_pathway
from app.runtime import get_runtime
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor
from app.web.reach import clinic_in_scope

bp = staff_blueprint("staff_goal_pathways", __name__)


class PathwayForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    pathway = StringField(
        _l("Pathway"),
        validators=[
            DataRequired(_l("Enter the pathway, like rehab")),
            Length(max=64, message=_l("A pathway is at most 64 characters")),
        ],
    )
    hours = StringField(
        _l("Hours before each appointment"),
        validators=[DataRequired(_l("Enter how many hours before each appointment to ask"))],
    )


class RemoveForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    pathway = StringField(validators=[DataRequired()])


@bp.route("/settings/<int:clinic_id>/goals", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def pathways(clinic_id: int) -> Response | tuple[str, int]:
    """The clinic's goal pathways, and the form that adds one or changes its hours."""
    clinic = clinic_in_scope(clinic_id, Permission.EDIT_SETTINGS)
    form = PathwayForm()
    if not form.is_submitted():
        return _page(clinic, form)
    if not form.validate_on_submit():
        return _page(clinic, form, 422)
    hours = whole_number(form.hours.data, maximum=MAX_ASK_HOURS)
    if hours is None or hours < 1:
        form.hours.errors = [_hours_error()]
        return _page(clinic, form, 422)
    pathway = (form.pathway.data or "").strip()
    try:
        set_pathway(clinic.id, pathway, hours, get_runtime().clock, actor())
    except Invalid:
        form.pathway.errors = [_pathway_error()]
        return _page(clinic, form, 422)
    flash(
        _(
            "Saved: patients on %(pathway)s are asked for their goals' scores %(hours)d "
            "hours before each appointment.",
            pathway=pathway,
            hours=hours,
        )
    )
    return redirect(url_for(".pathways", clinic_id=clinic.id))


@bp.post("/settings/<int:clinic_id>/goals/remove")
@requires(Permission.EDIT_SETTINGS)
def remove(clinic_id: int) -> Response | tuple[str, int]:
    """Stop asking a pathway's patients; questions already planned still go."""
    clinic = clinic_in_scope(clinic_id, Permission.EDIT_SETTINGS)
    form = RemoveForm()
    if not form.validate_on_submit():
        return _page(clinic, PathwayForm(formdata=None), 400)
    pathway = form.pathway.data or ""
    if remove_pathway(clinic.id, pathway, get_runtime().clock, actor()):
        flash(
            _(
                "Patients on %(pathway)s are no longer asked for their goals' scores.",
                pathway=pathway,
            )
        )
    else:
        flash(_("%(pathway)s did not ask for goals' scores.", pathway=pathway))
    return redirect(url_for(".pathways", clinic_id=clinic.id))


def _hours_error() -> str:
    return str(_("Enter a whole number of hours from 1 to %(most)d", most=MAX_ASK_HOURS))


def _pathway_error() -> str:
    return str(_("Use lower-case letters, digits and dashes, like brain-injury-rehab"))


def _page(clinic: Clinic, form: PathwayForm, status: int = 200) -> tuple[str, int]:
    rows = sorted(pathway_hours(clinic.id).items())
    page = render_template(
        "web/settings/goals.html",
        clinic=clinic,
        form=form,
        rows=rows,
        remove_form=RemoveForm(formdata=None),
        posted=request.method == "POST",
    )
    return page, status
