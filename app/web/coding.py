"""The coding queue: one comment at a time, its suggested themes to confirm or correct.

- `GET /staff/coding?org=…`: the next comment to code in the organisation (oldest
  first) within the clinics the staff member codes for, its words masked (names,
  numbers and addresses hidden), the code-book's themes grouped by category with the
  suggested ones ticked and their scores, and the suggested sentiment chosen.
  `?after=<comment>` skips to the next one after it. Showing a comment is audited.
- `POST /staff/coding/<comment>`: confirm the ticked themes and the sentiment (audited
  by `app.themes.service.confirm`), then the next comment: with htmx (`HX-Request`)
  the next comment alone, to swap in place; without it a redirect to the queue.
- `POST /staff/coding/retrain`: queue the training of the organisation's model from
  its confirmed codes (audited).

Keyboard: access keys on Confirm and Skip work without JavaScript; with the page's
script, 1 to 5 choose the sentiment, C confirms and S skips.
A comment of a clinic (or organisation) the staff member does not code for is "not
found", whether or not it exists.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.audit.models import AuditAction
from app.audit.service import record
from app.clinics.models import Organisation
from app.clinics.roles import Permission
from app.core.errors import Invalid, NotFound
from app.core.inputs import record_id, whole_number
from app.extensions import db
from app.runtime import get_runtime
from app.themes import service
from app.themes.codebook import codebook
from app.themes.models import ThemeComment
from app.themes.queries import waiting_comments
from app.themes.training import request_training
from app.web import nav
from app.web import results_labels as words
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import whole_organisations

bp = staff_blueprint("staff_coding", __name__)
P = Permission.CODE_THEMES

nav.add(
    nav.Section(
        endpoint="staff_coding.index",
        label=_l("Coding queue"),
        description=_l("Confirm the themes and sentiment of what patients wrote, one at a time."),
        permission=P,
        blueprints=("staff_coding",),
        order=34,
    )
)

#: The sentiment scale, 1 (very positive) to 5 (very negative).
SENTIMENTS = {
    1: _l("Very positive"),
    2: _l("Positive"),
    3: _l("Mixed or neutral"),
    4: _l("Negative"),
    5: _l("Very negative"),
}


@dataclass(frozen=True)
class ThemeChoice:
    id: int
    name: str
    #: The suggestion's score (0 to 1) when the theme is suggested, else None.
    score: float | None


@dataclass(frozen=True)
class Category:
    name: str
    themes: list[ThemeChoice]


@dataclass(frozen=True)
class Place:
    """The organisation whose comments are coded, and the clinics reached in it (None:
    every clinic and the organisation-wide PALS contacts)."""

    organisation: Organisation
    clinic_ids: frozenset[int] | None


def _organisations() -> list[Organisation]:
    ids = sorted(staff_scope().organisation_ids(P))
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
        )
    )


def _place(organisation_id: int | None) -> Place:
    """The organisation asked for (the first one reached when none is), NotFound for one
    the staff member does not code for."""
    organisations = _organisations()
    if organisation_id is None and organisations:
        organisation_id = organisations[0].id
    chosen = next((o for o in organisations if o.id == organisation_id), None)
    if chosen is None:
        raise NotFound("not found")
    whole = {o.id for o in whole_organisations(P)}
    clinic_ids = None if chosen.id in whole else staff_scope().clinic_ids(P)
    return Place(chosen, clinic_ids)


def _categories(organisation_id: int, view: service.CommentView | None) -> list[Category]:
    scores = {t.theme_id: t.score for t in view.suggestion.themes} if view else {}
    grouped: dict[str, list[ThemeChoice]] = {}
    for theme in codebook(organisation_id):
        grouped.setdefault(theme.category, []).append(
            ThemeChoice(theme.id, theme.name, scores.get(theme.id))
        )
    return [Category(name, themes) for name, themes in grouped.items()]


def _args(place: Place, **extra: Any) -> dict[str, Any]:
    return {"org": place.organisation.id, **{k: v for k, v in extra.items() if v is not None}}


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _render(
    place: Place,
    after: int | None,
    *,
    partial: bool,
    status: int = 200,
    problem: str | None = None,
    just_confirmed: bool = False,
) -> tuple[str, int]:
    view = service.queue(place.organisation.id, place.clinic_ids, after=after)
    if view is not None:
        record(
            AuditAction.VIEW_COMMENT,
            actor(),
            get_runtime().clock.now(),
            record_type="theme_comment",
            record_ids=[view.id],
            clinic_id=view.clinic_id,
            organisation_id=place.organisation.id,
        )
        db.session.commit()
    scope = staff_scope()
    names = {c.id: c.name for c in scope.clinics(P)}
    context = {
        "place": place,
        "view": view,
        "after": after,
        "categories": _categories(place.organisation.id, view),
        "sentiments": SENTIMENTS,
        "waiting": waiting_comments(place.organisation.id, place.clinic_ids),
        "clinic_name": lambda clinic_id: names.get(clinic_id) or place.organisation.name,
        "month_name": words.month_name,
        "skip_url": url_for(".index", **_args(place, after=view.id)) if view else None,
        "restart_url": url_for(".index", **_args(place)),
        "problem": problem,
        "just_confirmed": just_confirmed,
    }
    if partial:
        return render_template("web/coding/_item.html", **context), status
    may_train = place.organisation.id in scope.organisation_ids(Permission.TRAIN_THEMES)
    page = render_template(
        "web/coding/index.html",
        organisations=_organisations(),
        may_train=may_train,
        **context,
    )
    return page, status


@bp.get("/coding")
@requires(P)
def index() -> tuple[str, int]:
    """The next comment to code (after `after`, to skip one)."""
    place = _place(record_id(request.args.get("org")))
    service.collect_comments(place.organisation.id, get_runtime().clock.now())
    after = record_id(request.args.get("after"))
    return _render(place, after, partial=_is_htmx())


def _reached(comment_id: int) -> tuple[Place, Collection[int] | None]:
    """The place of a comment the staff member codes for; NotFound otherwise."""
    comment = db.session.get(ThemeComment, comment_id)
    if comment is None or comment.organisation_id not in staff_scope().organisation_ids(P):
        raise NotFound("not found")
    place = _place(comment.organisation_id)
    if place.clinic_ids is not None and comment.clinic_id not in place.clinic_ids:
        raise NotFound("not found")
    return place, place.clinic_ids


def _sentiment(text: str | None) -> int | None:
    number = whole_number(text)
    if text and number is None:
        return 0  # refused by the service with its reason
    return number


@bp.post("/coding/<int:comment_id>")
@requires(P)
def confirm(comment_id: int) -> Response | tuple[str, int]:
    """Confirm a comment's themes and sentiment; 404 for one outside the staff member's
    reach, 422 (nothing saved) for a theme not in the code-book or a sentiment outside
    1 to 5."""
    place, clinic_ids = _reached(comment_id)
    ids = [record_id(text) for text in request.form.getlist("theme")]
    sentiment = _sentiment(request.form.get("sentiment"))
    try:
        if any(i is None for i in ids):
            raise Invalid("themes: choose themes from the list")
        service.confirm(
            comment_id,
            [i for i in ids if i is not None],
            sentiment,
            actor(),
            get_runtime().clock.now(),
            clinic_ids=clinic_ids,
        )
    except Invalid:
        problem = _("Choose themes from the list and a sentiment from 1 to 5.")
        return _render(place, comment_id - 1, partial=_is_htmx(), status=422, problem=problem)
    if _is_htmx():
        return _render(place, None, partial=True, just_confirmed=True)
    flash(_("Themes confirmed."))
    return redirect(url_for(".index", **_args(place)), 303)


@bp.post("/coding/retrain")
@requires(Permission.TRAIN_THEMES)
def retrain() -> Response:
    """Queue the training of the organisation's model from its confirmed codes."""
    organisation_id = record_id(request.form.get("org"))
    if organisation_id not in staff_scope().organisation_ids(Permission.TRAIN_THEMES):
        raise NotFound("not found")
    assert organisation_id is not None
    runtime = get_runtime()
    request_training(organisation_id, runtime.queue)
    record(
        AuditAction.TRAIN_THEMES,
        actor(),
        runtime.clock.now(),
        record_type="organisation",
        record_ids=[organisation_id],
        organisation_id=organisation_id,
    )
    db.session.commit()
    flash(_("Retraining has started. New suggestions appear when it has finished."))
    target = "staff_coding.index" if staff_scope().may(P) else "staff_home.home"
    return redirect(url_for(target, org=organisation_id), 303)
