"""The attendance pages' forms: the months a page shows (a GET form, so that a period can
be bookmarked and shared; it names no patient), a clinic's target DNA rate, and the
months where its chart starts a new period.

Months are whole calendar months written YYYY-MM. A period runs from `first` to `last`
(both included), at most MAX_REPORT_MONTHS long, and ends no later than the current
month. Either end may be left out: the other is then taken from the page's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, SelectField, StringField
from wtforms.validators import ValidationError

from app.attendance.periods import month_of, months_from, parse_month
from app.attendance.service import MAX_REPORT_MONTHS
from app.runtime import get_runtime
from app.web.attendance_labels import month_name

#: How far back the month lists reach, in months before the current one.
CHOICE_MONTHS = 60
#: A target is a percentage from 0 up to (not including) this.
TARGET_CEILING = 100.0


def shift(month: date, months: int) -> date:
    """The first day of the month `months` after (or before, if negative) `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def current_month() -> date:
    """The month the clock is in (UTC)."""
    return month_of(get_runtime().clock.now().date())


def last_whole_month() -> date:
    """The latest month that has ended."""
    return shift(current_month(), -1)


def _month(field: Field) -> date | None:
    """The month a field names, None when it is empty; ValidationError otherwise."""
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        found = month_of(parse_month(text))
    except ValueError:
        raise ValidationError(_("Choose a month from the list")) from None
    if found > current_month():
        raise ValidationError(
            _("Choose a month up to %(month)s", month=month_name(current_month()))
        )
    return found


def _check_month(_form: FlaskForm, field: Field) -> None:
    _month(field)


class PeriodForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """The months a page shows, read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    first = SelectField(_l("From"), validators=[_check_month], validate_choice=False)
    last = SelectField(_l("To"), validators=[_check_month], validate_choice=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(formdata=request.args, **kwargs)


@dataclass(frozen=True)
class Period:
    """The whole months a page shows (when the form was valid), and the months the
    form's lists offer, newest first."""

    first: date
    last: date
    valid: bool
    choices: list[date]

    @property
    def args(self) -> dict[str, Any]:
        """The period as a link's query: first=YYYY-MM&last=YYYY-MM."""
        return {"first": self.first.strftime("%Y-%m"), "last": self.last.strftime("%Y-%m")}


def read_period(form: PeriodForm, default_months: int) -> Period:
    """The period the form asks for; an end left out comes from the default period (the
    `default_months` up to the last whole month). A period that ends before it starts
    or is too long is an error on the form's `last` field, and the period is invalid."""
    valid = form.validate()
    latest = last_whole_month()
    first = _month(form.first) if valid else None
    last = _month(form.last) if valid else None
    if last is None:
        last = latest if first is None else max(first, latest)
    if first is None:
        first = shift(last, 1 - default_months)
    problem = _span_problem(first, last)
    if valid and problem:
        form.last.errors = [*form.last.errors, problem]
        valid = False
    offered = months_from(shift(latest, -CHOICE_MONTHS), latest)
    choices = sorted(set(offered) | {first, last}, reverse=True)
    if valid:
        form.first.data, form.last.data = first.strftime("%Y-%m"), last.strftime("%Y-%m")
    return Period(first, last, valid, choices)


def _span_problem(first: date, last: date) -> str | None:
    if last < first:
        return str(_("Choose a ‘To’ month that is the same as or after the ‘From’ month"))
    if len(months_from(first, last)) > MAX_REPORT_MONTHS:
        return str(_("Choose a period of %(count)d months or fewer", count=MAX_REPORT_MONTHS))
    return None


#: The values of the buttons of the target and rebase forms.
SAVE, REMOVE = "save", "remove"


class TargetForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """A clinic's target DNA rate, as a percentage; the "remove" button clears it."""

    target = StringField(_l("Target DNA rate"))
    #: Sent by the button pressed (SAVE or REMOVE); never rendered as a field.
    action = HiddenField()

    def removes(self) -> bool:
        return bool(self.action.data == REMOVE)

    def validate_target(self, field: Field) -> None:
        if self.removes():
            return
        raw = _percent_text(field.data)
        if not raw:
            raise ValidationError(_("Enter the target DNA rate as a percentage, like 8.5"))
        try:
            value = float(raw)
        except ValueError:
            raise ValidationError(
                _("Enter the target DNA rate as a percentage, like 8.5")
            ) from None
        if not 0.0 <= value < TARGET_CEILING:
            raise ValidationError(_("Enter a percentage from 0 to 99.9"))

    def rate(self) -> float | None:
        """The target as a proportion (to two decimals of a percent), or None to remove
        it. Only after the form is valid."""
        if self.removes():
            return None
        return round(float(_percent_text(self.target.data)), 2) / 100.0


def _percent_text(value: str | None) -> str:
    return (value or "").strip().removesuffix("%").strip()


class RebaseForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """A month where the clinic's chart starts a new period; "remove" stops it doing so."""

    month = SelectField(_l("Month the new period starts"), validate_choice=False)
    #: Sent by the button pressed (SAVE or REMOVE); never rendered as a field.
    action = HiddenField()

    def removes(self) -> bool:
        return bool(self.action.data == REMOVE)

    def validate_month(self, field: Field) -> None:
        if _month(field) is None:
            raise ValidationError(_("Choose the month the new period starts"))

    def chosen(self) -> date:
        """The month chosen. Only after the form is valid."""
        found = _month(self.month)
        if found is None:
            raise ValueError("no month was chosen")
        return found
