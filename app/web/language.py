"""The staff pages' language, English or Welsh, and the switch in every page's footer.

A page's language is the first of:

1. `?lang=en` or `?lang=cy` in its address (a link meant to open in one language);
2. the choice made with the footer's switch in this browser, kept in the session (it
   survives signing in and out: it is the browser's language, not a secret);
3. the signed-in staff member's saved language (`StaffUser.locale`), which the switch
   also sets, so that their other browsers open in it;
4. the browser's Accept-Language, else English.

The switch is a form (POST, with its CSRF token) so that it needs no JavaScript. It
sends the staff member back to the page they were on, and only ever to a workspace
path: any other target (another site, a scheme, `..`) sends them to the home page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import HiddenField

from app.clinics import accounts
from app.clinics.accounts import STAFF_LOCALES
from app.web.pages import STAFF_PREFIX, staff_blueprint

bp = staff_blueprint("staff_language", __name__)

#: The Flask session's key for the language chosen with the switch.
CHOSEN = "wesaid.language"
#: Each language's name in itself, as the switch offers it.
NAMES = {"en": "English", "cy": "Cymraeg"}
#: The longest return address the switch accepts.
MAX_TARGET = 2000
_UNSAFE = frozenset("\\\r\n\t ")

__all__ = ["STAFF_LOCALES", "bp", "clear_session", "page_locale", "safe_target", "switch"]


class LanguageForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no types
    language = HiddenField()
    next = HiddenField()


@dataclass(frozen=True)
class Switch:
    """The footer's switch: the language it offers, and where it comes back to."""

    #: The language offered ("cy" on an English page), also its `lang` attribute.
    language: str
    #: Its name in itself: "Cymraeg", "English".
    name: str
    #: Where the form posts.
    action: str
    #: This page, to come back to.
    target: str


def chosen_language() -> str | None:
    """The language chosen with the switch in this browser, if any."""
    chosen = session.get(CHOSEN)
    return chosen if chosen in STAFF_LOCALES else None


def page_locale() -> str:
    """Flask-Babel's locale selector for the staff pages (the order is in the module's
    docstring)."""
    asked = request.args.get("lang")
    if asked in STAFF_LOCALES:
        return str(asked)
    chosen = chosen_language()
    if chosen is not None:
        return chosen
    if current_user.is_authenticated and current_user.user.locale in STAFF_LOCALES:
        return str(current_user.user.locale)
    return request.accept_languages.best_match(STAFF_LOCALES) or "en"


def clear_session() -> None:
    """Empty the Flask session (at sign-in and sign-out) but for the chosen language."""
    chosen = chosen_language()
    session.clear()
    if chosen is not None:
        session[CHOSEN] = chosen


def switch(locale: str) -> Switch:
    """The switch for a page in `locale`: it offers the other language."""
    other = "en" if locale == "cy" else "cy"
    return Switch(other, NAMES[other], url_for("staff_language.choose"), _this_page())


def _this_page() -> str:
    """This page's path and query (less `lang`, which would override the choice), or the
    home page when the page cannot be fetched again (it answered a POST-only form)."""
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "lang"])
    target = request.path + (f"?{query}" if query else "")
    if request.method in ("GET", "HEAD"):
        return target
    try:
        current_app.url_map.bind_to_environ(request.environ).match(request.path, method="GET")
    except HTTPException:
        return url_for("staff_home.home")
    return target


def safe_target(target: str | None) -> str:
    """`target` if it is a relative path within the workspace, else the home page."""
    home = url_for("staff_home.home")
    if not target or len(target) > MAX_TARGET or _UNSAFE & set(target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.fragment or not target.startswith("/"):
        return home
    if parts.path != STAFF_PREFIX and not parts.path.startswith(STAFF_PREFIX + "/"):
        return home
    if any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        return home
    return target


@bp.post("/language")
def choose() -> Response:
    """Show the pages in the chosen language from now on, and go back to the page."""
    form = LanguageForm()
    if not form.validate_on_submit() or form.language.data not in STAFF_LOCALES:
        abort(400)
    session[CHOSEN] = form.language.data
    if current_user.is_authenticated:
        accounts.set_locale(current_user.user.id, form.language.data)
    return redirect(safe_target(form.next.data))
