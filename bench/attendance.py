"""Attendance at scale on PostgreSQL: the DNA report over 10,000,000 appointments, and
assigning experiment arms to 1,000,000 appointments.

    .venv/bin/python bench/attendance.py [--appointments 10000000] [--assign 1000000]

Creates a dedicated database (`wesaid_bench` on the server of DATABASE_URL, default the
local one), fills it with INSERT ... SELECT generate_series (40 clinics of one trust,
one patient per ten appointments, two reminders for most appointments, 30 months of
outcomes, then the appointments to assign: booked for the next quarter with reminders
pending), and drops it at the end unless --keep. Prints one JSON line per measurement:
name, n, seconds (median of --runs), and the baseline it is compared with.

- attendance_report: `attendance_report` for one clinic over all 30 months, with the
  funnel over the 40 clinics, read from the stored day counts (refresh check included).
  Baseline: the same figures grouped straight from appointments, patients and
  reminders (the cells' own statement per month, and the funnel's GROUP BY).
- attendance_report_after_late_outcomes: the same report after --late outcomes of the
  last two weeks were corrected, over every clinic (the changed days are recomputed
  first).
- attendance_cells_build: building the stored counts from nothing (done once).
- experiment_assign: `assign_experiment` end to end (select the eligible appointments,
  hash them, COPY the rows, commit). Baseline: the same rows written with executemany.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.appointments.models import Appointment, AppointmentStatus
from app.attendance import experiments
from app.attendance.cells import cell_counts
from app.attendance.models import Experiment, ExperimentAssignment
from app.attendance.periods import local_midnight, months_from, next_month
from app.attendance.service import attendance_report, refresh_counts
from app.core.clock import FixedClock
from app.experiments.rules import assign_arms
from app.experiments.spec import parse_definition
from app.extensions import db

NOW = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
FIRST, LAST = date(2024, 1, 1), date(2026, 6, 30)
CLINICS = 40
LONDON = ZoneInfo("Europe/London")
LOAD_TABLES = ("patients", "appointments", "outbound_messages")

GENERATE = [
    # Pseudo-random but repeatable: a hash of the row number, made non-negative.
    """CREATE FUNCTION pg_temp.r(seed integer, g integer) RETURNS integer
       LANGUAGE sql IMMUTABLE AS 'SELECT hashint4(seed + g) & 2147483647'""",
    """INSERT INTO organisations (id, slug, name, created_at)
       VALUES (1, 'trust', 'Trust', :now)""",
    """INSERT INTO clinics (id, organisation_id, slug, name, timezone, sender, quiet_start,
         quiet_end, default_locale, reminder_rules, expiry_margin_minutes, allowed_regions,
         survey_slug, survey_delay_minutes, survey_window_minutes, survey_interval_days,
         survey_session_hours, survey_suppressed_pathways, whatsapp_templates, created_at)
       SELECT g, 1, 'c' || g, 'Clinic ' || g, 'Europe/London',
         '+4420718' || lpad(g::text, 5, '0'), '21:00', '08:00', 'en', '[]', 120, '[]', 'fft',
         120, 1440, 30, 48, '[]', '{}', :now
       FROM generate_series(1, :clinics) g""",
    """INSERT INTO patients (id, clinic_id, external_id, phone, locale, birth_year, sex,
         ethnic_category, imd_quintile, channel_preference, created_at, updated_at)
       SELECT g, 1 + g % :clinics, 'P' || g, '+4474' || lpad(g::text, 8, '0'),
         (ARRAY['en','en','en','en','pl','ur','pa','bn','cy','ro','so','ar'])
           [1 + pg_temp.r(1, g) % 12],
         1930 + pg_temp.r(2, g) % 80,
         (ARRAY['F','M','F','M','X','U'])[1 + pg_temp.r(3, g) % 6],
         substr('ABCDEFGHJKLMNPRSZ', 1 + pg_temp.r(4, g) % 17, 1),
         1 + pg_temp.r(5, g) % 5, 'sms', :old, :old
       FROM generate_series(1, :patients) g""",
    """CREATE UNLOGGED TABLE bench_source AS
       SELECT g, 1 + pg_temp.r(11, g) % :patients AS p,
         pg_temp.r(12, g) % 1000 AS r1, pg_temp.r(13, g) % 1000 AS r2,
         CASE WHEN g <= :historic
           THEN timestamptz '2024-01-01 00:00+00'
             + (pg_temp.r(14, g) % 1313280) * interval '1 minute'
           ELSE :now + interval '1 day' + (pg_temp.r(14, g) % 129600) * interval '1 minute'
         END AS s
       FROM generate_series(1, :appointments) g""",
    """INSERT INTO appointments (id, clinic_id, patient_id, external_id, starts_at, status,
         plan_version, confirmed_at, rebook_requested_at, cancelled_at, cancel_lead_minutes,
         outcome_recorded_at, created_at, updated_at)
       SELECT g, 1 + p % :clinics, p, 'A' || g, s,
         CASE WHEN g > :historic THEN 'booked' WHEN r1 < 800 THEN 'attended'
              WHEN r1 < 890 THEN 'dna' WHEN r1 < 950 THEN 'cancelled_patient'
              WHEN r1 < 980 THEN 'cancelled_clinic' ELSE 'booked' END,
         1,
         CASE WHEN g <= :historic AND r2 < 300 THEN s - interval '2 days' END,
         CASE WHEN g <= :historic AND r2 >= 990 THEN s - interval '3 days' END,
         CASE WHEN g <= :historic AND r1 BETWEEN 890 AND 979
           THEN s - r2 * interval '10 minutes' END,
         CASE WHEN g <= :historic AND r1 BETWEEN 890 AND 949 THEN r2 * 10 END,
         CASE WHEN g <= :historic AND r1 < 890 THEN s + interval '1 hour' END,
         LEAST(s - (r2 % 90) * interval '1 day' - interval '1 hour', :now - interval '1 day'),
         LEAST(s + interval '1 day', :now - interval '1 day')
       FROM bench_source""",
    """INSERT INTO outbound_messages (clinic_id, patient_id, appointment_id, kind, rule,
         plan_version, channel, state, due_at, expires_at, attempts, created_at, updated_at)
       SELECT a.clinic_id, a.patient_id, a.id, 'reminder', r.rule, 1, 'sms',
         CASE WHEN a.id > :historic THEN 'pending'
              WHEN pg_temp.r(r.k, a.id * 2) % 100 < 80 THEN 'delivered'
              WHEN pg_temp.r(r.k, a.id * 2) % 100 < 90 THEN 'undelivered'
              ELSE 'expired' END,
         a.starts_at - r.off, a.starts_at - interval '2 hours', 0, a.created_at,
         LEAST(a.starts_at - r.off, a.created_at)
       FROM appointments a
       CROSS JOIN (VALUES ('7d', 0, interval '7 days'), ('1d', 1, interval '1 day'))
         AS r(rule, k, off)
       WHERE a.id > :historic OR pg_temp.r(99, a.id) % 100 < 85""",
    "DROP TABLE bench_source",
    "SELECT setval('appointments_id_seq', :appointments)",
    "SELECT setval('patients_id_seq', :patients)",
]


def _admin(url: str) -> Any:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _recreate(url: str) -> None:
    name = make_url(url).database
    with _admin(url).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))


def _drop(url: str) -> None:
    with _admin(url).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


def _app(url: str, clock: FixedClock) -> Any:
    return create_app(
        {
            "WESAID_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": None,
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",
            "TWILIO_ACCOUNT_SID": "AC" + "b" * 32,
            "TWILIO_AUTH_TOKEN": "bench-auth-token",
            "CLOCK": clock,
            "LOG_LEVEL": "WARNING",
        }
    )


def _secondary_indexes() -> list[tuple[str, str, str | None]]:
    """(table, index, constraint) for every non-primary index of the tables loaded."""
    rows = db.session.execute(
        text(
            """SELECT t.relname, i.relname, c.conname
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_class t ON t.oid = x.indrelid
               LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid
               WHERE t.relname = ANY(:tables) AND NOT x.indisprimary"""
        ),
        {"tables": list(LOAD_TABLES)},
    )
    return [(table, index, constraint) for table, index, constraint in rows]


def _load(appointments: int, historic: int) -> float:
    """Fill the tables with their secondary indexes dropped, then rebuild those."""
    started = time.perf_counter()
    rebuild: list[str] = []
    for table, index, constraint in _secondary_indexes():
        if constraint:
            definition = db.session.scalar(
                text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n"),
                {"n": constraint},
            )
            db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"'))
            rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {definition}')
        else:
            definition = db.session.scalar(
                text("SELECT pg_get_indexdef(oid) FROM pg_class WHERE relname = :n"), {"n": index}
            )
            db.session.execute(text(f'DROP INDEX "{index}"'))
            rebuild.append(str(definition))
    db.session.execute(text("SET session_replication_role = replica"))  # no FK triggers
    params = {
        "now": NOW,
        "old": datetime(2023, 12, 1, tzinfo=UTC),
        "patients": max(1, appointments // 10),
        "appointments": appointments,
        "historic": historic,
        "clinics": CLINICS,
    }
    for statement in GENERATE:
        db.session.execute(text(statement), params)
    db.session.execute(text("SET session_replication_role = DEFAULT"))
    db.session.execute(text("SET maintenance_work_mem = '1GB'"))
    for statement in rebuild:
        db.session.execute(text(statement))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in LOAD_TABLES:
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - started


def _median(run: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _live_report(months: list[date]) -> int:
    """The report's figures grouped straight from the base tables (the baseline)."""
    bounds = [(local_midnight(m, LONDON), local_midnight(next_month(m), LONDON)) for m in months]
    db.session.execute(text("SET LOCAL jit = off"))
    rows = db.session.execute(cell_counts(1, bounds)).all()
    funnel = db.session.execute(
        select(
            Appointment.clinic_id,
            func.count(),
            func.count().filter(Appointment.status == AppointmentStatus.DNA),
        )
        .where(
            Appointment.starts_at >= bounds[0][0],
            Appointment.starts_at < bounds[-1][1],
            Appointment.status.in_([AppointmentStatus.ATTENDED, AppointmentStatus.DNA]),
        )
        .group_by(Appointment.clinic_id)
    ).all()
    db.session.rollback()
    return len(rows) + len(funnel)


