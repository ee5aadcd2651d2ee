"""The experiment pages' forms: a new experiment, and the reason to stop one.

A new experiment is written as staff think of it (rates in percent, the wording of each
arm in each language) and turned into the definition `app.experiments.spec` checks, so
that the web and `wesaid experiment create` accept and refuse the same things. Each
problem the definition check reports (its path, such as ``arms[1].reminder.pl``) is
shown against the field it came from; the template lint's warnings are shown under
each wording, as on the template pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.clinics.models import Clinic
from app.core.locales import SUPPORTED_LOCALES
from app.core.sms import MAX_BODY_CHARS
from app.experiments.service import MAX_REASON
from app.experiments.spec import (
    MAX_LOOKS,
    MAX_WEIGHT,
    REMINDER_PLACEHOLDERS,
    DefinitionError,
    ExperimentSpec,
    parse_definition,
)
from app.messaging.lint import lint
from app.web import formats

#: The two arms, by the prefix of their fields: the control first.
ARMS = ("arm_a", "arm_b")
_ARM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_PROBLEM_PATH = re.compile(r"^arms\[(\d)\]\.(name|weight|reminder)(?:\.(\w+))?$")
#: Where a definition problem about a field of the definition is shown.
_FIELDS = {
    "title": "title",
    "baseline": "baseline",
    "min_difference": "min_difference",
    "alpha": "alpha",
    "power": "power",
    "looks": "looks",
    "planned_n_per_arm": "planned",
}


def _clean_text(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").strip() if value else value


def _no_control_characters(_form: FlaskForm, field: Field) -> None:
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in field.data or ""):
        raise ValidationError(_("Remove the hidden control characters"))


def _number(text: str | None) -> float | None:
    """A number typed in a box ("11.1", "11.1%", "11,1"), or None."""
    cleaned = (text or "").strip().rstrip("%").strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _whole(text: str | None) -> int | None:
    cleaned = (text or "").strip().replace(",", "")
    return int(cleaned) if cleaned.isascii() and cleaned.isdigit() and len(cleaned) < 10 else None


def _percent(message: Any, low: float = 0.0, high: float = 100.0) -> Any:
    """A validator: a percentage strictly between `low` and `high`."""

    def check(_form: FlaskForm, field: Field) -> None:
        value = _number(field.data)
        if value is None or not low < value < high:
            raise ValidationError(str(message))

    return check


def _whole_number(message: Any, low: int, high: int, optional: bool = False) -> Any:
    def check(_form: FlaskForm, field: Field) -> None:
        if optional and not (field.data or "").strip():
            return
        value = _whole(field.data)
        if value is None or not low <= value <= high:
            raise ValidationError(str(message))

    return check


def _arm_name(_form: FlaskForm, field: Field) -> None:
    if not _ARM_NAME.match((field.data or "").strip()):
        raise ValidationError(
            _("Enter a name of 1 to 32 letters, digits, dashes or underscores, like B")
        )


class ExperimentForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """A new experiment; the wording fields (`arm_a_en`, `arm_b_cy`, ...) are added below
    for every supported language."""

    title = StringField(
        _l("Name of the experiment"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Enter a name for the experiment")),
            Length(max=200, message=_l("Enter a name of 200 characters or fewer")),
            _no_control_characters,
        ],
    )
    clinics = SelectMultipleField(_l("Clinics"), validate_choice=False)
    baseline = StringField(
        _l("DNA rate you expect with the usual wording (%)"),
        default="11.1",
        validators=[_percent(_l("Enter the DNA rate you expect as a percentage, like 11.1"))],
    )
    min_difference = StringField(
        _l("Smallest fall in the DNA rate worth finding (percentage points)"),
        default="2.7",
        validators=[
            _percent(_l("Enter the smallest fall worth finding in percentage points, like 2.7"))
        ],
    )
    alpha = StringField(
        _l("Significance level, two-sided (%)"),
        default="5",
        validators=[_percent(_l("Enter a significance level from 0.1 to 20, like 5"), 0.09, 20.01)],
    )
    power = StringField(
        _l("Power (%)"),
        default="80",
        validators=[_percent(_l("Enter a power from 50 to 99, like 80"), 49.99, 99.01)],
    )
    looks = StringField(
        _l("Analyses planned, the final one included"),
        default="3",
        validators=[
            _whole_number(
                _l("Enter a whole number from 1 to %(most)d", most=MAX_LOOKS), 1, MAX_LOOKS
            )
        ],
    )
    planned = StringField(
        _l("Appointments per arm (optional)"),
        validators=[
            _whole_number(
                _l("Enter a whole number of appointments, like 1900, or leave it empty"),
                2,
                10**8,
                optional=True,
            )
        ],
    )
    arm_a_name = StringField(_l("Name of the control arm"), default="A", validators=[_arm_name])
    arm_a_weight = StringField(
        _l("Share of appointments"),
        default="1",
        validators=[
            _whole_number(
                _l("Enter a whole number from 1 to %(most)d", most=MAX_WEIGHT), 1, MAX_WEIGHT
            )
        ],
    )
    arm_b_name = StringField(_l("Name of the new arm"), default="B", validators=[_arm_name])
    arm_b_weight = StringField(
        _l("Share of appointments"),
        default="1",
        validators=[
            _whole_number(
                _l("Enter a whole number from 1 to %(most)d", most=MAX_WEIGHT), 1, MAX_WEIGHT
            )
        ],
    )

    def validate_arm_b_name(self, field: Field) -> None:
        if (field.data or "").strip() == (self.arm_a_name.data or "").strip():
            raise ValidationError(_("Give the new arm a name of its own"))

    def validate_min_difference(self, field: Field) -> None:
        fall, baseline = _number(field.data), _number(self.baseline.data)
        if fall is not None and baseline is not None and fall >= baseline:
            raise ValidationError(_("Enter a fall smaller than the DNA rate you expect"))

    def wording(self, arm: str, locale: str) -> Field:
        """The wording field of an arm ("arm_a", "arm_b") in a language."""
        found: Field = self[f"{arm}_{locale}"]
        return found

    def texts(self, arm: str) -> dict[str, str]:
        """The arm's wording, by language, where one is given."""
        texts = {}
        for locale in SUPPORTED_LOCALES:
            text = self.wording(arm, locale).data
            if text:
                texts[locale] = text
        return texts


