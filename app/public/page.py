""" "You said, we did" for the public: `/p/<organisation>` and `/p/<organisation>/<clinic>`.

No login and no cookie: nothing here reads or writes the session, so no Set-Cookie is
ever sent. Every page sends a strict Content-Security-Policy (our own origin only,
nothing inline), loads nothing from another site, and is the same for every visitor
who asks in the same language, so it is cached (`app.public.page_cache`, for
PUBLIC_PAGE_TTL_SECONDS, default 300) and sent with an ETag and `Cache-Control: public`.

The language is `?lang=xx` if it is one of the 14, else the best of `Accept-Language`,
else English; a page chosen by `Accept-Language` says `Vary: Accept-Language`. Arabic
and Urdu pages are right to left.

- `/p/<org>/<clinic>/poster.pdf`: an A4 poster for the clinic's waiting room.
- `/p/<org>/open-data.json` and `.csv`: the published figures (suppressed ones empty).
These names can never be clinic slugs (`app.clinics.service.RESERVED_CLINIC_SLUGS`).
"""

from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for

from app.core import locales
from app.public import poster
from app.public.page_cache import Cached, PageCache, cached
from app.public.page_view import Reader, languages, page_context
from app.runtime import get_runtime
from app.surveys.web_form import html_lang, text_dir
from app.yousaid.open_data import open_data
from app.yousaid.published import find_place, published_page

bp = Blueprint("public_page", __name__, url_prefix="/p")

DEFAULT_TTL_SECONDS = 300
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
OPEN_DATA_FIELDS = (
    "organisation",
    "clinic",
    "survey",
    "period",
    "asked",
    "answered",
    "fft_positive",
    "ci_low",
    "ci_high",
    "suppressed",
)
_EXTENSION = "wesaid.public_page"


def init_app(app: Flask) -> None:
    """Register the public pages with their cache. Idempotent."""
    if _EXTENSION in app.extensions:
        return
    ttl = float(app.config.get("PUBLIC_PAGE_TTL_SECONDS", DEFAULT_TTL_SECONDS))
    app.extensions[_EXTENSION] = PageCache(ttl)
    app.register_blueprint(bp)


def page_cache(app: Flask) -> PageCache:
    cache: PageCache = app.extensions[_EXTENSION]
    return cache


@bp.get("/<org_slug>")
def organisation(org_slug: str) -> Response:
    """The organisation's page: its figures, themes and every entry."""
    return _page(org_slug, None)


@bp.get("/<org_slug>/<clinic_slug>")
def clinic(org_slug: str, clinic_slug: str) -> Response:
    """A clinic's page: its figures and themes, its entries and the organisation's."""
    return _page(org_slug, clinic_slug)


@bp.get("/<org_slug>/<clinic_slug>/poster.pdf")
def clinic_poster(org_slug: str, clinic_slug: str) -> Response:
    """An A4 poster of the clinic's page, in the visitor's language."""
    locale, negotiated = _locale()
    found = page_cache(current_app).get_or_make(
        ("poster", org_slug, clinic_slug, locale), lambda: _poster(org_slug, clinic_slug, locale)
    )
    return _send(found, negotiated)


@bp.get("/<org_slug>/open-data.json")
def open_data_json(org_slug: str) -> Response:
    """The organisation's and its clinics' published figures as JSON."""
    found = page_cache(current_app).get_or_make(
        ("json", org_slug), lambda: _open_data(org_slug, "json")
    )
    return _send(found, negotiated=False)


@bp.get("/<org_slug>/open-data.csv")
def open_data_csv(org_slug: str) -> Response:
    """The same figures as CSV."""
    found = page_cache(current_app).get_or_make(
        ("csv", org_slug), lambda: _open_data(org_slug, "csv")
    )
    return _send(found, negotiated=False)


@bp.after_request
def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def _locale() -> tuple[str, bool]:
    """The page's locale, and whether it came from Accept-Language."""
    asked = request.args.get("lang", "")
    chosen = locales.canonical(asked) if asked else None
    if chosen is not None:
        return chosen, False
    for value, _quality in request.accept_languages:
        found = locales.canonical(value)
        if found is not None:
            return found, True
    return locales.DEFAULT_LOCALE, True


