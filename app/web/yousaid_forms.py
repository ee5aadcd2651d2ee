"""The forms of the "you said, we did" pages, and turning one into a service's input."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.clinics.models import Clinic, Organisation
from app.themes.models import Theme
from app.yousaid.models import EntryStatus, PublishedQuote
from app.yousaid.service import MAX_TEXT, EntryInput

STATUS_LABELS = {
    EntryStatus.PLANNED: _l("Planned"),
    EntryStatus.IN_PROGRESS: _l("In progress"),
    EntryStatus.DONE: _l("Done"),
}


class EntryForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    place = SelectField(_l("Where"), validators=[DataRequired(_l("Choose where this is about"))])
    said = TextAreaField(
        _l("You said"),
        validators=[
            DataRequired(_l("Write what patients said")),
            Length(max=MAX_TEXT, message=_l("Write at most 1,000 characters")),
        ],
    )
    did = TextAreaField(
        _l("We did"),
        validators=[
            DataRequired(_l("Write what the service did")),
            Length(max=MAX_TEXT, message=_l("Write at most 1,000 characters")),
        ],
    )
    status = RadioField(
        _l("Status"),
        validators=[DataRequired(_l("Choose a status"))],
    )
    themes = SelectMultipleField(_l("Themes"), validators=[Optional()])
    quotes = SelectMultipleField(_l("Quotes"), validators=[Optional()])
    started_on = StringField(_l("Started on"), validators=[Optional()])
    done_on = StringField(_l("Done on"), validators=[Optional()])


class ActionForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    """A button's form: its CSRF token only."""


def status_choices() -> list[SelectChoice]:
    """The statuses, named in the staff member's language."""
    return [SelectChoice(status.value, str(label)) for status, label in STATUS_LABELS.items()]


def place_choices(
    organisations: list[Organisation], clinics: list[Clinic]
) -> list[tuple[str, str]]:
    """ "organisation:<id>" for a whole organisation, "clinic:<id>" for a clinic."""
    whole = [
        (f"organisation:{o.id}", str(_l("All of %(name)s", name=o.name))) for o in organisations
    ]
    return whole + [(f"clinic:{c.id}", c.name) for c in clinics]


def fill_choices(form: EntryForm, themes: list[Theme], quotes: list[PublishedQuote]) -> None:
    form.themes.choices = [(t.id, f"{t.category}: {t.name}") for t in themes]
    form.quotes.choices = [(q.id, q.text) for q in quotes]


def read_place(value: str) -> tuple[str, int] | None:
    kind, _, number = value.partition(":")
    if kind not in ("organisation", "clinic") or not number.isdigit():
        return None
    return kind, int(number)


def read_date(form: EntryForm, name: str) -> tuple[date | None, bool]:
    """The date in field `name` (YYYY-MM-DD or empty), and whether it was readable; an
    unreadable one gets its error on the field."""
    field = getattr(form, name)
    text = (field.data or "").strip()
    if not text:
        return None, True
    try:
        return date.fromisoformat(text), True
    except ValueError:
        field.errors = [str(_l("Enter a date like 2026-03-31"))]
        return None, False


def entry_input(form: EntryForm) -> EntryInput | None:
    """The service's input from a valid form; None when a date is unreadable."""
    started, ok_start = read_date(form, "started_on")
    done, ok_done = read_date(form, "done_on")
    if not (ok_start and ok_done):
        return None
    return EntryInput(
        said=form.said.data or "",
        did=form.did.data or "",
        status=EntryStatus(form.status.data),
        theme_ids=[int(value) for value in form.themes.data or []],
        quote_ids=[int(value) for value in form.quotes.data or []],
        started_on=started,
        done_on=done,
    )
