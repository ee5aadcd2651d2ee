"""A patient's goals: record them with the patient, show their progress, close them.

- `/staff/patients/<id>/goals/new`: record a goal in the patient's own words (in their
  language, with an English translation, or in English), and where they are now.
- `/staff/patients/<id>/goals/<goal>`: one goal for the clinician to turn toward the
  patient: its words, its scores over time as a large chart, the latest score and the
  change since the first; a score given in the appointment can be recorded here.
- `POST /staff/patients/<id>/goals/<goal>/score`: record that score.
- `/staff/patients/<id>/goals/<goal>/close`: close a goal as reached, changed or
  dropped; its scores are kept.

The timeline shows every goal with a small chart (`goals_view.goals_panel`). Goals are
for clinicians and clinic managers (`VIEW_GOALS`, `EDIT_GOALS`); another clinic's
patient or goal is "not found". Every change and every view of a goal is in the audit
log, without the goal's words.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from app.casework import service as casework
from app.casework.items import Disclosure
from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.core.errors import Invalid, NotFound
from app.core.inputs import MAX_INT32
from app.core.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES
from app.extensions import db
from app.goals import service as goals
from app.goals.models import CloseReason, Goal
from app.goals.queries import GoalLine, find_goal
from app.goals.service import MAX_GOAL_LENGTH
from app.patients.models import Patient
from app.runtime import get_runtime
from app.web import casework_labels, goals_view
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope

bp = staff_blueprint("staff_goals", __name__)

SCORES = [str(n) for n in range(11)]


@bp.context_processor
def _words() -> dict[str, Any]:
    return {
        "labels": casework_labels,
        "label": casework_labels.label,
        "when": casework_labels.when,
        "language_name": casework_labels.language_name,
        "goal_words": goals_view,
    }


class GoalForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    text = TextAreaField(
        _l("The goal, in the patient's own words"),
        validators=[
            DataRequired(_l("Write the goal in the patient's own words")),
            Length(
                max=MAX_GOAL_LENGTH,
                message=_l("A goal can be up to %(max)s characters long", max=MAX_GOAL_LENGTH),
            ),
        ],
    )
    locale = SelectField(
        _l("The language the goal is written in"),
        validators=[InputRequired(), AnyOf(list(SUPPORTED_LOCALES))],
        validate_choice=False,
    )
    translation_en = TextAreaField(
        _l("The goal in English"),
        validators=[
            Length(
                max=MAX_GOAL_LENGTH,
                message=_l(
                    "A translation can be up to %(max)s characters long", max=MAX_GOAL_LENGTH
                ),
            )
        ],
    )
    score = StringField(
        _l("How close the patient is now"),
        validators=[
            Optional(),
            AnyOf(SCORES, message=_l("Choose a score from 0 to 10, or leave it blank")),
        ],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        if self.locale.data != DEFAULT_LOCALE and not (self.translation_en.data or "").strip():
            self.translation_en.errors = [
                *self.translation_en.errors,
                _("Write the goal in English too, so that every colleague can read it"),
            ]
            valid = False
        return valid


class ScoreForm(FlaskForm):  # type: ignore[misc]
    score = StringField(
        _l("Score today"),
        validators=[
            InputRequired(_l("Choose a score from 0 to 10")),
            AnyOf(SCORES, message=_l("Choose a score from 0 to 10")),
        ],
    )


class CloseForm(FlaskForm):  # type: ignore[misc]
    reason = RadioField(
        _l("Why is the goal closing?"),
        choices=[SelectChoice(r.value) for r in CloseReason],
        validators=[InputRequired(_l("Choose why the goal is closing"))],
    )


def _patient(patient_id: int, permission: Permission) -> Patient:
    if patient_id > MAX_INT32:
        raise NotFound("not found")
    return staff_scope().get(Patient, patient_id, permission)


def _goal(patient: Patient, goal_id: int, permission: Permission) -> GoalLine:
    """The patient's goal, if it is theirs and of a clinic where this is allowed."""
    if goal_id > MAX_INT32:
        raise NotFound("not found")
    row = staff_scope().get(Goal, goal_id, permission)
    found = find_goal(patient.id, row.id)
    if found is None:
        raise NotFound("not found")
    return found


def _who(patient: Patient) -> str:
    name = Disclosure.of(staff_scope()).name(patient)
    return name or _("Patient %(id)s", id=patient.external_id)


def _zone(patient: Patient) -> str:
    clinic = db.session.get(Clinic, patient.clinic_id)
    return clinic.timezone if clinic is not None else "Europe/London"


def _timeline(patient: Patient) -> Response:
    return redirect(url_for("staff_patients.timeline", patient_id=patient.id) + "#goals", 303)


