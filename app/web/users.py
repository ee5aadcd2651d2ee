"""Staff accounts and their roles, for admins of a whole organisation.

- `/staff/users`: the organisation's staff: roles and clinics, second factor, last
  sign-in, disabled or not.
- `/staff/users/invite`: give someone a role; a new account gets a one-time link that
  sets its password, shown once (no mail server is assumed), as `wesaid user invite`
  prints it.
- `/staff/users/<user>`: one member of staff: give and remove roles, disable and enable
  the account, reset a lost second factor, make a new password link.

An admin sees and changes only staff holding a role in an organisation whose every
clinic their role reaches, and only the roles of those organisations: anyone else is
"not found". No change may leave an organisation without an enabled admin, and no one
may disable their own account. Every change is in the audit log (`app.clinics.accounts`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import (
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from app.audit.service import Actor
from app.clinics import accounts, staff_admin
from app.clinics.models import Organisation, StaffGrant, StaffUser
from app.clinics.queries import (
    clinics_of,
    find_grant,
    find_staff_member,
    last_sign_ins,
    staff_of,
)
from app.clinics.roles import Permission, Role
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.core.inputs import record_id
from app.runtime import get_runtime
from app.web import formats, nav
from app.web.pages import requires, staff_blueprint
from app.web.principal import actor
from app.web.reach import whole_organisations

bp = staff_blueprint("staff_users", __name__)

nav.add(
    nav.Section(
        endpoint="staff_users.index",
        label=_l("Users"),
        description=_l("Invite staff, give and remove roles, and disable accounts."),
        permission=Permission.MANAGE_USERS,
        blueprints=("staff_users",),
        order=80,
    )
)

ROLE_NAMES = {
    Role.ADMIN: _l("Administrator"),
    Role.CLINIC_MANAGER: _l("Clinic manager"),
    Role.CLINICIAN: _l("Clinician"),
    Role.RECEPTIONIST: _l("Receptionist"),
    Role.EXPERIENCE_LEAD: _l("Patient experience lead"),
    Role.ANALYST: _l("Analyst"),
    Role.AUDITOR: _l("Auditor"),
}
ROLE_HINTS = {
    Role.ADMIN: _l("Users and roles, settings, API tokens, and everything below"),
    Role.CLINIC_MANAGER: _l("Patients, messages, templates, settings, results and imports"),
    Role.CLINICIAN: _l("Patients' timelines and their answers"),
    Role.RECEPTIONIST: _l("The worklist, patients' timelines and appointments"),
    Role.EXPERIENCE_LEAD: _l("Results and patients' answers, with no names or numbers"),
    Role.ANALYST: _l("Results and attendance, with no names, numbers or messages"),
    Role.AUDITOR: _l("The audit log"),
}


def _printable(_form: FlaskForm, field: StringField) -> None:
    if field.data and not field.data.isprintable():
        raise ValidationError(_("Enter a name using letters, spaces and punctuation only"))


def _organisation() -> SelectField:
    return SelectField(_l("Organisation"), validate_choice=False)


def _role() -> RadioField:
    return RadioField(
        _l("Role"),
        choices=[SelectChoice(role.value, ROLE_NAMES[role]) for role in Role],
        validate_choice=False,
    )


def _clinics() -> SelectMultipleField:
    return SelectMultipleField(_l("Clinics"), validate_choice=False)


class GrantForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    organisation = _organisation()
    role = _role()
    clinics = _clinics()


class InviteForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter their email address")),
            Length(max=254, message=_l("Enter an email address of 254 characters or fewer")),
        ],
    )
    name = StringField(
        _l("Full name"),
        validators=[
            Length(max=120, message=_l("Enter a name of 120 characters or fewer")),
            _printable,
        ],
    )
    organisation = _organisation()
    role = _role()
    clinics = _clinics()


def _reach() -> list[Organisation]:
    return whole_organisations(Permission.MANAGE_USERS)


def _member(user_id: int, organisations: list[Organisation]) -> StaffUser:
    found = find_staff_member(user_id, [o.id for o in organisations])
    if found is None:
        raise NotFound("not found")
    return found


def _set_choices(form: GrantForm | InviteForm, organisations: list[Organisation]) -> None:
    form.organisation.choices = [SelectChoice(str(o.id), o.name) for o in organisations]
    if not form.organisation.data and organisations:
        form.organisation.data = str(organisations[0].id)
    form.clinics.choices = [
        SelectChoice(str(c.id), c.name) for c in clinics_of([o.id for o in organisations])
    ]


def _chosen(
    form: GrantForm | InviteForm, organisations: list[Organisation]
) -> tuple[int, Role, list[int]] | None:
    """The organisation, role and clinics chosen, each checked against what the admin
    reaches; None after putting an error on each field that is wrong."""
    organisation_id = record_id(form.organisation.data)
    if organisation_id not in {o.id for o in organisations}:
        form.organisation.errors = [_("Choose an organisation")]
    role = Role(form.role.data) if form.role.data in set(Role) else None
    if role is None:
        form.role.errors = [_("Choose a role")]
    clinic_ids = [record_id(value) for value in form.clinics.data or []]
    allowed = {c.id for c in clinics_of([organisation_id or 0])}
    if any(clinic_id not in allowed for clinic_id in clinic_ids):
        form.clinics.errors = [_("Choose clinics of the organisation you chose")]
    if form.organisation.errors or form.clinics.errors or organisation_id is None or not role:
        return None
    return organisation_id, role, [c for c in clinic_ids if c is not None]


def _grant_rows(user: StaffUser, organisations: list[Organisation]) -> list[dict[str, object]]:
    """The user's roles in these organisations, as the pages list them."""
    names = {o.id: o.name for o in organisations}
    clinics = {c.id: c.name for c in clinics_of(list(names))}
    return [
        {
            "id": grant.id,
            "role": ROLE_NAMES.get(Role(grant.role), grant.role),
            "organisation": names[grant.organisation_id],
            "clinics": [clinics.get(i, "") for i in grant.clinic_ids or []],
        }
        for grant in user.grants
        if grant.organisation_id in names
    ]


