"""Least privilege inside the clinic: an analyst reaches no name, phone number or message
text on any page, and an experience lead no phone number or name, however they navigate.

Every workspace page (every GET route of `app.url_map` under /staff, with arguments
naming rows of the clinic) is opened by an analyst and an experience lead of the
clinic's own organisation; whatever opens is searched for the seeded patients' names,
numbers and message text.
"""

from __future__ import annotations

import pytest
from flask import Flask

from app.clinics.roles import Role
from app.core.clock import FixedClock
from tests.web.routes import SECRET_BODY, methods, readable, rules, seed, url_for_rule
from tests.web.staff import StaffDesk
from tests.world import World

NAMES = ("Zebedee", "Quartermain")
PHONES = ("+447400999111", "07400 999111", "07400999111", "7400 999111")

#: What each role must never be shown.
NEVER = {
    Role.ANALYST: (*NAMES, *PHONES, SECRET_BODY),
    Role.EXPERIENCE_LEAD: (*NAMES, *PHONES),
}


@pytest.mark.parametrize("role", list(NEVER))
def test_no_page_shows_what_the_role_may_not_see(
    app: Flask, desk: StaffDesk, world: World, clock: FixedClock, role: Role
) -> None:
    north = seed(world, clock)
    client = app.test_client()
    desk.sign_in(client, desk.member(role, org="trust"))
    opened, failures = 0, []
    for rule in rules(app):
        if not rule.rule.startswith("/staff") or "GET" not in methods(rule):
            continue
        url = url_for_rule(app, rule, north)
        answer = client.get(url)
        assert answer.status_code < 500, f"{url}: {answer.status_code}"
        if answer.status_code != 200:
            continue
        opened += 1
        body = readable(answer)
        shown = [secret for secret in NEVER[role] if secret in body]
        if shown:
            failures.append(f"{url} shows {shown}")
    assert failures == []
    assert opened >= 2  # the home page and at least one page of their own