def _languages() -> list[SelectChoice]:
    named = [SelectChoice(code, casework_labels.language_name(code)) for code in SUPPORTED_LOCALES]
    return sorted(named, key=lambda choice: str(choice.label).casefold())


@bp.route("/patients/<int:patient_id>/goals/new", methods=["GET", "POST"])
@requires(Permission.EDIT_GOALS)
def new_goal(patient_id: int) -> Response | tuple[str, int]:
    """The form; posted, the goal recorded (422 with the reasons if not)."""
    patient = _patient(patient_id, Permission.EDIT_GOALS)
    form = GoalForm()
    form.locale.choices = _languages()
    if not form.is_submitted():
        form.locale.data = patient.locale
    elif form.validate():
        given = goals.GoalInput(
            form.text.data,
            form.locale.data,
            form.translation_en.data or "",
            int(form.score.data) if form.score.data else None,
        )
        try:
            goals.open_goal(patient.id, given, actor(), get_runtime().clock)
        except Invalid as refused:
            return _new_page(patient, form, 422, str(refused).split(": ", 1)[-1])
        flash(_("Goal recorded. It is asked about before each appointment of its pathway."))
        return _timeline(patient)
    else:
        return _new_page(patient, form, 422)
    return _new_page(patient, form, 200)


def _new_page(
    patient: Patient, form: GoalForm, status: int, problem: str | None = None
) -> tuple[str, int]:
    open_count = goals.count_open(patient.id)
    page = render_template(
        "web/goals/new.html",
        patient=patient,
        who=_who(patient),
        form=form,
        problem=problem,
        full=open_count >= goals.MAX_OPEN_GOALS,
        scores=SCORES,
    )
    return page, status


@bp.get("/patients/<int:patient_id>/goals/<int:goal_id>")
@requires(Permission.VIEW_GOALS)
def show_goal(patient_id: int, goal_id: int) -> tuple[str, int]:
    """One goal, large, for the clinician to turn toward the patient."""
    patient = _patient(patient_id, Permission.VIEW_GOALS)
    goal = _goal(patient, goal_id, Permission.VIEW_GOALS)
    return _goal_page(patient, goal, ScoreForm(formdata=None), 200)


def _goal_page(patient: Patient, goal: GoalLine, form: ScoreForm, status: int) -> tuple[str, int]:
    scope = staff_scope()
    casework.note_timeline_shown(
        patient.id,
        patient.clinic_id,
        {"goals": True, "page": "goal", "goal_id": goal.id},
        actor=actor(),
        clock=get_runtime().clock,
    )
    page = render_template(
        "web/goals/goal.html",
        patient=patient,
        who=_who(patient),
        card=goals_view.goal_card(goal, _zone(patient)),
        zone=_zone(patient),
        form=form,
        scores=SCORES,
        may_edit=scope.allows(Permission.EDIT_GOALS, patient.clinic_id) and goal.is_open,
    )
    return page, status


@bp.post("/patients/<int:patient_id>/goals/<int:goal_id>/score")
@requires(Permission.EDIT_GOALS)
def record_score(patient_id: int, goal_id: int) -> Response | tuple[str, int]:
    """Record a score the patient gave in the appointment (422 with the reason if not)."""
    patient = _patient(patient_id, Permission.EDIT_GOALS)
    goal = _goal(patient, goal_id, Permission.EDIT_GOALS)
    form = ScoreForm()
    if not form.validate():
        return _goal_page(patient, goal, form, 422)
    try:
        goals.record_score(goal.id, int(form.score.data), actor(), get_runtime().clock)
    except Invalid:
        form.score.errors = [_("This goal is closed: open a new one to score it")]
        return _goal_page(patient, goal, form, 422)
    flash(_("Score recorded."))
    return redirect(url_for("staff_goals.show_goal", patient_id=patient.id, goal_id=goal.id), 303)


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/close", methods=["GET", "POST"])
@requires(Permission.EDIT_GOALS)
def close_goal(patient_id: int, goal_id: int) -> Response | tuple[str, int]:
    """Ask why; posted, close the goal (422 when no reason is chosen)."""
    patient = _patient(patient_id, Permission.EDIT_GOALS)
    goal = _goal(patient, goal_id, Permission.EDIT_GOALS)
    form = CloseForm()
    if form.is_submitted() and form.validate():
        closed = goals.close_goal(
            goal.id, CloseReason(form.reason.data), actor(), get_runtime().clock
        )
        done = _("Goal closed. Its scores are kept.")
        flash(done if closed else _("The goal was closed already."))
        return _timeline(patient)
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "web/goals/close.html",
        patient=patient,
        who=_who(patient),
        goal=goal,
        form=form,
        reasons=[(r.value, label_of(r)) for r in CloseReason],
    )
    return page, status


def label_of(reason: CloseReason) -> str:
    return casework_labels.label(goals_view.CLOSE_REASONS, reason.value)