def _late_outcomes(count: int, clock: FixedClock) -> None:
    """Correct `count` outcomes of the last two weeks late, over every clinic."""
    db.session.execute(
        text(
            "UPDATE appointments SET status = 'dna', updated_at = :now WHERE id IN ("
            " SELECT id FROM appointments WHERE status = 'attended'"
            " AND starts_at >= :since AND starts_at < :until ORDER BY hashint4(id) LIMIT :n)"
        ),
        {"now": clock.now(), "since": NOW - timedelta(days=14), "until": NOW, "n": count},
    )
    db.session.commit()


def _experiment(clock: FixedClock) -> None:
    spec = parse_definition(
        {
            "slug": "bench",
            "clinics": [f"c{n}" for n in range(1, CLINICS + 1)],
            "starts_at": NOW.isoformat(),
            "baseline": 0.111,
            "min_difference": 0.027,
            "arms": [
                {"name": "A"},
                {"name": "B", "reminder": {"en": "%(clinic)s on %(date)s at %(time)s."}},
            ],
        }
    )
    experiments.create_experiment(spec, clock)


def _assign_executemany() -> int:
    """The baseline: the same assignment written with executemany instead of COPY."""
    experiment = db.session.scalar(select(Experiment))
    assert experiment is not None
    total = 0
    for clinic_id in experiment.clinic_ids:
        ids = np.fromiter(
            db.session.scalars(
                select(Appointment.id).where(
                    Appointment.clinic_id == clinic_id,
                    Appointment.status == AppointmentStatus.BOOKED,
                    Appointment.starts_at >= experiment.starts_at,
                )
            ),
            dtype=np.int64,
        )
        arms = assign_arms(experiment.seed, ids, str(clinic_id), [("A", 1), ("B", 1)])
        db.session.execute(
            insert(ExperimentAssignment),
            [
                {
                    "experiment_id": experiment.id,
                    "appointment_id": appointment_id,
                    "clinic_id": clinic_id,
                    "arm": arm,
                    "assigned_at": NOW,
                }
                for appointment_id, arm in zip(ids.tolist(), arms.tolist(), strict=True)
            ],
        )
        total += ids.size
    db.session.commit()
    return total


