"""What every blueprint of the workspace shares: its URL prefix and its error pages.

`staff_blueprint` makes a blueprint under /staff whose errors are pages of the design
system: a scope refusal is a 403 page, a row outside the user's clinics a 404 page, an
unauthenticated request a redirect to sign in. (The handlers are the blueprint's own, so
that the JSON API keeps its problem documents for the same errors.)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.clinics.roles import Permission
from app.clinics.scope import Forbidden
from app.core.errors import NotFound

STAFF_PREFIX = "/staff"
View = TypeVar("View", bound=Callable[..., Any])


def staff_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of workspace pages, under /staff."""
    blueprint = Blueprint(name, import_name, url_prefix=STAFF_PREFIX)
    blueprint.register_error_handler(Forbidden, forbidden)
    blueprint.register_error_handler(NotFound, not_found)
    blueprint.register_error_handler(HTTPException, http_error)
    return blueprint


def error_page(status: int) -> tuple[str, int]:
    titles = {403: _("You cannot do this"), 404: _("Page not found")}
    title = titles.get(status, _("Sorry, there is a problem"))
    return render_template("web/error.html", title=title, status=status), status


def forbidden(_error: Forbidden) -> tuple[str, int]:
    return error_page(403)


def not_found(_error: NotFound) -> tuple[str, int]:
    return error_page(404)


def http_error(error: HTTPException) -> Response | tuple[str, int]:
    """An HTTP error on a staff page: sign in for a 401, an error page otherwise."""
    if error.code == 401:
        return redirect(url_for("staff_auth.sign_in"))
    if error.code == 400 and "CSRF" in (error.description or ""):
        return error_page(400)
    return error_page(error.code or 500)


def requires(*permissions: Permission) -> Callable[[View], View]:
    """A view for signed-in staff whose roles allow all of `permissions` somewhere (a
    403 page otherwise; a redirect to sign in when no one is signed in). Which rows they
    see is still up to their scope."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("staff_auth.sign_in"))
            for permission in permissions:
                current_user.scope.require(permission)
            return view(*args, **kwargs)

        return cast(View, checked)

    return decorate


def signed_in(view: View) -> View:
    """A view for any signed-in staff member."""
    return requires()(view)
