"""Runs with the same seed give the same answers, whatever order threads happen to run in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.messaging.channels.twilio_common import TwilioSettings, build_client
from app.simulator import web_visitor
from app.simulator.population import Behaviour, Persona, generate_population
from app.simulator.process import PopulationAgent
from app.simulator.server import TwilioSimulator
from app.simulator.web_visitor import WebVisitor
from tests.simulator.conftest import Receiver

ACCOUNT_SID = "AC" + "8" * 32
AUTH_TOKEN = "repeatable-sim-token"
CLINIC = "+442071838750"
SEED = 31
MENUS = (
    "North Clinic: your appointment is on Monday 2 March at 10:00. Reply 1 to confirm, "
    "2 to cancel or 3 to ask for a new time.",
    "North Clinic: your appointment is on Friday 6 March at 14:30. Reply 1 to confirm, "
    "2 to cancel or 3 to ask for a new time.",
)


@pytest.fixture(scope="module")
def personas() -> list[Persona]:
    return [p for p in generate_population(60, SEED) if p.channel == "sms"][:40]


def _run(personas: list[Persona], order: list[Persona]) -> dict[str, list[tuple[str, ...]]]:
    """Send both menus to everyone (patients in `order`, menus in turn), deliver on four
    threads, and return what the app would have seen, patient by patient."""
    receiver = Receiver()
    sim = TwilioSimulator(
        ACCOUNT_SID,
        AUTH_TOKEN,
        inbound_url=receiver.base_url + "/inbound",
        seed=SEED,
        responder=PopulationAgent(Behaviour(personas, SEED), SEED),
        delivery_threads=4,
        deliver_on_flush=True,
    )
    sim.start()
    try:
        client = build_client(TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, api_base=sim.base_url))
        for body in MENUS:
            for persona in order:
                client.messages.create(
                    to=persona.phone,
                    from_=CLINIC,
                    body=body,
                    status_callback=f"{receiver.base_url}/status?body={MENUS.index(body)}",
                )
        assert receiver.captured == []  # nothing is delivered until the flush
        assert sim.flush(timeout=30)
    finally:
        sim.stop()
        receiver.close()
    seen: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for hook in receiver.captured:
        if "MessageStatus" in hook.form:
            menu = urlsplit(hook.url).query
            seen[hook.form["To"]].append(("status", menu, hook.form["MessageStatus"]))
        else:
            seen[hook.form["From"]].append(("inbound", hook.form["Body"]))
    return dict(seen)


def test_webhooks_reach_the_app_in_the_same_order_per_patient_on_every_run(
    personas: list[Persona],
) -> None:
    first = _run(personas, personas)
    again = _run(personas, list(reversed(personas)))
    assert first == again
    replies = [hook for hooks in first.values() for hook in hooks if hook[0] == "inbound"]
    assert len(replies) > len(personas) // 2
    statuses = ["queued", "sent", "delivered"] * len(MENUS)
    assert all(
        sorted(h[2] for h in hooks if h[0] == "status") == sorted(statuses)
        for hooks in first.values()
    )


def test_a_patient_answers_each_text_alike_whatever_came_before(personas: list[Persona]) -> None:
    ahead, behind = Behaviour(personas, SEED), Behaviour(personas, SEED)
    for persona in personas:
        forward = [ahead.reply_to(persona.phone, body) for body in MENUS]
        backward = [behind.reply_to(persona.phone, body) for body in reversed(MENUS)][::-1]
        if "STOP" not in forward + backward:
            assert forward == backward


class _Browser:
    """Stands in for requests.Session: the form page and its submission."""

    def __enter__(self) -> _Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def get(self, url: str, timeout: float) -> Any:
        return _Page(200, '<input type="hidden" name="token" value="t">')

    def post(self, url: str, data: dict[str, str], timeout: float) -> Any:
        return _Page(200, "")


class _Page:
    def __init__(self, status_code: int, text: str) -> None:
        self.status_code = status_code
        self.text = text


def test_web_visits_do_not_depend_on_other_patients_visits(
    personas: list[Persona], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_visitor.requests, "Session", _Browser)
    behaviour = Behaviour(personas, SEED)
    link = "http://127.0.0.1:5000/s/token"
    ahead, behind = WebVisitor(behaviour, SEED), WebVisitor(behaviour, SEED)
    forward = {p.phone: [ahead.visit(p.phone, link) for _ in range(2)] for p in personas}
    backward = {p.phone: [behind.visit(p.phone, link) for _ in range(2)] for p in personas[::-1]}
    assert forward == backward
    submitted = [visited for pair in forward.values() for visited in pair]
    assert 0 < sum(submitted) < len(submitted)
    assert ahead.visits == behind.visits == len(submitted)
    assert ahead.submitted == sum(submitted)


def _demo(tmp_path: Path, name: str) -> dict[str, Any]:
    workdir = tmp_path / name
    workdir.mkdir()
    out = workdir / "demo.json"
    command = "from app.cli import main; main()"
    args = ["demo", "--patients", "40", "--seed", "3", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", command, *args],
        cwd=workdir,
        # As `make demo` does: the group builds an app to find the command.
        env={**os.environ, "WESAID_ENV": "development"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(out.read_text())
    summary.pop("elapsed_s")
    return summary


@pytest.mark.slow
def test_the_demo_gives_the_same_summary_for_the_same_seed(tmp_path: Path) -> None:
    first, second = _demo(tmp_path, "first"), _demo(tmp_path, "second")
    assert first == second
    assert first["replies"] > 0
    assert first["survey_responses"] > 0
