"""The public page: suppression, languages, caching, isolation, no cookies, open data."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from app.audit.service import Actor
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.core.errors import Invalid
from app.public.page import page_cache
from app.themes import service as themes
from app.themes.codebook import codebook
from app.yousaid import service
from app.yousaid.models import EntryStatus
from tests.public.web_survey import parse_page
from tests.world import World
from tests.yousaid.seed import surveyed_month
from tests.yousaid.test_service import WORDS, _comment

NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)
STAFF = Actor(user_id=None, address="127.0.0.1")
NOT_ENOUGH = "Not enough responses yet"


def _figure(body: str) -> str:
    found = re.search(r'id="fft-figure">([^<]*)<', body)
    assert found is not None
    return found.group(1).strip()


def _answered_total(body: str) -> str:
    """The last row of the asked-and-answered table: everyone, all ways."""
    table = body.split('id="asked"')[1].split("</table>")[0]
    return re.findall(r'numeric">([^<]*)<', table)[-1].strip()


def _entry(organisation_id: int, clinic_id: int | None, said: str, **more: object) -> None:
    given = service.EntryInput(said, "We changed it.", EntryStatus.DONE, **more)  # type: ignore[arg-type]
    service.create_entry(organisation_id, clinic_id, given, STAFF, NOW)


def test_a_cell_of_nine_is_suppressed_and_one_of_ten_is_shown(
    world: World, client: FlaskClient
) -> None:
    nine = world.clinic("nine")
    ten = world.clinic("ten")
    surveyed_month(nine, "2026-03", 30, 9, organisation=False)
    surveyed_month(ten, "2026-03", 30, 10, organisation=False)

    small = client.get("/p/trust/nine")
    assert small.status_code == 200
    body = small.get_data(as_text=True)
    assert _figure(body) == NOT_ENOUGH
    assert "95% sure" not in body
    # Who answered: 9 in all, so no group's share of them is shown either.
    assert _answered_total(body) == NOT_ENOUGH

    shown = client.get("/p/trust/ten")
    body = shown.get_data(as_text=True)
    assert re.fullmatch(r"\d+%", _figure(body))
    assert _answered_total(body) == "10"
    assert "We are 95% sure the true figure is between" in body
    assert "March 2026" in body


def test_no_cookie_a_strict_policy_and_a_cached_page(world: World, client: FlaskClient) -> None:
    clinic = world.clinic("north")
    surveyed_month(clinic, "2026-03", 30, 12)
    first = client.get("/p/trust/north", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert first.status_code == 200
    assert "Set-Cookie" not in first.headers
    policy = first.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "Accept-Language" in first.headers["Vary"]
    assert first.headers["Cache-Control"].startswith("public")
    assert "//" not in "".join(
        tag.get("src", "") + tag.get("href", "")
        for tag in parse_page(first).all("script") + parse_page(first).all("link")
    )
    # The same bytes again, and nothing at all for a browser that has them.
    again = client.get("/p/trust/north", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert "Set-Cookie" not in again.headers
    assert page_cache(client.application).get_or_make(
        ("page", "trust", "north", "en"), pytest.fail
    ).etag == first.headers["ETag"].strip('"')


def test_the_visitors_language_from_the_query_or_accept_language(
    world: World, client: FlaskClient
) -> None:
    clinic = world.clinic("north")
    surveyed_month(clinic, "2026-03", 30, 12)
    arabic = parse_page(client.get("/p/trust/north?lang=ar"))
    assert (arabic.one("html")["lang"], arabic.one("html")["dir"]) == ("ar", "rtl")
    assert any("rtl" in link.get("href", "") for link in arabic.all("link"))
    bengali = client.get("/p/trust/north", headers={"Accept-Language": "bn-BD, en;q=0.5"})
    assert parse_page(bengali).one("html")["lang"] == "bn"
    assert "Accept-Language" in bengali.headers["Vary"]
    # An unknown language falls back to English; the switcher links every language.
    page = parse_page(client.get("/p/trust/north?lang=xx"))
    assert page.one("html")["lang"] == "en"
    switcher = {a["hreflang"] for a in page.all("a") if "hreflang" in a}
    assert len(switcher) == 14


def test_one_organisations_entries_and_quotes_never_show_on_anothers(
    world: World, client: FlaskClient
) -> None:
    north = world.clinic("north")
    west = world.clinic("west", org="other")
    surveyed_month(north, "2026-03", 30, 12, WORDS)
    surveyed_month(west, "2026-03", 30, 12, WORDS)
    organisation = north.organisation_id
    comment = _comment(north.id, "2026-03")
    parking = next(t for t in codebook(organisation) if t.name == "Parking")
    themes.confirm(comment.id, [parking.id], 2, STAFF, NOW)
    quote = service.approve_quote(comment.id, STAFF, NOW)
    _entry(organisation, north.id, "NORTH ONLY: the car park", quote_ids=[quote.id])
    _entry(organisation, None, "TRUST WIDE: letters too late")
    _entry(west.organisation_id, west.id, "WEST ONLY: the lift")

    mine = client.get("/p/trust/north").get_data(as_text=True)
    assert "NORTH ONLY" in mine
    assert "TRUST WIDE" in mine
    assert "WEST ONLY" not in mine
    assert quote.text in mine
    for secret in ("Quartermain", "07400 999111", "zeb@example.com"):
        assert secret not in mine
    whole = client.get("/p/trust").get_data(as_text=True)
    assert "NORTH ONLY" in whole
    assert "TRUST WIDE" in whole
    assert "WEST ONLY" not in whole
    assert 'href="/p/trust/north?lang=en"' in whole
    theirs = client.get("/p/other/west").get_data(as_text=True)
    assert "WEST ONLY" in theirs
    assert "NORTH ONLY" not in theirs
    assert "TRUST WIDE" not in theirs
    assert quote.text not in theirs
    # A clinic named under another organisation does not exist there.
    assert client.get("/p/other/north").status_code == 404
    assert client.get("/p/nobody").status_code == 404


def test_open_data_and_the_poster(world: World, client: FlaskClient) -> None:
    clinic = world.clinic("north")
    surveyed_month(clinic, "2026-02", 30, 9)
    surveyed_month(clinic, "2026-03", 30, 12)
    found = client.get("/p/trust/open-data.json")
    assert found.status_code == 200
    rows = json.loads(found.get_data())["rows"]
    by_place = {(row["clinic"], row["period"]): row for row in rows}
    assert by_place[("north", "2026-02")]["suppressed"] is True
    assert by_place[("north", "2026-02")]["fft_positive"] is None
    assert by_place[("north", "2026-02")]["answered"] is None
    assert by_place[("north", "2026-03")]["answered"] == 12
    assert 0 < by_place[("", "2026-03")]["fft_positive"] < 1
    table = list(
        csv.DictReader(io.StringIO(client.get("/p/trust/open-data.csv").get_data(as_text=True)))
    )
    assert len(table) == len(rows)

    for lang, family in (("ur", "Nastaliq"), ("bn", "Bengali"), ("zh_Hans", "CJK")):
        poster = client.get(f"/p/trust/north/poster.pdf?lang={lang}")
        assert poster.status_code == 200
        assert poster.mimetype == "application/pdf"
        reader = PdfReader(io.BytesIO(poster.get_data()))
        assert len(reader.pages) >= 1
        fonts = {
            str(font.get_object()["/BaseFont"])
            for page in reader.pages
            for font in page["/Resources"]["/Font"].values()
        }
        assert any(family in font for font in fonts), (lang, fonts)


@pytest.mark.parametrize("slug", ["open-data", "poster", "open-data.json", "poster.pdf"])
def test_the_public_pages_own_names_cannot_be_clinic_slugs(
    app: Flask, clock: FixedClock, slug: str
) -> None:
    with pytest.raises(Invalid, match="slug"):
        create_clinic(slug, name="X", timezone="Europe/London", sender="+441134960000", clock=clock)
