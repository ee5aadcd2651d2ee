"""The dashboard pages at scale: every staff page that reads the attendance counts, the
results snapshots or the experiments, timed through the app as a signed-in admin of an
organisation with 40 clinics and 10,000,000 appointments on PostgreSQL.

    .venv/bin/python bench/pages.py [--appointments 10000000] [--clinics 40] [--months 30]
        [--runs 5] [--only REGEX] [--keep | --reuse]

Seeds the database `wesaid_bench_pages` (on the server of DATABASE_URL, default the local
one) with `seed_scale.seed`, or with --reuse keeps the one there if it has appointments;
drops it at the end unless --keep or --reuse. The admin signs in through the real forms:
password, then a TOTP code (a fresh second factor is enrolled by the accounts service at
each run, so a reused database takes a code again).

The pages are found, not listed: the GET routes of the blueprints `staff_attendance`,
`staff_results` and `staff_experiments`, and any board report download (a `.pdf` route
or an endpoint named `board`). Those without arguments are opened first, and the links
on every page opened give the others their arguments (a clinic, a chart, a month, an
experiment), so each is timed as a reader reaches it. A route no page links to, and a
blueprint not there, is reported as skipped with the reason. The results pages are also
timed for the whole organisation (`name@organisation`).

Each page is opened once to warm it, then --runs times. One JSON line per page: name
(the endpoint), url (its pattern), path (what was opened), status, median_ms, p95_ms,
queries (SQL statements per request, counted by a SQLAlchemy event listener), bytes.
Attendance pages also carry a baseline measured in the same run: the same figures
grouped straight from the appointments (the board: attended and DNA per clinic and
month for every clinic; a clinic's chart: the same for one clinic; the breakdowns: the
cells' own statement over the months; the funnel: attended and DNA per clinic).
"""

from __future__ import annotations

import argparse
import html
import math
import os
import re
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import scale_db
import seed_scale
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from app.appointments.models import Appointment, AppointmentStatus
from app.attendance.cells import cell_counts
from app.attendance.periods import local_midnight, next_month
from app.clinics.models import Organisation
from app.core.clock import FixedClock
from app.extensions import db
from app.web.attendance import CHART_MONTHS, YEAR_MONTHS

BLUEPRINTS = ("staff_attendance", "staff_results", "staff_experiments")
#: Each page should render within this (the issue's target); measured, never asserted.
TARGET_MS = 300.0
DATABASE = "wesaid_bench_pages"
REDIS_URL = "redis://127.0.0.1:6379/2"
#: Pages also timed for the whole organisation (their links open a clinic first): the
#: query that chooses it, with the organisation's id put in.
ORGANISATION_VARIANTS = {
    "staff_results.index": "where=organisation:{id}",
    "staff_results.heard": "where=organisation:{id}",
}
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_HREF = re.compile(r'href="([^"]+)"')


class ContextClient(FlaskClient):
    """A test client whose every request has an app context of its own, as in production
    (one context shared by requests would share `g` and the database session)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


class QueryCounter:
    """Counts the SQL statements the engine sends."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


# -- signing in -----------------------------------------------------------------------------


def _post_form(client: FlaskClient, path: str, data: dict[str, str]) -> Any:
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    if found is None:
        raise RuntimeError(f"no form with a CSRF token on {path} ({page.status_code})")
    return client.post(path, data={**data, "csrf_token": found.group(1)})


def sign_in(app: Flask, clock: FixedClock) -> FlaskClient:
    """The bench admin, signed in with their password and a TOTP code."""
    with app.app_context():
        secret = seed_scale.enrol_admin(clock)
    clock.advance(timedelta(seconds=30))  # a code is good once: take the next step's
    app.test_client_class = ContextClient
    client = app.test_client()
    answer = _post_form(
        client,
        "/staff/sign-in",
        {"email": seed_scale.ADMIN_EMAIL, "password": seed_scale.ADMIN_PASSWORD},
    )
    if not answer.headers.get("Location", "").endswith("/staff/second-factor"):
        raise RuntimeError(f"sign-in refused ({answer.status_code})")
    code = pyotp.TOTP(secret).at(clock.now())
    answer = _post_form(client, "/staff/second-factor", {"code": code})
    if not answer.headers.get("Location", "").endswith("/staff/"):
        raise RuntimeError(f"second factor refused ({answer.status_code})")
    return client


# -- finding the pages ----------------------------------------------------------------------


