"""The public "you said, we did" pages with hostile addresses, languages and headers: a
page (200), a 304 or "not found" (404), never a 500 and never a cookie."""

from __future__ import annotations

from urllib.parse import quote

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from tests.properties.values import nasty_text
from tests.world import World
from tests.yousaid.seed import surveyed_month

SLUG = st.one_of(st.sampled_from(["trust", "north", "open-data.json", "poster.pdf"]), nasty_text)
LANGUAGE = st.one_of(st.sampled_from(["ar", "zh-Hant", "pa-Arab", "EN_gb", ""]), nasty_text)


def test_hostile_requests_never_fail_or_set_a_cookie(world: World, client: FlaskClient) -> None:
    surveyed_month(world.clinic("north"), "2026-03", 20, 12)

    @given(org=SLUG, clinic=st.none() | SLUG, lang=LANGUAGE, accept=LANGUAGE, etag=nasty_text)
    def visit(org: str, clinic: str | None, lang: str, accept: str, etag: str) -> None:
        path = "/p/" + quote(org or "trust", safe="")
        if clinic is not None:
            path += "/" + quote(clinic or "north", safe="")
        headers = {"Accept-Language": accept.encode("latin-1", "replace").decode("latin-1")}
        headers["If-None-Match"] = etag.encode("latin-1", "replace").decode("latin-1")
        answer = client.get(path, query_string={"lang": lang}, headers=headers)
        assert answer.status_code in (200, 304, 404), (path, answer.status_code)
        assert "Set-Cookie" not in answer.headers

    visit()
