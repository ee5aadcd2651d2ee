"""The "you said, we did" entry form with hostile values: saved (302) or shown again with
its problems (422) and nothing saved; never a 500."""

from __future__ import annotations

from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.clinics.roles import Role
from app.extensions import db
from app.yousaid.models import YouSaidEntry
from tests.properties.values import nasty_text
from tests.web.conftest import RequestPerContextClient
from tests.web.staff import StaffDesk, csrf_token
from tests.world import World

FIELD = st.one_of(nasty_text, st.text(min_size=990, max_size=1010))


def test_hostile_entries_are_saved_whole_or_refused(
    app: Flask, world: World, desk: StaffDesk
) -> None:
    app.test_client_class = RequestPerContextClient
    client = app.test_client()
    clinic = world.clinic("north")
    desk.sign_in(client, desk.member(Role.EXPERIENCE_LEAD, ["north"]))
    token = csrf_token(client, "/staff/you-said/new")

    @given(
        place=st.one_of(st.just(f"clinic:{clinic.id}"), nasty_text),
        said=FIELD,
        did=FIELD,
        status=st.one_of(st.sampled_from(["planned", "done"]), nasty_text),
        started=nasty_text,
        themes=st.one_of(st.just(""), nasty_text),
    )
    def post(place: str, said: str, did: str, status: str, started: str, themes: str) -> None:
        before = db.session.scalar(select(func.count(YouSaidEntry.id)))
        form = {"place": place, "said": said, "did": did, "status": status}
        form |= {"started_on": started, "themes": themes, "csrf_token": token}
        answer = client.post("/staff/you-said/new", data=form)
        assert answer.status_code in (302, 404, 422), answer.status_code
        after = db.session.scalar(select(func.count(YouSaidEntry.id)))
        assert after == before + (answer.status_code == 302)

    post()