def is_dashboard(rule: Rule) -> bool:
    """A GET route of a dashboard blueprint, or a board report download."""
    if "GET" not in (rule.methods or set()):
        return False
    blueprint = rule.endpoint.partition(".")[0]
    report = blueprint.startswith("staff_") and (
        rule.rule.endswith(".pdf") or "board" in rule.endpoint
    )
    return blueprint in BLUEPRINTS or report


def _links(body: str) -> Iterable[str]:
    for raw in _HREF.findall(body):
        link = urlsplit(html.unescape(raw))
        if not link.netloc and link.path.startswith("/staff/"):
            yield link.path + (f"?{link.query}" if link.query else "")


def discover(app: Flask, client: FlaskClient) -> tuple[dict[str, tuple[Rule, str]], list[Rule]]:
    """Each dashboard route reached (endpoint → (rule, path)), and those never reached."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules() if is_dashboard(rule)}
    adapter = app.url_map.bind("localhost")
    found: dict[str, tuple[Rule, str]] = {}
    queue = deque(sorted(rule.rule for rule in rules.values() if not rule.arguments))
    opened: set[str] = set()
    while queue:
        path = queue.popleft()
        if path in opened:
            continue
        opened.add(path)
        try:
            endpoint, _ = adapter.match(urlsplit(path).path, method="GET")
        except HTTPException:
            continue
        if endpoint not in rules or endpoint in found:
            continue
        found[endpoint] = (rules[endpoint], path)
        answer = client.get(path)
        if answer.mimetype == "text/html":
            queue.extend(_links(answer.get_data(as_text=True)))
    return found, [rule for endpoint, rule in sorted(rules.items()) if endpoint not in found]


# -- timing ---------------------------------------------------------------------------------


def p95(times: list[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(times)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure(client: FlaskClient, path: str, runs: int, counter: QueryCounter) -> dict[str, Any]:
    """Open `path` once to warm it, then `runs` times: status, timings, queries, size."""
    client.get(path)
    times, queries = [], []
    status, size = 0, 0
    for _ in range(runs):
        counter.count = 0
        started = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - started)
        queries.append(counter.count)
        status, size = answer.status_code, len(answer.get_data())
    return {
        "status": status,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(p95(times) * 1000, 1),
        "queries": int(statistics.median(queries)),
        "bytes": size,
    }


# -- the baselines --------------------------------------------------------------------------


def _bounds(months: list[date]) -> tuple[Any, Any]:
    return (
        local_midnight(months[0], seed_scale.LONDON),
        local_midnight(next_month(months[-1]), seed_scale.LONDON),
    )


def _outcomes(months: list[date], clinic_id: int | None, by_month: bool) -> int:
    """Attended and DNA per clinic (and month) straight from the appointments."""
    start, end = _bounds(months)
    month = func.date_trunc("month", func.timezone(seed_scale.LONDON.key, Appointment.starts_at))
    keys = [Appointment.clinic_id, month] if by_month else [Appointment.clinic_id]
    query = select(
        *keys,
        func.count().filter(Appointment.status == AppointmentStatus.ATTENDED),
        func.count().filter(Appointment.status == AppointmentStatus.DNA),
    ).where(
        Appointment.starts_at >= start,
        Appointment.starts_at < end,
        Appointment.status.in_([AppointmentStatus.ATTENDED, AppointmentStatus.DNA]),
    )
    if clinic_id is not None:
        query = query.where(Appointment.clinic_id == clinic_id)
    return len(db.session.execute(query.group_by(*keys)).all())


def _cells(months: list[date], clinic_id: int) -> int:
    bounds = [
        (local_midnight(m, seed_scale.LONDON), local_midnight(next_month(m), seed_scale.LONDON))
        for m in months
    ]
    return len(db.session.execute(cell_counts(clinic_id, bounds)).all())


Baseline = tuple[str, Callable[[], int]]


def baseline_for(endpoint: str, values: Mapping[str, Any], now: datetime) -> Baseline | None:
    """The raw GROUP BY that gives an attendance page's figures, named; None for others."""
    blueprint, _, name = endpoint.partition(".")
    if blueprint != "staff_attendance":
        return None
    clinic_id = values.get("clinic_id")
    chart_months = seed_scale.last_months(CHART_MONTHS, now)
    year = seed_scale.last_months(YEAR_MONTHS, now)
    if name in ("index", "board_csv"):
        return "outcomes by clinic and month", lambda: _outcomes(chart_months, None, True)
    if clinic_id is not None and (name == "clinic" or values.get("chart") == "dna"):
        return "outcomes by month, one clinic", lambda: _outcomes(chart_months, clinic_id, True)
    if clinic_id is not None and name.startswith(("breakdowns", "download")):
        return "the cells' statement by month, one clinic", lambda: _cells(year, clinic_id)
    if name.startswith("funnel"):
        return "outcomes by clinic", lambda: _outcomes(year, None, False)
    return None