def _page(org_slug: str, clinic_slug: str | None) -> Response:
    locale, negotiated = _locale()
    found = page_cache(current_app).get_or_make(
        ("page", org_slug, clinic_slug or "", locale),
        lambda: _render(org_slug, clinic_slug, locale),
    )
    return _send(found, negotiated)


def _render(org_slug: str, clinic_slug: str | None, locale: str) -> Cached:
    place = find_place(org_slug, clinic_slug)
    reader = Reader(locale)
    if place is None:
        return _missing(reader)
    organisation, chosen = place
    published = published_page(organisation, chosen, get_runtime().clock.now())
    context = page_context(published, reader)
    html = render_template(
        "public/page.html",
        page=_head(reader, chosen.name if chosen else organisation.name),
        ui=reader.ui,
        locale=locale,
        organisation=organisation,
        clinic=chosen,
        clinics=[] if chosen else published.clinics,
        languages=[
            {**vars(language), "href": _href(org_slug, clinic_slug, language.code)}
            for language in languages()
        ],
        poster=url_for(".clinic_poster", org_slug=org_slug, clinic_slug=clinic_slug, lang=locale)
        if clinic_slug
        else "",
        open_data=url_for(".open_data_csv", org_slug=org_slug),
        **context,
    )
    return cached(html.encode(), "text/html")


def _href(org_slug: str, clinic_slug: str | None, code: str) -> str:
    if clinic_slug is None:
        return url_for(".organisation", org_slug=org_slug, lang=code)
    return url_for(".clinic", org_slug=org_slug, clinic_slug=clinic_slug, lang=code)


def _head(reader: Reader, place: str) -> dict[str, str]:
    return {
        "lang": html_lang(reader.locale),
        "dir": text_dir(reader.locale),
        "title": f"{reader.ui['page_title']} – {place}",
        "clinic": place,
    }


def _missing(reader: Reader) -> Cached:
    html = render_template(
        "surveys/message.html",
        page=_head(reader, "") | {"title": reader.ui["missing_title"]},
        ui=reader.ui,
        lines=[reader.ui["missing_body"]],
        kind="missing",
    )
    return cached(html.encode(), "text/html", 404)


def _poster(org_slug: str, clinic_slug: str, locale: str) -> Cached:
    place = find_place(org_slug, clinic_slug)
    reader = Reader(locale)
    if place is None or place[1] is None:
        return _missing(reader)
    organisation, chosen = place[0], place[1]
    published = published_page(organisation, chosen, get_runtime().clock.now())
    context = page_context(published, reader)
    path = url_for(".clinic", org_slug=org_slug, clinic_slug=clinic_slug)
    address = str(current_app.config["PUBLIC_BASE_URL"]) + path
    pdf = poster.render(
        page=_head(reader, chosen.name),
        ui=reader.ui,
        address=address,
        **context,
    )
    return cached(pdf, "application/pdf")


def _open_data(org_slug: str, kind: str) -> Cached:
    place = find_place(org_slug, None)
    if place is None:
        return cached(b'{"error": "no such organisation"}', "application/json", 404)
    rows = open_data(place[0])
    if kind == "json":
        body = json.dumps({"organisation": org_slug, "rows": rows}, ensure_ascii=False, indent=1)
        return cached(body.encode(), "application/json")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OPEN_DATA_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return cached(buffer.getvalue().encode(), "text/csv")


def _send(found: Cached, negotiated: bool) -> Response:
    response = Response(found.body, status=found.status, mimetype=found.mimetype)
    if found.status == 200:
        ttl = int(page_cache(current_app).ttl)
        response.headers["Cache-Control"] = f"public, max-age={ttl}"
        response.set_etag(found.etag)
        response.make_conditional(request)
    else:
        response.headers["Cache-Control"] = "no-store"
    if negotiated:
        response.vary.add("Accept-Language")
    return response
