"""The NHS.UK design system as every page gets it: the layout, its macros and the static
files built by `make assets`.

The layout is checked in Chromium on a page of its own (with htmx, as staff pages will
have it) under the survey pages' strict Content-Security-Policy: nothing refused,
nhsuk-frontend's script and htmx both working, right to left in Arabic, and axe-core
finding nothing serious. The rest needs no browser.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Blueprint, Flask, Response, render_template_string
from jinja2.exceptions import UndefinedError

from app import web_assets
from app.public.survey_form import SECURITY_HEADERS
from tests.e2e.browser import ROOT, axe_violations, blocking, describe, watch_policy

if TYPE_CHECKING:
    from playwright.sync_api import Page

STATIC = ROOT / "app" / "static"
#: The versions that go together (nhsuk-frontend-jinja's compatibility table).
NHSUK_FRONTEND, NHSUK_FRONTEND_JINJA = "10.6.1", "0.10.2"

PAGE = """{% extends "layouts/nhsuk_base.html" %}
{% set use_htmx = true %}
{% block title %}Layout check{% endblock %}
{% block service_name %}WeSaid{% endblock %}
{% block content %}
<h1 class="nhsuk-heading-l">Layout check</h1>
<button class="nhsuk-button" type="button" hx-get="{{ url_for('layout_check.part') }}"
  hx-target="#part">Load</button>
