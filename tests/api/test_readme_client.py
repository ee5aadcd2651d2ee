"""The README's Python client, run as written against the app served over HTTP."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, make_server

from app.appointments.models import Appointment
from app.clinics.tokens import create_token
from app.core.clock import FixedClock
from app.extensions import db
from app.patients.models import Patient
from tests.world import World

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _client_example() -> str:
    section = README.read_text(encoding="utf-8").split("## The JSON API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the API section has no Python example"
    return match.group(1)


def test_the_readme_client_imports_and_reads(
    served: str, world: World, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    north = world.clinic("north")
    token = create_token(label="pas", clinic_id=north.id, clock=clock).secret
    code = _client_example()
    code = code.replace("https://wesaid.example.org", served).replace("ws_...", token)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})  # noqa: S102
    assert capsys.readouterr().out.startswith("booked {'confirmed_at': None")
    counted = [
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Patient, Appointment)
    ]
    assert counted == [1, 1]
