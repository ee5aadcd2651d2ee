"""The staff workspace in Welsh: the "staff" catalogue is current and complete, every
area renders in Welsh (dates too) for a Welsh-speaking member of staff, and the footer's
language switch works, is remembered, and never sends anyone off the workspace."""

from __future__ import annotations

import html
import io
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

from app.clinics import accounts
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.extensions import db
from tests.casework import cases
from tests.web.routes import methods, readable, rules, seed, url_for_rule
from tests.web.staff import Member, StaffDesk, csrf_token, post_form
from tests.world import World

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "staff.pot"
WELSH = TRANSLATIONS / "cy" / "LC_MESSAGES" / "staff.po"
PATIENT_WELSH = TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po"
_PLACEHOLDER = re.compile(r"%\(\w+\)[#0+ \-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_TAG = re.compile(r"<[a-zA-Z/!]")


def _read(path: Path) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp)


def _ids(message: Message) -> tuple[str, ...]:
    found = message.id
    return tuple(found) if isinstance(found, (tuple, list)) else (str(found),)


def _forms(message: Message) -> tuple[str, ...]:
    found = message.string
    if isinstance(found, (tuple, list)):
        return tuple(str(form or "") for form in found)
    return (str(found or ""),)


# -- the catalogue -------------------------------------------------------------------------


