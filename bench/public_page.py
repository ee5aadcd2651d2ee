"""The public "you said, we did" page under load: p50 and p99 at 200 requests a second,
open loop, against gunicorn as the Procfile runs it.

A clinic with six surveyed months (its and its organisation's snapshots computed by the
results service) and an entry is written to a database of its own (a SQLite file in a
temporary folder unless `--database` names one: it is emptied first). gunicorn serves
`app:create_app()` with `--gunicorn-workers` workers. Requests go out on a fixed
schedule whatever the answers (open loop: a slow answer does not slow the next
request), spread over the clinic's page in English, Arabic and Bengali and the
organisation's page; each latency counts from when its request was due, so queueing is
in the figure. Two runs: with the page cache (the default, 300 s) and with none
(`WESAID_PUBLIC_PAGE_TTL_SECONDS=0`: every request renders from the snapshots).

    .venv/bin/python bench/public_page.py [--rate 200] [--seconds 20] [--gunicorn-workers 2]

Prints one JSON line per run: name, rate, requests, errors, p50_ms, p99_ms, max_ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import create_app
from app.audit.service import SYSTEM
from app.clinics.service import create_clinic
from app.core.channels import Channel
from app.core.clock import FixedClock
from app.extensions import db
from app.patients.models import Patient
from app.results import service as results
from app.results.models import SurveyInvitation, SurveyResponse
from app.surveys.models import SessionState, SurveySession
from app.surveys.service import register_definition
from app.yousaid.models import EntryStatus
from app.yousaid.service import EntryInput, create_entry

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"
PATHS = ("/p/trust/north?lang=en", "/p/trust/north?lang=ar", "/p/trust/north?lang=bn", "/p/trust")
MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")
SURVEY = {
    "slug": "fft",
    "title": "After your visit",
    "questions": [
        {
            "id": "fft",
            "type": "single_choice",
            "text": "Overall, how was your experience of our service?",
            "options": [
                {"key": key, "label": key}
                for key in ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
            ],
        },
        {"id": "comment", "type": "free_text", "text": "Anything else?", "optional": True},
    ],
}
FFT = ("very_good", "good", "good", "neither", "poor", "very_good", "dont_know")
AGES = ("16-24", "25-39", "40-54", "55-64", "65-74", "75+")
ETHNIC = ("white", "asian", "black", "mixed", "other", "white", "white")
LANGUAGES = ("en", "en", "en", "bn", "ar", "pl", "ur")
CHANNELS = (Channel.SMS, Channel.SMS, Channel.WEB, Channel.VOICE, Channel.WHATSAPP)


def seed(database: str, invited: int) -> None:
    """The clinic, its months and an entry, written through the app's own services."""
    clock = FixedClock(datetime(2026, 7, 1, 9, tzinfo=UTC))
    app = create_app({"WESAID_ENV": "development", "SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        db.drop_all()
        db.create_all()
        clinic = create_clinic(
            "north",
            name="North Clinic",
            timezone="Europe/London",
            sender="+441134960000",
            clock=clock,
            org_slug="trust",
        )
        version = register_definition(SURVEY, clinic.id, clock.now() - timedelta(days=200))
        patient = Patient(
            clinic_id=clinic.id,
            external_id="BENCH",
            phone="+447400100200",
            locale="en",
            channel_preference="sms",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        db.session.add(patient)
        db.session.flush()
        for period in MONTHS:
            _month(clinic.id, clinic.organisation_id, patient.id, version.id, period, invited)
            db.session.commit()
            later = datetime.strptime(period, "%Y-%m").replace(day=28, tzinfo=UTC)
            results.compute_snapshot("fft", "clinic", clinic.id, period, later)
            results.compute_snapshot("fft", "organisation", clinic.organisation_id, period, later)
        given = EntryInput(
            "Waiting times for a first appointment were too long.",
            "We added an evening clinic on Tuesdays and Thursdays.",
            EntryStatus.IN_PROGRESS,
        )
        create_entry(clinic.organisation_id, clinic.id, given, SYSTEM, clock.now())


def _month(
    clinic_id: int, organisation_id: int, patient_id: int, version_id: int, period: str, count: int
) -> None:
    at = datetime.strptime(period, "%Y-%m").replace(day=10, hour=12, tzinfo=UTC)
    for index in range(count):
        answers = index % 5 in (0, 2, 3)
        session = SurveySession(
            clinic_id=clinic_id,
            patient_id=patient_id,
            survey_version_id=version_id,
            channel=CHANNELS[index % len(CHANNELS)],
            locale=LANGUAGES[index % len(LANGUAGES)],
            state=SessionState.COMPLETED if answers else SessionState.EXPIRED,
            current_question=None,
            opened_at=at,
            expires_at=at + timedelta(hours=48),
            last_activity_at=at,
        )
        db.session.add(session)
        db.session.flush()
        invitation = SurveyInvitation(
            session_id=session.id,
            survey_version_id=version_id,
            survey_slug="fft",
            organisation_id=organisation_id,
            clinic_id=clinic_id,
            pathway=None,
            period=period,
            respondent_key=f"bench-{session.id}",
            age_band=AGES[index % len(AGES)],
            sex="FM"[index % 2],
            ethnic=ETHNIC[index % len(ETHNIC)],
            imd=str(1 + index % 5),
            language=session.locale,
            channel=session.channel,
            invited_at=at,
            responded=answers,
        )
        db.session.add(invitation)
        db.session.flush()
        if answers:
            fft = FFT[index % len(FFT)]
            db.session.add(
                SurveyResponse(
                    invitation_id=invitation.id,
                    respondent_key=invitation.respondent_key,
                    survey_version_id=version_id,
                    answers={"fft": {"status": "answered", "value": fft, "language": "en"}},
                    fft=fft,
                    language=session.locale,
                    channel=session.channel,
                    responded_at=at,
                    updated_at=at,
                )
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(database: str, port: int, workers: int, ttl: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WESAID_ENV": "development",
        "DATABASE_URL": database,
        "SECRET_KEY": "bench-" + "k" * 40,
        "WESAID_PUBLIC_PAGE_TTL_SECONDS": str(ttl),
        "WESAID_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            os.devnull,
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _get(port, PATHS[0]) == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


_local = threading.local()


def _get(port: int, path: str) -> int:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = _local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    except (OSError, http.client.HTTPException):
        connection.close()
        _local.connection = None
        raise


def load(port: int, rate: float, seconds: float) -> dict[str, float | int]:
    """Requests at `rate` a second for `seconds`, open loop; latencies from when due."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = time.perf_counter() + 0.5

    def one(index: int) -> None:
        nonlocal errors
        due = start + index / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        try:
            status = _get(port, PATHS[index % len(PATHS)])
        except OSError:
            status = 0
        elapsed = time.perf_counter() - due
        with lock:
            latencies.append(elapsed * 1000)
            errors += status != 200

    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(one, range(total)))
    ordered = sorted(latencies)
    return {
        "requests": total,
        "errors": errors,
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--invited", type=int, default=600, help="patients asked a month")
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = args.database or f"sqlite:///{folder}/bench.sqlite3"
        seed(database, args.invited)
        for name, ttl in (("public_page_cached", 300.0), ("public_page_uncached", 0.0)):
            port = _free_port()
            server = serve(database, port, args.gunicorn_workers, ttl)
            try:
                for path in PATHS:  # each worker fills its cache on first use
                    _get(port, path)
                figures = load(port, args.rate, args.seconds)
            finally:
                server.terminate()
                server.wait(timeout=10)
            line = {
                "name": name,
                "rate": args.rate,
                "seconds": args.seconds,
                "gunicorn_workers": args.gunicorn_workers,
                **figures,
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