def _clear_assignments() -> None:
    db.session.execute(text("TRUNCATE experiment_assignments"))
    db.session.commit()


def _line(name: str, n: int, seconds: float, **extra: Any) -> None:
    print(json.dumps({"name": name, "n": n, "seconds": round(seconds, 3), **extra}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=10_000_000)
    parser.add_argument("--assign", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--late", type=int, default=1000, help="late outcomes to record")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    url = make_url(base).set(database="wesaid_bench").render_as_string(hide_password=False)
    historic = args.appointments - args.assign
    clock = FixedClock(NOW)
    _recreate(url)
    app = _app(url, clock)
    try:
        with app.app_context():
            db.create_all()
            _line("load", args.appointments, _load(args.appointments, historic))
            _run(args, clock, historic)
    finally:
        if not args.keep:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            _drop(url)


def _run(args: argparse.Namespace, clock: FixedClock, historic: int) -> None:
    months = months_from(FIRST, LAST)
    required = dict.fromkeys(range(1, CLINICS + 1), months)
    started = time.perf_counter()
    refresh_counts(required, clock)
    _line("attendance_cells_build", historic, time.perf_counter() - started)

    live, _ = _median(lambda: _live_report(months), args.runs)
    seconds, report = _median(lambda: attendance_report("c1", FIRST, LAST, clock), args.runs)
    covered = sum(point.n for point in report.funnel)
    _line(
        "attendance_report",
        historic,
        seconds,
        covered_attended_or_dna=covered,
        baseline="live GROUP BY",
        baseline_seconds=round(live, 3),
        speedup=round(live / seconds, 1),
    )
    clock.set(datetime(2026, 7, 1, 6, 0, tzinfo=UTC))
    _late_outcomes(args.late, clock)
    started = time.perf_counter()
    attendance_report("c1", FIRST, LAST, clock)
    _line(
        "attendance_report_after_late_outcomes",
        historic,
        time.perf_counter() - started,
        late_outcomes=args.late,
    )

    _experiment(clock)

    def assign() -> int:
        _clear_assignments()
        return experiments.assign_experiment("bench", clock).total

    copy_seconds, assigned = _median(assign, args.runs)
    _clear_assignments()
    many_seconds, _ = _median(_assign_executemany, 1)
    _line(
        "experiment_assign",
        assigned,
        copy_seconds,
        baseline="executemany",
        baseline_seconds=round(many_seconds, 3),
        speedup=round(many_seconds / copy_seconds, 1),
    )


if __name__ == "__main__":
    main()
