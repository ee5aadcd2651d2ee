"""Today: the worklist of what needs a person in the staff member's clinics.

- `GET /staff/worklist`: the open items of every kind (replies not understood, rebook
  requests, cancelled slots within 72 hours, opt-outs, failed messages), with counts
  per kind and per clinic. `?show=handled` lists the latest handled items instead;
  `?kind=` and `?clinic=` narrow the list (ids and codes only, never a name or number).
- `POST /staff/worklist/handle`: marks one item handled, with an optional note. Without
  JavaScript it redirects back to the list; with htmx (`HX-Request`) it answers the item
  alone, handled, to replace it in place.

Names, numbers and message texts appear only where the staff member's role shows them;
each view that shows any is in the audit log, with the patients' ids.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length

from app.casework import service
from app.casework.items import WorkItem
from app.casework.models import WorkKind
from app.casework.queries import Worklist, find_handling, find_item, worklist
from app.clinics.roles import Permission
from app.core.errors import NotFound
from app.core.inputs import record_id
from app.runtime import get_runtime
from app.web import casework_labels, nav
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope

bp = staff_blueprint("staff_worklist", __name__)

nav.add(
    nav.Section(
        endpoint="staff_worklist.today",
        label=_l("Today"),
        description=_l(
            "Replies to read, rebook requests, cancelled slots, opt-outs and failed messages."
        ),
        permission=Permission.VIEW_WORKLIST,
        blueprints=("staff_worklist",),
        order=10,
    )
)

#: `?show=` values.
OPEN, HANDLED = "open", "handled"


@bp.context_processor
def _words() -> dict[str, Any]:
    return {
        "labels": casework_labels,
        "label": casework_labels.label,
        "when": casework_labels.when,
        "phone_text": casework_labels.phone_text,
        "may": _may,
    }


def _may(permission: str, clinic_id: int) -> bool:
    return staff_scope().allows(Permission(permission), clinic_id)


class HandleForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    kind = HiddenField()
    record_id = HiddenField()
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[
            Length(
                max=service.NOTE_LENGTH,
                message=_l("Write a note of %(max)s characters or fewer", max=service.NOTE_LENGTH),
            )
        ],
    )


def _kind(text: str | None) -> WorkKind | None:
    return WorkKind(text) if text in {kind.value for kind in WorkKind} else None


class Filters:
    """The list asked for: open or handled, one kind, one clinic (from the query string)."""

    def __init__(self, args: MultiDict[str, str]) -> None:
        self.handled = args.get("show") == HANDLED
        kind = args.get("kind", "")
        self.kind = _kind(kind)
        self.clinic_id = record_id(args.get("clinic"))

    def args(self) -> dict[str, Any]:
        """The query string of this view (for links and redirects)."""
        found: dict[str, Any] = {}
        if self.handled:
            found["show"] = HANDLED
        if self.kind is not None:
            found["kind"] = self.kind.value
        if self.clinic_id is not None:
            found["clinic"] = self.clinic_id
        return found


class _Failed:
    """An item whose form was refused, shown again with its error and what was typed."""

    def __init__(self, item: WorkItem, form: HandleForm) -> None:
        self.kind = item.kind
        self.record_id = item.record_id
        self.form = form


@bp.get("/worklist")
@requires(Permission.VIEW_WORKLIST)
def today() -> str:
    """The worklist: what needs a person, or what was handled."""
    return _page(Filters(request.args))[0]


def _page(
    filters: Filters,
    status: int = 200,
    problem: str | None = None,
    failed: _Failed | None = None,
) -> tuple[str, int]:
    clock = get_runtime().clock
    scope = staff_scope()
    found = worklist(
        scope,
        clock.now(),
        handled=filters.handled,
        kind=filters.kind,
        clinic_id=filters.clinic_id,
    )
    _audit(found)
    page = render_template(
        "web/worklist/today.html",
        worklist=found,
        filters=filters,
        clinics=scope.clinics(Permission.VIEW_WORKLIST),
        now=clock.now(),
        problem=problem,
        failed=failed,
    )
    return page, status


def _audit(found: Worklist) -> None:
    patients, numbers = found.disclosed(), found.unknown_numbers()
    if patients or numbers:
        service.note_worklist_shown(patients, numbers, actor=actor(), clock=get_runtime().clock)


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


@bp.post("/worklist/handle")
@requires(Permission.HANDLE_WORKLIST)
def handle() -> Response | tuple[str, int]:
    """Mark one item handled; 404 for an item outside the staff member's clinics, 400
    for one not named, 422 (nothing saved) for a note too long."""
    form = HandleForm()
    filters = Filters(request.args)
    kind_text, record_text = form.kind.data or "", form.record_id.data or ""
    kind, item_id = _kind(kind_text), record_id(record_text)
    if kind is None or item_id is None:
        problem = _("Choose an item from the list to mark as handled.")
        return _page(filters, 400, problem=problem)
    item = find_item(staff_scope(), kind, item_id, Permission.HANDLE_WORKLIST)
    if item is None:
        raise NotFound("not found")
    if not form.validate():
        if _is_htmx():
            return _item(item, form, 422)
        return _page(filters, 422, failed=_Failed(item, form))
    done = service.mark_handled(
        kind, item.record_id, form.note.data or "", actor=actor(), clock=get_runtime().clock
    )
    if _is_htmx():
        return _item(item, None, 200, just_done=done.created)
    if done.created:
        flash(_("Marked as handled: %(what)s.", what=casework_labels.WORK_KIND_ITEM[kind]))
    else:
        flash(_("Someone has already marked this as handled."))
    return redirect(url_for("staff_worklist.today", **filters.args()), 303)


def _item(
    item: WorkItem, form: HandleForm | None, status: int, just_done: bool = False
) -> tuple[str, int]:
    """One item alone (for htmx): handled, or its form with the error."""
    handling = find_handling(item.kind, item.record_id)
    if handling is not None:
        item = replace(item, handling=handling)
    page = render_template(
        "web/worklist/_item.html",
        item=item,
        failed=_Failed(item, form) if form is not None else None,
        filters=Filters(request.args),
        show_clinic=len(staff_scope().clinic_ids(Permission.VIEW_WORKLIST)) > 1,
        just_done=just_done,
    )
    return page, status