def _extract_options() -> list[str]:
    """The options `make staff-messages` extracts with (from the Makefile, so that the
    test and the developers' command cannot drift apart)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^STAFF_EXTRACT := ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert found is not None, "the Makefile has no STAFF_EXTRACT"
    block = found.group(1).replace("\\\n", " ")
    mapping = re.search(r"-F (\S+)", block)
    assert mapping is not None
    options = ["-F", str(ROOT / mapping.group(1))]
    for keyword in re.findall(r"-k (\S+)", block):
        options += ["-k", keyword]
    return options


def test_staff_pot_is_up_to_date_with_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "staff.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", *_extract_options(), "-o", str(fresh), str(ROOT)]
    )
    wanted = {_ids(m) for m in _read(fresh) if m.id}
    have = {_ids(m) for m in _read(POT) if m.id}
    assert sorted(wanted - have) == [], "new texts: run `make staff-messages` and translate"
    assert sorted(have - wanted) == [], "texts no longer used: run `make staff-messages`"


def _placeholder_problems(source: str, text: str) -> list[str]:
    expected, found = set(_PLACEHOLDER.findall(source)), set(_PLACEHOLDER.findall(text))
    problems = [f"missing {p}" for p in sorted(expected - found)]
    problems += [f"unknown {p}" for p in sorted(found - expected)]
    if expected and "%" in _PLACEHOLDER.sub("", text).replace("%%", ""):
        problems.append("stray %")
    return problems


def _problems(source: Message, welsh: Catalog) -> list[str]:
    label = repr(_ids(source)[0][:50])
    found = welsh.get(source.id)
    if found is None:
        return [f"{label}: missing"]
    problems = [f"{label}: fuzzy"] if found.fuzzy else []
    forms = _forms(found)
    wanted = welsh.num_plurals if source.pluralizable else 1
    if len(forms) != wanted:
        problems.append(f"{label}: {len(forms)} forms, expected {wanted}")
    english = " ".join(_ids(source))
    for index, text in enumerate(forms):
        if not text.strip():
            problems.append(f"{label}[{index}]: empty")
        if _TAG.search(text) and not _TAG.search(english):
            problems.append(f"{label}[{index}]: HTML")
        problems += [f"{label}[{index}]: {p}" for p in _placeholder_problems(english, text)]
    return problems


def test_every_staff_text_has_a_welsh_translation_with_its_placeholders() -> None:
    welsh = _read(WELSH)
    sources = [m for m in _read(POT) if m.id]
    problems = [f"obsolete: {key!r}" for key in welsh.obsolete]
    for source in sources:
        problems += _problems(source, welsh)
    assert problems == []
    assert len(sources) > 700  # the whole workspace, not a sample


def test_plural_texts_have_the_six_welsh_forms_of_the_patient_catalogue() -> None:
    welsh, patients = _read(WELSH), _read(PATIENT_WELSH)
    assert welsh.plural_forms == patients.plural_forms
    assert welsh.num_plurals == 6
    plural = [m for m in welsh if m.id and m.pluralizable]
    assert plural, "the workspace counts things: some texts are plural"
    assert all(len(_forms(m)) == 6 for m in plural)


def test_the_welsh_catalogue_is_marked_as_a_draft_for_review() -> None:
    welsh = _read(WELSH)
    for phrase in ("DRAFT", "WeSaid team", "qualified", "Welsh translator", "review"):
        assert phrase in welsh.header_comment
    assert str(welsh.locale) == "cy"


@pytest.fixture(scope="module", autouse=True)
def _compiled_welsh() -> None:
    """Compile the Welsh catalogue if `make translations` has not since it changed (as
    a fresh checkout); written aside and renamed, so that test workers never read half
    a file."""
    target = WELSH.with_suffix(".mo")
    if target.exists() and target.stat().st_mtime >= WELSH.stat().st_mtime:
        return
    buffer = io.BytesIO()
    write_mo(buffer, _read(WELSH))
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".mo.tmp")
    with os.fdopen(handle, "wb") as fp:
        fp.write(buffer.getvalue())
    os.replace(temporary, target)


# -- pages in Welsh ------------------------------------------------------------------------


def _text(answer: Any) -> str:
    return html.unescape(readable(answer))


def _english_texts() -> list[str]:
    """The workspace's English sentences and phrases whose Welsh differs: none of them
    may show on a Welsh page."""
    welsh = _read(WELSH)
    found = []
    for message in welsh:
        if not message.id or message.pluralizable or "%" in str(message.id):
            continue
        english = str(message.id)
        if " " in english and len(english) >= 10 and message.string != english:
            found.append(english)
    return found


#: An element in a language of its own (a patient's message, the switch's language name).
_OWN_LANGUAGE = re.compile(r'<(?!html)(\w+)\b[^>]*\slang="[^"]*"[^>]*>.*?</\1>', re.DOTALL)


@pytest.fixture
def north(app: Flask, world: World, clock: FixedClock) -> cases.Desk:
    clinic = world.clinic("north")
    made = cases.every_kind(world, clock, clinic, "N-1")
    world.book(clinic, "A-7", "N-1", datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    return made


def _welsh_member(desk: StaffDesk, role: Role = Role.ADMIN) -> Member:
    member = desk.member(role, [] if role is Role.ADMIN else ["north"], name="Gwen Morgan")
    accounts.set_locale(member.user_id, "cy")
    return member


#: A page of each area, and Welsh it must show (dates written by Babel in Welsh).
AREAS = {
    "home": ("/staff/", ["Helo, Gwen Morgan", "Heddiw", "Templedi", "Log archwilio"]),
    "worklist": ("/staff/worklist", ["Heddiw", "Dydd Llun 2 Mawrth 2026", "Ceisiadau i aildrefnu"]),
    "patients": ("/staff/patients", ["Dod o hyd i glaf"]),
    "appointments": (
        "/staff/appointments?day=2026-03-10",
        ["Apwyntiadau: Dydd Mawrth 10 Mawrth 2026", "Y diwrnod nesaf"],
    ),
    "imports": ("/staff/imports", ["Uwchlwytho a mewnforio", "Beth yw'r colofnau"]),
    "templates": ("/staff/templates", ["Templedi negeseuon", "Neges atgoffa am apwyntiad"]),
    "settings": ("/staff/settings", ["Cadw'r gosodiadau", "Oriau tawel"]),
    "users": ("/staff/users", ["Staff a'u rolau", "Gwahodd aelod o staff", "Gweinyddwr"]),
    "tokens": ("/staff/tokens", ["Tocynnau API", "Creu tocyn"]),
    "audit": ("/staff/audit", ["Log archwilio", "Wedi mewngofnodi", "2 Maw 2026"]),
}


def _assert_welsh(answer: Any, expected: list[str]) -> None:
    page = _text(answer)
    assert answer.status_code == 200, page[-500:]
    assert '<html lang="cy" dir="ltr">' in page
    for phrase in expected:
        assert phrase in page
    staff_words = _OWN_LANGUAGE.sub("", page)
    leaked = [english for english in _english_texts() if english in staff_words]
    assert leaked == []
    assert re.search(r'<button[^>]*lang="en"[^>]*>English</button>', page)


@pytest.mark.parametrize("area", sorted(AREAS))
def test_each_area_is_in_welsh_for_a_welsh_speaker(
    client: Any, desk: StaffDesk, north: cases.Desk, area: str
) -> None:
    desk.sign_in(client, _welsh_member(desk))
    path, expected = AREAS[area]
    _assert_welsh(client.get(path, follow_redirects=True), expected)


def test_every_workspace_page_is_in_welsh(
    app: Flask, client: Any, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    """Every page of every route (from `app.url_map`, so a new page is covered the day
    it is added), as a Welsh-speaking administrator of the whole organisation sees it."""
    north = seed(world, clock)
    desk.sign_in(client, _welsh_member(desk))
    shown = []
    for rule in rules(app):
        if not rule.rule.startswith("/staff") or "GET" not in methods(rule):
            continue
        answer = client.get(url_for_rule(app, rule, north), follow_redirects=True)
        page = _text(answer)
        if "<html" not in page:
            continue  # a file, or a part of a page that htmx asked for
        assert '<html lang="cy"' in page, rule.endpoint
        staff_words = _OWN_LANGUAGE.sub("", page)
        leaked = [english for english in _english_texts() if english in staff_words]
        assert leaked == [], rule.endpoint
        shown.append(rule.endpoint)
    assert len(shown) >= 20


def test_a_patient_s_timeline_is_in_welsh_with_welsh_dates(
    client: Any, desk: StaffDesk, north: cases.Desk
) -> None:
    desk.sign_in(client, _welsh_member(desk, Role.RECEPTIONIST))
    answer = client.get(f"/staff/patients/{north.patient.id}")
    _assert_welsh(answer, ["Dydd Mawrth 10 Mawrth 2026 am 09:30", "Wedi'i drefnu", "Caniatâd"])


def test_the_sign_in_page_and_its_errors_follow_the_browser_s_language(client: Any) -> None:
    welsh = {"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}
    _assert_welsh(client.get("/staff/sign-in", headers=welsh), ["Mewngofnodi i WeSaid"])
    token = csrf_token(client, "/staff/sign-in")
    answer = client.post(
        "/staff/sign-in", data={"csrf_token": token, "email": "", "password": ""}, headers=welsh
    )
    assert answer.status_code == 422
    page = _text(answer)
    assert "<title>Gwall: Mewngofnodi – WeSaid</title>" in page
    assert "Mae problem wedi codi" in page
    assert "Rhowch eich cyfeiriad e-bost" in page
    assert '<span class="nhsuk-u-visually-hidden">Gwall: </span>Rhowch eich' in page
    assert "Sign in" not in page
    english = client.get("/staff/sign-in", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en" dir="ltr">' in _text(english)
    assert re.search(r'<button[^>]*lang="cy"[^>]*>Cymraeg</button>', _text(english))


def test_error_pages_are_in_welsh(client: Any, desk: StaffDesk, north: cases.Desk) -> None:
    desk.sign_in(client, _welsh_member(desk, Role.RECEPTIONIST))
    missing = client.get("/staff/patients/987654")
    assert missing.status_code == 404
    assert "Heb ddod o hyd i'r dudalen" in _text(missing)
    refused = client.get("/staff/users")
    assert refused.status_code == 403
    assert "Ni allwch wneud hyn" in _text(refused)


def test_lang_in_the_address_wins_for_that_page(
    client: Any, desk: StaffDesk, north: cases.Desk
) -> None:
    desk.sign_in(client, _welsh_member(desk))
    page = _text(client.get("/staff/worklist?lang=en&kind=opt_out"))
    assert '<html lang="en" dir="ltr">' in page
    assert "Monday 2 March 2026" in page
    # The switch comes back to this page without `lang`, which would override the choice.
    assert 'name="next" value="/staff/worklist?kind=opt_out"' in page
    assert '<html lang="cy"' in _text(client.get("/staff/worklist"))


# -- the switch ------------------------------------------------------------------------------


def _switch(client: Any, language: str, target: str, page: str = "/staff/sign-in") -> Any:
    return post_form(client, "/staff/language", {"language": language, "next": target}, page)


def test_the_switch_changes_the_language_and_comes_back(client: Any) -> None:
    english = _text(client.get("/staff/sign-in"))
    assert '<html lang="en"' in english
    assert 'name="next" value="/staff/sign-in"' in english
    answer = _switch(client, "cy", "/staff/sign-in")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/staff/sign-in"
    welsh = _text(client.get("/staff/sign-in"))
    assert '<html lang="cy"' in welsh
    assert "Mewngofnodi i WeSaid" in welsh
    _switch(client, "en", "/staff/sign-in")
    assert "Sign in to WeSaid" in _text(client.get("/staff/sign-in"))


def test_a_choice_while_signed_in_is_saved_to_the_account(
    app: Flask, client: Any, desk: StaffDesk, north: cases.Desk
) -> None:
    member = desk.member(Role.RECEPTIONIST, ["north"], name="Rhys Jones")
    desk.sign_in(client, member)
    assert '<html lang="en"' in _text(client.get("/staff/worklist"))
    answer = _switch(client, "cy", "/staff/patients", page="/staff/worklist")
    assert answer.headers["Location"] == "/staff/patients"
    assert "Dod o hyd i glaf" in _text(client.get("/staff/patients"))
    db.session.expire_all()
    assert desk.user(member).locale == "cy"
    # Another browser, where no language was chosen, opens in the saved one.
    elsewhere = desk.sign_in(app.test_client(), member)
    assert '<html lang="cy"' in _text(elsewhere.get("/staff/"))


def test_the_browser_s_choice_survives_signing_in_and_out(
    client: Any, desk: StaffDesk, north: cases.Desk
) -> None:
    member = desk.member(Role.RECEPTIONIST, ["north"], name="Rhys Jones")
    _switch(client, "cy", "/staff/sign-in")
    desk.sign_in(client, member)
    assert "Helo, Rhys Jones" in _text(client.get("/staff/"))
    db.session.expire_all()
    assert desk.user(member).locale == "en"  # chosen while signed out: this browser only
    post_form(client, "/staff/sign-out", {}, "/staff/")
    assert "Mewngofnodi i WeSaid" in _text(client.get("/staff/sign-in"))


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/staff/",
        "//evil.example/staff/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/staff/../api/v1/patients",
        "/staff/%2e%2e/public",
        "/staffroom",
        "/api/v1/patients",
        "/staff/sign-in#top",
        "/staff/sign in",
        "staff/sign-in",
        "",
        "/staff/" + "a" * 2100,
    ],
)
def test_the_switch_never_sends_anyone_off_the_workspace(client: Any, target: str) -> None:
    answer = _switch(client, "cy", target)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/staff/"


def test_the_switch_keeps_a_workspace_page_and_its_query(client: Any) -> None:
    answer = _switch(client, "cy", "/staff/appointments?day=2026-03-10&clinic=3")
    assert answer.headers["Location"] == "/staff/appointments?day=2026-03-10&clinic=3"


def test_the_switch_refuses_an_unknown_language_and_a_missing_token(
    client: Any, desk: StaffDesk, north: cases.Desk
) -> None:
    member = desk.member(Role.RECEPTIONIST, ["north"])
    desk.sign_in(client, member)
    assert _switch(client, "fr", "/staff/", page="/staff/").status_code == 400
    no_token = client.post("/staff/language", data={"language": "cy", "next": "/staff/"})
    assert no_token.status_code == 400
    db.session.expire_all()
    assert desk.user(member).locale == "en"
    assert '<html lang="en"' in _text(client.get("/staff/"))


def test_a_page_answering_a_post_only_form_switches_back_to_the_home_page(
    client: Any, desk: StaffDesk, north: cases.Desk
) -> None:
    desk.sign_in(client, desk.member(Role.RECEPTIONIST, ["north"]))
    token = csrf_token(client, "/staff/worklist")
    answer = client.post("/staff/worklist/handle", data={"csrf_token": token, "kind": "x"})
    assert answer.status_code in (400, 422)
    assert 'name="next" value="/staff/"' in _text(answer)
