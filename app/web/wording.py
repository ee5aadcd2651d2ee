"""Message templates: every text a clinic sends, in every language, as patients read it.

- `/staff/templates`: the clinics whose templates the staff member may see (straight to
  the one, if one).
- `/staff/templates/<clinic>`: every text in one language (or all of them), rendered
  for a sample appointment as the dispatcher renders it, with its encoding, segments,
  cost and the template lint's findings.
- `/staff/templates/<clinic>/<name>/<locale>`: one text in one language: the default
  wording, the clinic's own, and a form to change it. "Preview" renders the draft on
  the page (in place, with htmx; as a new page without JavaScript); "Save" refuses a
  wording the lint finds errors in, showing them against the field, and accepts one
  with warnings. Saving and going back to the default are in the audit log.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.clinics.models import Clinic
from app.clinics.roles import Permission
from app.clinics.scope import Forbidden
from app.core.errors import Invalid
from app.core.locales import SUPPORTED_LOCALES
from app.core.sms import MAX_BODY_CHARS
from app.messaging.lint import placeholders
from app.messaging.preview import (
    Preview,
    preview,
    preview_all,
    sample_appointment,
    template_groups,
)
from app.messaging.templates import set_template_override
from app.runtime import get_runtime
from app.web import formats, nav
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import clinic_in_scope

bp = staff_blueprint("staff_wording", __name__)
bp.context_processor(lambda: {"formats": formats})

nav.add(
    nav.Section(
        endpoint="staff_wording.index",
        label=_l("Templates"),
        description=_l("Every message in every language, as patients read it, with its cost."),
        permission=Permission.VIEW_TEMPLATES,
        blueprints=("staff_wording",),
        order=60,
    )
)

#: "Show all languages" in the language chooser.
ALL = "all"

GROUPS = {
    "replies": _l("Reminders and replies"),
    "calls": _l("Telephone calls"),
    "surveys": _l("Surveys"),
}
LABELS = {
    "reminder": _l("Appointment reminder"),
    "confirmed": _l("Appointment confirmed"),
    "cancelled": _l("Appointment cancelled"),
    "rebook": _l("New time asked for"),
    "opt_out_ack": _l("Opted out"),
    "opt_in_ack": _l("Opted back in"),
    "help": _l("Help"),
    "reask": _l("Reply not understood"),
    "voice_reminder": _l("Call: appointment reminder"),
    "voice_not_heard": _l("Call: nothing heard"),
    "voice_goodbye": _l("Call: goodbye"),
    "fft_question": _l("Friends and Family Test question"),
    "fft_very_good": _l("Answer: very good"),
    "fft_good": _l("Answer: good"),
    "fft_neither": _l("Answer: neither good nor poor"),
    "fft_poor": _l("Answer: poor"),
    "fft_very_poor": _l("Answer: very poor"),
    "fft_dont_know": _l("Answer: don't know"),
    "fft_follow_up": _l("Follow-up question"),
    "fft_title": _l("Survey title"),
    "survey_invite": _l("Survey invitation"),
    "survey_thanks": _l("Thank you for answering"),
    "prompt_choose": _l("How to answer: a number from a list"),
    "prompt_yes_no": _l("How to answer: yes or no"),
    "prompt_scale": _l("How to answer: a scale"),
    "prompt_scale_plain": _l("How to answer: a scale without labels"),
    "prompt_number": _l("How to answer: a number"),
    "prompt_free_text": _l("How to answer: in their own words"),
    "prompt_skip": _l("How to skip a question"),
    "survey_hint": _l("Answer not understood"),
    "survey_hint_required": _l("Answer not understood, question matters"),
    "web_invite": _l("Survey invitation with a web link"),
    "voice_choose": _l("Call: an answer's key"),
    "voice_yes_no": _l("Call: yes or no"),
    "voice_scale": _l("Call: a scale"),
    "voice_skip": _l("Call: how to skip"),
    "voice_free_text": _l("Call: question for a text instead"),
    "voice_intro": _l("Call: survey introduction"),
}


def label(name: str) -> str:
    """A text's name as staff read it."""
    return str(LABELS.get(name, name))


def _no_control_characters(_form: FlaskForm, field: TextAreaField) -> None:
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in field.data or ""):
        raise ValidationError(_("Remove the hidden control characters from the wording"))


class WordingForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    text = TextAreaField(
        _l("Your clinic's wording"),
        filters=[lambda value: value.replace("\r\n", "\n").strip() if value else value],
        validators=[
            DataRequired(_l("Enter the wording patients will get")),
            Length(
                max=MAX_BODY_CHARS,
                message=_l("Enter %(max)d characters or fewer", max=MAX_BODY_CHARS),
            ),
            _no_control_characters,
        ],
    )