for _locale in SUPPORTED_LOCALES:
    for _arm in ARMS:
        setattr(
            ExperimentForm,
            f"{_arm}_{_locale}",
            TextAreaField(
                filters=[_clean_text],
                validators=[
                    Length(
                        max=MAX_BODY_CHARS,
                        message=_l("Enter %(max)d characters or fewer", max=MAX_BODY_CHARS),
                    ),
                    _no_control_characters,
                ],
            ),
        )


class StopForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        _l("Why are you stopping it?"),
        filters=[_clean_text],
        validators=[
            DataRequired(_l("Enter why you are stopping the experiment")),
            Length(max=MAX_REASON, message=_l("Enter %(max)d characters or fewer", max=MAX_REASON)),
            _no_control_characters,
        ],
    )


@dataclass
class Checked:
    """A new experiment's form after the definition check: the definition (None when it
    has problems), and the lint's warnings by wording field."""

    spec: ExperimentSpec | None
    warnings: dict[str, list[str]] = field(default_factory=dict)
    #: Problems that belong to no field, as sentences.
    problems: list[str] = field(default_factory=list)


def check(
    form: ExperimentForm, clinics: Mapping[str, Clinic], slug: str, starts_at: datetime
) -> Checked:
    """Check the form as a definition: every problem is put on its field (or on the form)
    and every lint warning under its wording. `clinics` are those the form may name, by
    the id the form sends."""
    given = [value for value in form.clinics.data or [] if value]
    chosen = [clinics[value] for value in given if value in clinics]
    if not given:
        form.clinics.errors = [_("Choose at least one clinic")]
    elif len(chosen) < len(given):
        form.clinics.errors = [_("Choose clinics from the list")]
    elif len({clinic.organisation_id for clinic in chosen}) > 1:
        form.clinics.errors = [_("Choose clinics of one organisation")]
    warnings = _lint_warnings(form)
    if form.errors:
        return Checked(None, warnings)
    try:
        spec = parse_definition(_definition(form, chosen, slug, starts_at))
    except DefinitionError as refused:
        return Checked(None, warnings, _place(form, refused.problems))
    for warning in spec.warnings:
        path, _colon, message = warning.partition(": ")
        name = _field_of(path)
        if name is not None and not name.startswith(ARMS):
            warnings.setdefault(name, []).append(formats.sentence(message))
    return Checked(spec, warnings)


def _definition(
    form: ExperimentForm, clinics: list[Clinic], slug: str, starts_at: datetime
) -> dict[str, Any]:
    def share(box: Field) -> float:
        value = _number(box.data)
        assert value is not None  # validated
        return round(value / 100, 6)

    definition: dict[str, Any] = {
        "slug": slug,
        "title": form.title.data,
        "clinics": [clinic.slug for clinic in clinics],
        "starts_at": starts_at.isoformat(),
        "baseline": share(form.baseline),
        "min_difference": share(form.min_difference),
        "alpha": share(form.alpha),
        "power": share(form.power),
        "looks": _whole(form.looks.data),
        "arms": [
            {
                "name": (form[f"{arm}_name"].data or "").strip(),
                "weight": _whole(form[f"{arm}_weight"].data),
                "reminder": form.texts(arm),
            }
            for arm in ARMS
        ],
    }
    planned = _whole(form.planned.data)
    if planned is not None:
        definition["planned_n_per_arm"] = planned
    return definition


def _lint_warnings(form: ExperimentForm) -> dict[str, list[str]]:
    """The lint's warnings about each wording given (its errors are the definition's)."""
    found: dict[str, list[str]] = {}
    for arm in ARMS:
        for locale, text in form.texts(arm).items():
            problems = lint(text, locale=locale, expected_placeholders=set(REMINDER_PLACEHOLDERS))
            shown = [formats.sentence(p.message) for p in problems if p.level == "warning"]
            if shown:
                found[f"{arm}_{locale}"] = shown
    return found


def _field_of(path: str) -> str | None:
    """The form field a definition path belongs to, or None."""
    if path in _FIELDS:
        return _FIELDS[path]
    if path.startswith("clinics"):
        return "clinics"
    match = _PROBLEM_PATH.match(path)
    if match is None:
        return None
    index, part, locale = match.groups()
    arm = ARMS[int(index)] if int(index) < len(ARMS) else ARMS[-1]
    if part == "reminder":
        return f"{arm}_{locale}" if locale in SUPPORTED_LOCALES else f"{arm}_en"
    return f"{arm}_{part}"


def _place(form: ExperimentForm, problems: list[tuple[str, str]]) -> list[str]:
    """Put each problem on its field; return those that belong to none."""
    unplaced = []
    for path, message in problems:
        name = _field_of(path)
        if path == "arms":
            name = "arm_b_en"
            message = _("Give at least one arm its own wording")
        if name is None:
            unplaced.append(formats.sentence(message))
            continue
        box = form[name]
        box.errors = [*box.errors, formats.sentence(message)]
    return unplaced