def _welcome_link(secret: str) -> str:
    return f"{get_runtime().public_base_url.rstrip('/')}/staff/welcome/{secret}"


@bp.get("/users")
@requires(Permission.MANAGE_USERS)
def index() -> str:
    """The staff of the admin's organisations."""
    organisations = _reach()
    members = staff_of([o.id for o in organisations])
    return render_template(
        "web/users/list.html",
        organisations=organisations,
        members=members,
        grants={m.id: _grant_rows(m, organisations) for m in members},
        signed_in=last_sign_ins([m.id for m in members]),
        formats=formats,
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def invite() -> tuple[str, int]:
    """Give someone a role; a new account gets its one-time link."""
    organisations = _reach()
    if not organisations:
        raise NotFound("no organisation to invite to")
    form = InviteForm()
    _set_choices(form, organisations)
    context = {"form": form, "organisations": organisations, "role_hints": ROLE_HINTS}
    if not form.is_submitted():
        return render_template("web/users/invite.html", **context), 200
    valid = form.validate_on_submit()
    chosen = _chosen(form, organisations)
    if form.email.data and not form.email.errors:
        try:
            accounts.normalise_email(form.email.data)
        except Invalid:
            form.email.errors = [_("Enter an email address like name@example.nhs.uk")]
    if not valid or chosen is None or form.email.errors:
        return render_template("web/users/invite.html", **context), 422
    organisation_id, role, clinic_ids = chosen
    invited = accounts.invite_member(
        form.email.data,
        organisation_id,
        role,
        clinic_ids,
        get_runtime().clock,
        actor(),
        name=form.name.data or "",
    )
    invitation = invited.invitation
    return render_template(
        "web/users/link.html",
        heading=_("Invitation made"),
        link=_welcome_link(invitation.secret) if invitation else None,
        expires_at=invitation.expires_at if invitation else None,
        user_id=invited.user_id,
        email=form.email.data.strip().lower(),
        formats=formats,
    ), 200


@bp.get("/users/<int:user_id>")
@requires(Permission.MANAGE_USERS)
def user(user_id: int) -> tuple[str, int]:
    """One member of staff, and what can be changed about them."""
    organisations = _reach()
    member = _member(user_id, organisations)
    form = GrantForm()
    _set_choices(form, organisations)
    return _user_page(member, organisations, form)


def _user_page(
    member: StaffUser,
    organisations: list[Organisation],
    form: GrantForm,
    status: int = 200,
    problem: str | None = None,
) -> tuple[str, int]:
    return render_template(
        "web/users/user.html",
        member=member,
        organisations=organisations,
        grants=_grant_rows(member, organisations),
        signed_in=last_sign_ins([member.id]).get(member.id),
        form=form,
        role_hints=ROLE_HINTS,
        problem=problem,
        formats=formats,
    ), status


@bp.post("/users/<int:user_id>/roles")
@requires(Permission.MANAGE_USERS)
def give_role(user_id: int) -> Response | tuple[str, int]:
    """Give the member of staff a role (again: its clinics are replaced)."""
    organisations = _reach()
    member = _member(user_id, organisations)
    form = GrantForm()
    _set_choices(form, organisations)
    valid = form.validate_on_submit()
    chosen = _chosen(form, organisations)
    if not valid or chosen is None:
        return _user_page(member, organisations, form, 422)
    organisation_id, role, clinic_ids = chosen
    accounts.grant(member.id, organisation_id, role, clinic_ids, get_runtime().clock, actor())
    flash(_("The role is given. It applies from their next page."))
    return redirect(url_for(".user", user_id=member.id))


@bp.post("/users/<int:user_id>/roles/<int:grant_id>/remove")
@requires(Permission.MANAGE_USERS)
def remove_role(user_id: int, grant_id: int) -> Response | tuple[str, int]:
    """Take a role away."""
    organisations = _reach()
    member = _member(user_id, organisations)
    found: StaffGrant | None = find_grant(grant_id, member.id, [o.id for o in organisations])
    if found is None:
        raise NotFound("not found")
    return _change(
        member,
        organisations,
        lambda: accounts.revoke_grant(found.id, get_runtime().clock, actor()),
        _("The role is removed. It no longer applies from their next page."),
    )


def _change(
    member: StaffUser, organisations: list[Organisation], change: Callable[[], object], done: str
) -> Response | tuple[str, int]:
    """Make an account change, or show why it was refused."""
    try:
        change()
    except accounts.LastAdmin:
        problem = _(
            "This would leave the organisation with no administrator. "
            "Give someone else the administrator role first."
        )
        return _user_page(member, organisations, _grant_form(organisations), 422, problem)
    except accounts.OwnAccount:
        problem = _("You cannot disable your own account. Ask another administrator.")
        return _user_page(member, organisations, _grant_form(organisations), 422, problem)
    flash(done)
    if find_staff_member(member.id, [o.id for o in organisations]) is None:
        return redirect(url_for(".index"))  # no role left here: no longer theirs to manage
    return redirect(url_for(".user", user_id=member.id))


def _grant_form(organisations: list[Organisation]) -> GrantForm:
    form = GrantForm(formdata=None)
    _set_choices(form, organisations)
    return form


def _organisation_of(member: StaffUser, organisations: list[Organisation]) -> int:
    """The admin's organisation the change is made from, for the audit log."""
    ids = {o.id for o in organisations}
    return next(g.organisation_id for g in member.grants if g.organisation_id in ids)


#: An account change by an admin: (user id, clock, actor, organisation id) → anything.
AccountChange = Callable[[int, Clock, Actor, int], object]


def _account_change(user_id: int, change: AccountChange, done: str) -> Response | tuple[str, int]:
    organisations = _reach()
    member = _member(user_id, organisations)
    organisation_id = _organisation_of(member, organisations)
    clock, who = get_runtime().clock, actor()
    return _change(
        member, organisations, lambda: change(member.id, clock, who, organisation_id), done
    )


@bp.post("/users/<int:user_id>/disable")
@requires(Permission.MANAGE_USERS)
def disable(user_id: int) -> Response | tuple[str, int]:
    """Disable the account: it cannot sign in, and its sessions end now."""
    done = _("The account is disabled. Its sessions have ended.")
    return _account_change(user_id, staff_admin.disable_user, done)


@bp.post("/users/<int:user_id>/enable")
@requires(Permission.MANAGE_USERS)
def enable(user_id: int) -> Response | tuple[str, int]:
    """Let a disabled account sign in again."""
    done = _("The account is enabled. They can sign in again.")
    return _account_change(user_id, staff_admin.enable_user, done)


@bp.post("/users/<int:user_id>/second-factor")
@requires(Permission.MANAGE_USERS)
def reset_second_factor(user_id: int) -> Response | tuple[str, int]:
    """Forget a lost second factor: they set up a new app at their next sign-in."""
    done = _("The second factor is reset. They set up their app again when they next sign in.")
    return _account_change(user_id, staff_admin.reset_second_factor, done)


@bp.post("/users/<int:user_id>/password-link")
@requires(Permission.MANAGE_USERS)
def password_link(user_id: int) -> tuple[str, int]:
    """A new one-time link that sets their password, shown once."""
    organisations = _reach()
    member = _member(user_id, organisations)
    organisation_id = _organisation_of(member, organisations)
    made = staff_admin.password_link(member.id, get_runtime().clock, actor(), organisation_id)
    return render_template(
        "web/users/link.html",
        heading=_("New password link"),
        link=_welcome_link(made.secret),
        expires_at=made.expires_at,
        user_id=member.id,
        email=member.email,
        formats=formats,
    ), 200