@bp.get("/templates")
@requires(Permission.VIEW_TEMPLATES)
def index() -> Response | str:
    """The clinics whose templates the staff member may see."""
    clinics = staff_scope().clinics(Permission.VIEW_TEMPLATES)
    if len(clinics) == 1:
        return redirect(url_for("staff_wording.clinic_templates", clinic_id=clinics[0].id))
    return render_template("web/wording/clinics.html", clinics=clinics)


@bp.get("/templates/<int:clinic_id>")
@requires(Permission.VIEW_TEMPLATES)
def clinic_templates(clinic_id: int) -> tuple[str, int]:
    """Every text of the clinic in one language, or in all of them."""
    clinic = clinic_in_scope(clinic_id, Permission.VIEW_TEMPLATES)
    chosen = request.args.get("locale", clinic.default_locale)
    valid = chosen == ALL or chosen in SUPPORTED_LOCALES
    locales = SUPPORTED_LOCALES if chosen == ALL or not valid else (chosen,)
    runtime = get_runtime()
    now = runtime.clock.now()
    rows = preview_all(clinic, locales, now, runtime.price_per_segment) if valid else []
    by_name: dict[str, list[Preview]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    page = render_template(
        "web/wording/list.html",
        clinic=clinic,
        chosen=chosen if valid else "",
        invalid=not valid,
        all_value=ALL,
        locales=SUPPORTED_LOCALES,
        groups=[(GROUPS.get(g, g), names) for g, names in template_groups().items()],
        by_name=by_name,
        label=label,
        sample_at=sample_appointment(clinic, now),
        price=runtime.price_per_segment,
    )
    return page, 200 if valid else 400


@bp.route("/templates/<int:clinic_id>/<name>/<locale>", methods=["GET", "POST"])
@requires(Permission.VIEW_TEMPLATES)
def template(clinic_id: int, name: str, locale: str) -> Response | tuple[str, int]:
    """One text in one language: its wordings, a preview, and the form to change it."""
    clinic = clinic_in_scope(clinic_id, Permission.VIEW_TEMPLATES)
    current = _preview(clinic, name, locale)
    may_edit = staff_scope().allows(Permission.EDIT_TEMPLATES, clinic.id)
    if request.method == "GET":
        form = WordingForm(data={"text": current.text})
        return _page(clinic, current, current, form, may_edit)
    if not may_edit:
        raise Forbidden("your role does not allow changing templates here")
    form = WordingForm()
    if not form.validate_on_submit():
        return _page(clinic, current, current, form, may_edit, 422)
    draft = _preview(clinic, name, locale, form.text.data)
    if _htmx() or request.form.get("action") == "preview":
        return _page(clinic, current, draft, form, may_edit)
    if draft.errors:
        form.text.errors = [formats.sentence(problem.message) for problem in draft.errors]
        return _page(clinic, current, draft, form, may_edit, 422)
    clock = get_runtime().clock
    try:
        set_template_override(clinic.id, name, locale, form.text.data, clock, actor())
    except Invalid as refused:  # the same lint as the preview's: a safety net
        form.text.errors = [formats.sentence(str(refused))]
        return _page(clinic, current, draft, form, may_edit, 422)
    flash(_("Your wording is saved. Patients get it from now on."))
    return redirect(url_for(".template", clinic_id=clinic.id, name=name, locale=locale))


@bp.post("/templates/<int:clinic_id>/<name>/<locale>/default")
@requires(Permission.EDIT_TEMPLATES)
def use_default(clinic_id: int, name: str, locale: str) -> Response:
    """Drop the clinic's wording: patients get the default one again."""
    clinic = clinic_in_scope(clinic_id, Permission.EDIT_TEMPLATES)
    _preview(clinic, name, locale)  # NotFound for an unknown text or language
    set_template_override(clinic.id, name, locale, None, get_runtime().clock, actor())
    flash(_("Patients get the default wording again."))
    return redirect(url_for(".template", clinic_id=clinic.id, name=name, locale=locale))


def _preview(clinic: Clinic, name: str, locale: str, draft: str | None = None) -> Preview:
    runtime = get_runtime()
    return preview(clinic, name, locale, runtime.clock.now(), runtime.price_per_segment, draft)


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _page(
    clinic: Clinic,
    current: Preview,
    shown: Preview,
    form: WordingForm,
    may_edit: bool,
    status: int = 200,
) -> tuple[str, int]:
    """The template page, or (for htmx, which swaps in only a success) its preview."""
    context = {
        "clinic": clinic,
        "current": current,
        "shown": shown,
        "is_draft": shown is not current,
        "form": form,
        "may_edit": may_edit,
        "label": label(current.name),
        "expected": sorted(placeholders(current.source)),
        "sample_at": sample_appointment(clinic, get_runtime().clock.now()),
    }
    if _htmx():
        return render_template("web/wording/_preview.html", **context), 200
    return render_template("web/wording/template.html", **context), status