def time_baseline(app: Flask, run: Callable[[], int], runs: int) -> float:
    times = []
    with app.app_context():
        for _ in range(runs):
            db.session.execute(text("SET LOCAL jit = off"))
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
            db.session.rollback()
    return statistics.median(times) * 1000


# -- the run --------------------------------------------------------------------------------


def run_pages(
    app: Flask, clock: FixedClock, runs: int, appointments: int, only: re.Pattern[str]
) -> None:
    """Sign in, find the pages, time those whose name `only` matches, print their lines."""
    client = sign_in(app, clock)
    with app.app_context():
        counter = QueryCounter(db.engine)
    present = {rule.endpoint.partition(".")[0] for rule in app.url_map.iter_rules()}
    for blueprint in BLUEPRINTS:
        if blueprint not in present:
            seed_scale.line(blueprint, 0, 0.0, skipped="blueprint not registered")
    found, unreached = discover(app, client)
    with app.app_context():
        organisation_id = db.session.scalar(
            select(Organisation.id).where(Organisation.slug == seed_scale.ORGANISATION)
        )
    for endpoint, query in ORGANISATION_VARIANTS.items():
        if endpoint in found:
            rule, path = found[endpoint]
            variant = f"{urlsplit(path).path}?{query.format(id=organisation_id)}"
            found[f"{endpoint}@organisation"] = (rule, variant)
    for rule in unreached:
        seed_scale.line(rule.endpoint, 0, 0.0, url=rule.rule, skipped="no page links to it")
    adapter = app.url_map.bind("localhost")
    slow: list[str] = []
    baselines: dict[str, float] = {}
    for endpoint, (rule, path) in sorted(found.items()):
        if not only.search(endpoint):
            continue
        figures = measure(client, path, runs, counter)
        extra: dict[str, Any] = {}
        _, values = adapter.match(urlsplit(path).path, method="GET")
        baseline = baseline_for(endpoint, values, clock.now())
        if baseline is not None:
            name, grouped = baseline
            key = f"{name}:{values.get('clinic_id')}"
            if key not in baselines:
                baselines[key] = time_baseline(app, grouped, runs)
            extra = {
                "baseline": name,
                "baseline_ms": round(baselines[key], 1),
                "speedup": round(baselines[key] / figures["median_ms"], 1),
            }
        if figures["median_ms"] > TARGET_MS or figures["status"] != 200:
            slow.append(endpoint)
        print_page(endpoint, rule, path, appointments, figures | extra)
    seed_scale.line(
        "pages",
        len(found),
        0.0,
        target_ms=TARGET_MS,
        over_or_failed=slow,
        load_average=[round(value, 1) for value in os.getloadavg()],
    )


def print_page(endpoint: str, rule: Rule, path: str, n: int, figures: dict[str, Any]) -> None:
    seconds = figures["median_ms"] / 1000
    seed_scale.line(endpoint, n, seconds, url=rule.rule, path=path, **figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=scale_db.default_url(DATABASE))
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--appointments", type=int, default=10_000_000)
    parser.add_argument("--clinics", type=int, default=40)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="time only pages whose name matches")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument("--keep", action="store_true", help="keep the database afterwards")
    keep.add_argument("--reuse", action="store_true", help="use (and keep) a seeded database")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    clock = FixedClock(seed_scale.NOW)
    url = args.database_url
    appointments = 0
    if args.reuse and scale_db.database_exists(url):
        with scale_db.scale_app(url, clock).app_context():
            appointments = seed_scale.appointment_count()
            db.engine.dispose()
    if appointments:
        seed_scale.line("seed_reused", appointments, 0.0)
    else:
        appointments = seed_scale.seed(
            url, args.appointments, args.clinics, args.months, clock=clock
        ).appointments
    app = scale_db.scale_app(url, clock, args.redis_url)
    try:
        run_pages(app, clock, args.runs, appointments, re.compile(args.only))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not (args.keep or args.reuse):
            scale_db.drop_database(url)


if __name__ == "__main__":
    main()
