""" "You said, we did" in the workspace: entries, and quotes approved for the public page.

- `/staff/you-said`: the entries of the clinics (and whole organisations) the staff
  member may publish for, and a link to each organisation's public page.
- `/staff/you-said/new` and `/staff/you-said/<entry>`: write or change an entry.
- `/staff/you-said/quotes`: the newest free-text answers, masked (names, numbers and
  addresses hidden), to approve as quotes, and the quotes published now to withdraw.

Only masked words are ever shown here, and showing them is in the audit log, as is every
change (`app.yousaid.service`). An entry or a comment of a clinic the staff member may
not publish for is "not found".
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.audit.models import AuditAction
from app.audit.service import record
from app.clinics.roles import Permission
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.runtime import get_runtime
from app.themes.codebook import codebook
from app.themes.models import ThemeComment
from app.web import nav
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor, staff_scope
from app.web.reach import whole_organisations
from app.web.yousaid_forms import (
    STATUS_LABELS,
    ActionForm,
    EntryForm,
    entry_input,
    fill_choices,
    place_choices,
    read_place,
    status_choices,
)
from app.yousaid import service
from app.yousaid.models import PublishedQuote, YouSaidEntry
from app.yousaid.queries import candidates_in, entries_in, quotes_in

bp = staff_blueprint("staff_yousaid", __name__)
P = Permission.PUBLISH

nav.add(
    nav.Section(
        endpoint="staff_yousaid.index",
        label=_l("You said, we did"),
        description=_l("What patients said and what changed, and quotes for the public page."),
        permission=P,
        blueprints=("staff_yousaid",),
        order=36,
    )
)


@bp.get("/you-said")
@requires(P)
def index() -> str:
    """The entries within the staff member's reach, newest first."""
    scope = staff_scope()
    organisations = whole_organisations(P)
    clinics = scope.clinics(P)
    entries = entries_in(scope.clinic_ids(P), [o.id for o in organisations])
    clinic_names = {c.id: c.name for c in clinics}
    organisation_names = {o.id: o.name for o in organisations}
    public = sorted({c.organisation.slug for c in clinics})
    return render_template(
        "web/yousaid/index.html",
        entries=entries,
        place_of=lambda e: (
            clinic_names.get(e.clinic_id)
            if e.clinic_id
            else organisation_names.get(e.organisation_id)
        ),
        statuses=STATUS_LABELS,
        public=public,
    )


@bp.route("/you-said/new", methods=["GET", "POST"])
@requires(P)
def new() -> Response | tuple[str, int]:
    """Write a new entry."""
    form = _form(None)
    if not form.is_submitted():
        return _page(form, None)
    place = read_place(form.place.data or "")
    if not form.validate_on_submit() or place is None:
        return _page(form, None, 422)
    organisation_id, clinic_id = _place(*place)
    given = entry_input(form)
    if given is None:
        return _page(form, None, 422)
    try:
        entry = service.create_entry(
            organisation_id, clinic_id, given, actor(), get_runtime().clock.now()
        )
    except Invalid as exc:
        return _page(form, None, 422, problem=str(exc))
    flash(_("Entry saved. It is on the public page now."))
    return redirect(url_for(".edit", entry_id=entry.id))


@bp.route("/you-said/<int:entry_id>", methods=["GET", "POST"])
@requires(P)
def edit(entry_id: int) -> Response | tuple[str, int]:
    """Change an entry: its texts, status, dates, themes and quotes."""
    entry = _entry(entry_id)
    form = _form(entry)
    if not form.is_submitted():
        return _page(form, entry)
    if not form.validate_on_submit():
        return _page(form, entry, 422)
    given = entry_input(form)
    if given is None:
        return _page(form, entry, 422)
    try:
        service.update_entry(entry.id, given, actor(), get_runtime().clock.now())
    except Invalid as exc:
        return _page(form, entry, 422, problem=str(exc))
    flash(_("Entry saved."))
    return redirect(url_for(".edit", entry_id=entry.id))


