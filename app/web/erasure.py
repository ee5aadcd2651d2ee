"""Erasing a patient: `/staff/patients/<id>/erase`, for admins (ERASE_PATIENTS).

The page says what erasure will do, with counts, and asks the admin to type the
patient's ID to confirm; the POST erases (`app.privacy.service.erase_patient`) and shows
a confirmation panel. A patient of a clinic outside the admin's scope is a 404 page.
Showing the page (which names the patient) and the erasure are both in the audit log.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.extensions import db
from app.patients.models import Patient
from app.privacy import queries
from app.privacy import service as privacy
from app.runtime import get_runtime
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope

bp = staff_blueprint("staff_erasure", __name__)


class ConfirmForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    external_id = StringField(
        _l("Patient ID"),
        validators=[
            DataRequired(_l("Enter the patient ID to confirm")),
            Length(max=64, message=_l("A patient ID is up to 64 characters")),
        ],
    )


@bp.route("/patients/<int:patient_id>/erase", methods=["GET", "POST"])
@requires(Permission.ERASE_PATIENTS)
def confirm(patient_id: int) -> tuple[str, int]:
    """What erasure will do, and the form that confirms it; the POST erases."""
    patient = staff_scope().get(Patient, patient_id, Permission.ERASE_PATIENTS)
    clinic = db.session.get(Clinic, patient.clinic_id)
    runtime = get_runtime()
    if patient.erased_at is not None:
        return _erased(patient_id, clinic, already=True)
    form = ConfirmForm()
    if form.validate_on_submit():
        if form.external_id.data.strip() == patient.external_id:
            report = privacy.erase_patient(patient.id, runtime.clock, actor(), runtime.queue)
            return _erased(patient_id, clinic, already=report.already, counts=report.counts)
        form.external_id.errors.append(_("Enter the patient ID exactly as it is shown"))
    preview = privacy.open_erasure(patient.id, runtime.clock, actor())
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "web/erasure/confirm.html", form=form, patient=patient, clinic=clinic, preview=preview
    )
    return page, status


def _erased(
    patient_id: int, clinic: Clinic | None, *, already: bool, counts: object = None
) -> tuple[str, int]:
    page = render_template(
        "web/erasure/erased.html",
        patient_id=patient_id,
        clinic=clinic,
        already=already,
        counts=counts or {},
        at_provider=queries.provider_erasures(patient_id),
        can_view_audit=staff_scope().may(Permission.VIEW_AUDIT),
    )
    return page, 200