<div id="part"></div>
{% endblock %}
"""

layout_check = Blueprint("layout_check", __name__)


@layout_check.get("/layout-check/page/<lang>")
def whole(lang: str) -> str:
    return render_template_string(PAGE, html_lang=lang)


@layout_check.get("/layout-check/part")
def part() -> str:
    return '<p class="nhsuk-body" id="loaded">Loaded by htmx</p>'


@layout_check.after_request
def _strict(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@pytest.fixture
def layout_url(app: Flask, base_url: str) -> str:
    web_assets.init_app(app)
    app.register_blueprint(layout_check)
    return f"{base_url}/layout-check/page"


# -- in the browser ------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("cy", "ltr"), ("ar", "rtl")])
def test_the_layout_works_under_a_strict_policy(
    layout_url: str, page: Page, lang: str, direction: str
) -> None:
    refusals = watch_policy(page)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.on("requestfailed", lambda request: failures.append(request.url))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{layout_url}/{lang}")

    assert (page.get_attribute("html", "lang"), page.get_attribute("html", "dir")) == (
        lang,
        direction,
    )
    stylesheet = "nhsuk-frontend.rtl.min.css" if direction == "rtl" else "nhsuk-frontend.min.css"
    assert page.locator(f'link[href="/static/nhsuk/{stylesheet}"]').count() == 1
    assert page.evaluate("getComputedStyle(document.body).direction") == direction
    assert page.get_by_role("banner").inner_text().strip() == "WeSaid"
    # nhsuk-frontend's script ran (from a file: no inline script is allowed), and so did htmx.
    page.wait_for_function("document.body.classList.contains('nhsuk-frontend-supported')")
    assert page.evaluate("typeof window.htmx") == "object"
    # The skip link comes first and leads to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "nhsuk-skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "maincontent"
    page.get_by_role("button", name="Load").click()
    assert page.locator("#loaded").inner_text() == "Loaded by htmx"

    violations = axe_violations(page)
    assert not blocking(violations), describe(violations)
    assert refusals == []
    assert failures == []
    origin = layout_url.split("/layout-check", 1)[0]
    assert all(url.startswith(origin + "/") for url in requested), requested


# -- the Jinja environment -------------------------------------------------------------------


def test_the_macros_are_loaded_and_escape_what_they_show(app: Flask) -> None:
    web_assets.init_app(app)
    html = render_template_string(
        '{% from "nhsuk/components/hint/macro.jinja" import hint %}'
        '{{ hint({"text": text, "id": "h"}) }}',
        text='<script>alert("x")</script>',
    )
    assert " ".join(html.split()) == (
        '<div class="nhsuk-hint" id="h" > &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; </div>'
    )
    assert "<script>" not in html


def test_the_macros_leave_options_out_without_failing(app: Flask) -> None:
    web_assets.init_app(app)
    # `params.label.text`, `params.fieldset.legend` and so on, none given.
    html = render_template_string(
        '{% from "nhsuk/components/radios/macro.jinja" import radios %}'
        '{{ radios({"name": "q", "items": [{"value": "a", "text": "A"}]}) }}'
    )
    label = '<label class="nhsuk-label nhsuk-radios__label" for="q" > A </label>'
    assert label in " ".join(html.split())


def test_a_typo_in_our_own_templates_still_fails(app: Flask) -> None:
    web_assets.init_app(app)
    # What Jinja's default does: an undefined value's attribute is an error...
    with pytest.raises(UndefinedError):
        render_template_string("{{ page.titel.upper }}", page={"title": "T"})
    with pytest.raises(UndefinedError):
        render_template_string("{{ ui.submti['x'] }}", ui={"submit": "Send"})
    # ...even inside a call to a macro, where the macro's own undefined values chain.
    with pytest.raises(UndefinedError):
        render_template_string(
            '{% from "nhsuk/components/button/macro.jinja" import button %}'
            '{{ button({"text": page.titel.upper}) }}',
            page={"title": "T"},
        )
    # A plain undefined name still renders empty, as it always has.
    assert render_template_string("[{{ nothing }}]") == "[]"


def test_init_app_is_idempotent(app: Flask) -> None:
    web_assets.init_app(app)
    loader = app.jinja_env.loader
    web_assets.init_app(app)
    assert app.jinja_env.loader is loader


# -- the built files -------------------------------------------------------------------------


def _urls(css: Path) -> set[str]:
    return {
        match.strip("\"'")
        for match in re.findall(r"url\(([^)]*)\)", css.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize("name", ["nhsuk-frontend.min.css", "nhsuk-frontend.rtl.min.css"])
def test_the_stylesheets_fetch_nothing_from_elsewhere(name: str) -> None:
    css = STATIC / "nhsuk" / name
    text = css.read_text(encoding="utf-8")
    assert "@font-face" not in text
    assert "@import" not in text
    assert not re.search(r"https?:", text)
    urls = _urls(css)
    assert urls, "the icons the CSS draws"
    for url in urls:
        assert not url.startswith(("/", "data:")), url  # relative to the stylesheet
        assert (css.parent / url).is_file(), f"{url} was not copied by make assets"


def test_the_right_to_left_stylesheet_is_the_mirror_image() -> None:
    ltr = (STATIC / "nhsuk" / "nhsuk-frontend.min.css").read_text(encoding="utf-8")
    rtl = (STATIC / "nhsuk" / "nhsuk-frontend.rtl.min.css").read_text(encoding="utf-8")
    assert ".nhsuk-form-group--error{padding-left:16px;border-left:4px solid" in ltr
    assert ".nhsuk-form-group--error{padding-right:16px;border-right:4px solid" in rtl


def test_the_versions_go_together() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    packages = lock["packages"]
    assert packages["node_modules/nhsuk-frontend"]["version"] == NHSUK_FRONTEND
    assert packages["node_modules/htmx.org"]["version"].startswith("2.")
    assert version("nhsuk-frontend-jinja") == NHSUK_FRONTEND_JINJA
    script = (STATIC / "nhsuk" / "nhsuk-frontend.min.js").read_text(encoding="utf-8")
    assert f'version="{NHSUK_FRONTEND}"' in script
    htmx = (STATIC / "vendor" / "htmx" / "htmx.min.js").read_text(encoding="utf-8")
    assert f'version:"{packages["node_modules/htmx.org"]["version"]}"' in htmx


@pytest.mark.parametrize(
    ("folder", "licence"),
    [("nhsuk", "MIT License"), ("vendor/htmx", "Zero-Clause BSD")],
)
def test_the_licences_sit_beside_the_copied_code(folder: str, licence: str) -> None:
    assert licence in (STATIC / folder / "LICENSE").read_text(encoding="utf-8")