@bp.get("/you-said/quotes")
@requires(P)
def quotes() -> str:
    """Masked answers to approve as quotes, and the quotes published now."""
    clinic_ids = staff_scope().clinic_ids(P)
    offered = candidates_in(clinic_ids)
    published = quotes_in(clinic_ids)
    now = get_runtime().clock.now()
    if offered:
        record(
            AuditAction.VIEW_QUOTES,
            actor(),
            now,
            record_type="theme_comment",
            record_ids=[c.comment_id for c in offered],
            detail={"comments": len(offered)},
        )
        db.session.commit()
    names = {c.id: c.name for c in staff_scope().clinics(P)}
    return render_template(
        "web/yousaid/quotes.html",
        offered=offered,
        published=published,
        clinic_name=names.get,
        form=ActionForm(formdata=None),
    )


@bp.post("/you-said/quotes/<int:comment_id>/approve")
@requires(P)
def approve(comment_id: int) -> Response:
    """Publish one answer's masked words as a quote."""
    comment = staff_scope().get(ThemeComment, comment_id, P)
    if ActionForm().validate_on_submit():
        try:
            service.approve_quote(comment.id, actor(), get_runtime().clock.now())
            flash(_("Quote approved. It can now be shown on the public page."))
        except Invalid:
            flash(
                _("This answer cannot be quoted: its clinic had fewer than 10 answers that month.")
            )
    return redirect(url_for(".quotes"))


@bp.post("/you-said/published/<int:quote_id>/withdraw")
@requires(P)
def withdraw(quote_id: int) -> Response:
    """Take a quote off the public page."""
    quote = staff_scope().get(PublishedQuote, quote_id, P)
    if ActionForm().validate_on_submit():
        service.withdraw_quote(quote.id, actor(), get_runtime().clock.now())
        flash(_("Quote withdrawn. It is no longer on the public page."))
    return redirect(url_for(".quotes"))


def _entry(entry_id: int) -> YouSaidEntry:
    """The entry if the staff member may publish for its place; NotFound otherwise."""
    entry = db.session.get(YouSaidEntry, entry_id)
    if entry is None:
        raise NotFound("not found")
    if entry.clinic_id is not None:
        return staff_scope().get(YouSaidEntry, entry_id, P)
    if entry.organisation_id not in {o.id for o in whole_organisations(P)}:
        raise NotFound("not found")
    return entry


def _place(kind: str, number: int) -> tuple[int, int | None]:
    """(organisation id, clinic id or None) of a place the staff member may publish for."""
    if kind == "organisation":
        if number not in {o.id for o in whole_organisations(P)}:
            raise NotFound("not found")
        return number, None
    for clinic in staff_scope().clinics(P):
        if clinic.id == number:
            return clinic.organisation_id, clinic.id
    raise NotFound("not found")


def _form(entry: YouSaidEntry | None) -> EntryForm:
    """The entry form, its choices within the staff member's reach; an entry's place is
    not changed once written, so editing has no place field."""
    form = EntryForm()
    form.status.choices = status_choices()
    if entry is None:
        form.place.choices = place_choices(whole_organisations(P), staff_scope().clinics(P))
    else:
        del form.place
        if not form.is_submitted():
            _load(form, entry)
    organisation_ids = {o.id for o in whole_organisations(P)} | {
        c.organisation_id for c in staff_scope().clinics(P)
    }
    themes = {t.id: t for o in sorted(organisation_ids) for t in codebook(o)}
    fill_choices(form, list(themes.values()), quotes_in(staff_scope().clinic_ids(P)))
    return form


def _load(form: EntryForm, entry: YouSaidEntry) -> None:
    form.said.data, form.did.data, form.status.data = entry.said, entry.did, entry.status.value
    form.themes.data = [str(theme_id) for theme_id in entry.theme_ids]
    form.quotes.data = [str(quote_id) for quote_id in entry.quote_ids]
    form.started_on.data = entry.started_on.isoformat() if entry.started_on else ""
    form.done_on.data = entry.done_on.isoformat() if entry.done_on else ""


def _page(
    form: EntryForm, entry: YouSaidEntry | None, status: int = 200, problem: str | None = None
) -> tuple[str, int]:
    page = render_template("web/yousaid/entry.html", form=form, entry=entry, problem=problem)
    return page, status
