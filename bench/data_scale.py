"""Data at scale on PostgreSQL: the clock's sweep with a million reminders pending, a
results snapshot of a million invitations, the DNA reports, and the size of every large
table and its indexes.

    .venv/bin/python bench/data_scale.py [--appointments 10000000] [--pending 1000000]
        [--cohort 1000000] [--runs 5] [--snapshot-runs 3] [--explain] [--keep | --reuse]
        [--only reports|snapshot|sweep|tables ...]

Seeds the database `wesaid_scale` (on the server of DATABASE_URL, default the local one)
with `seed_scale.seed`: 40 clinics, 30 months, of the appointments `--pending` / 2
booked for the next quarter with their two reminders pending, and `--cohort` patients
invited to the Friends and Family Test in one month. With --reuse a database already
there with appointments is used as it is. It is dropped at the end unless --keep or
--reuse. Jobs go to the Redis of --redis-url; its send queue is emptied at the end.

One JSON line per figure: name, n, seconds (the median of --runs, after one run to warm
up), load (the machine's load average over the last minute: the reference machine is
shared), and what else the figure needs:

- sweep_idle: one `sweep` at the instant before the first pending reminder falls due:
  nothing to expire or claim, `pending` rows due later (n). The statements' plans show
  whether it finds nothing by an index or by reading every pending row.
- sweep_expiry: its first statement alone, `expire_overdue`; sweep_expiry_in_batches:
  the same expiry as bounded statements, the 1,000 that expire first at a time
  (`scale_sweep.EXPIRE_IN_BATCHES`), rolled back.
- sweep_batch: what a sweep does per batch when reminders are due (at the seed's NOW,
  when a week's 7-day reminders are): `claim_due_messages` of 1,000 and their jobs
  queued in Redis, each run the next 1,000; then they are put back to pending (as the
  seed left them).
- sweep_due: one whole sweep at NOW, claiming every due reminder in batches of 1,000
  (n: claimed); then they are put back.
- snapshot: `compute_snapshot` of the organisation in the cohort's month (n: invitations),
  each run in a fresh process: seconds; the CPU seconds it took, in this process
  (client_cpu) and in its database server process (server_cpu, when the server runs on
  this machine; parallel workers not counted): on a shared machine they say what the
  wall time would be on an idle one; peak_rss_mib (the process's maximum resident set,
  from getrusage) and base_rss_mib (the same before the snapshot: the app loaded).
- attendance_report (clinic c1 over every month, with the organisation's funnel counts),
  dna_board (every clinic, 24 months), clinic_attendance (c1, 24 months) and dna_funnel
  (every clinic, 12 months): the services the DNA pages call, refresh check included.
- table: one line per table of more than 1 MiB: rows (the planner's estimate), table_mib,
  toast_mib, indexes_mib, total_mib and each index's MiB.

With --explain, one `plan` line per distinct statement (but INSERTs) of the sweeps, the
snapshot and the reports: of (the figure), ms, statement and plan (its lines), from
EXPLAIN (ANALYZE, BUFFERS) with the parameters it ran with, rolled back.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import scale_db
import seed_scale
from flask import Flask
from plans import Recorder, print_plans
from scale_sweep import figure, measure_sweep, median_seconds
from seed_scale import NOW, SURVEY_MONTHS, line
from sqlalchemy import func, select, text

from app.attendance.service import attendance_report, clinic_attendance, dna_board, dna_funnel
from app.clinics.models import Clinic, Organisation
from app.core.clock import FixedClock
from app.extensions import db
from app.queueing import JobQueue, QueueName, connect
from app.results.models import SurveyInvitation
from app.results.service import compute_snapshot

DATABASE = "wesaid_scale"
REDIS_URL = "redis://127.0.0.1:6379/3"
MONTHS = 30
MIB = 1024 * 1024
#: What is measured, in order (--only chooses).
PARTS = ("reports", "snapshot", "sweep", "tables")
#: The clinic whose reports are timed.
CLINIC = "c1"


# -- the snapshot ---------------------------------------------------------------------------


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds the database server process `pid` has used (None unless it runs on
    this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _snapshot_child(url: str, period: str, answer: Connection) -> None:
    """In a fresh process: one organisation snapshot of `period`; sends its figures."""
    app = scale_db.scale_app(url, FixedClock(NOW))
    with app.app_context():
        organisation_id = db.session.scalar(select(Organisation.id).limit(1))
        pid = int(db.session.scalar(text("SELECT pg_backend_pid()")) or 0)
        assert organisation_id is not None
        db.session.commit()
        base = _rss_mib()
        server = _backend_cpu(pid)
        client = time.process_time()
        started = time.perf_counter()
        snapshot = compute_snapshot("fft", "organisation", organisation_id, period, NOW)
        seconds = time.perf_counter() - started
        client = time.process_time() - client
        assert snapshot is not None
        # The session kept its one connection (a single-threaded process makes one).
        same = db.session.scalar(text("SELECT pg_backend_pid()")) == pid
        after = _backend_cpu(pid)
        diagnostics = snapshot.diagnostics
        answer.send(
            {
                "seconds": seconds,
                "client_cpu": client,
                "server_cpu": after - server if same and after and server is not None else None,
                "base_rss_mib": round(base, 1),
                "peak_rss_mib": round(_rss_mib(), 1),
                "invited": diagnostics["invited"],
                "responses": diagnostics["responses"],
            }
        )
        db.session.remove()
        db.engine.dispose()


def _snapshot_in_child(url: str, period: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_snapshot_child, args=(url, period, sending))
    child.start()
    sending.close()
    figures: dict[str, Any] = receiving.recv()
    child.join()
    return figures


def measure_snapshot(url: str, runs: int, plans: bool) -> None:
    period = seed_scale.last_months(MONTHS)[-SURVEY_MONTHS - 1].strftime("%Y-%m")
    invited = db.session.scalar(select(func.count()).where(SurveyInvitation.period == period))
    db.session.commit()
    if not invited:
        figure("snapshot_skipped", 0, 0.0, reason=f"no invitations in {period}: seed --cohort")
        return
    found = [_snapshot_in_child(url, period) for _ in range(runs)]
    server = [f["server_cpu"] for f in found if f["server_cpu"] is not None]
    figure(
        "snapshot",
        found[-1]["invited"],
        statistics.median(f["seconds"] for f in found),
        client_cpu=round(statistics.median(f["client_cpu"] for f in found), 3),
        server_cpu=round(statistics.median(server), 3) if server else None,
        period=period,
        responses=found[-1]["responses"],
        peak_rss_mib=max(f["peak_rss_mib"] for f in found),
        base_rss_mib=min(f["base_rss_mib"] for f in found),
        runs=runs,
    )
    if plans:
        organisation_id = db.session.scalar(select(Organisation.id).limit(1))
        assert organisation_id is not None
        with Recorder(db.engine) as recorded:
            compute_snapshot("fft", "organisation", organisation_id, period, NOW)
        print_plans(db.engine, "snapshot", recorded.statements)


# -- the DNA reports ------------------------------------------------------------------------


def measure_reports(clock: FixedClock, runs: int, plans: bool) -> None:
    months = seed_scale.last_months(MONTHS)
    clinics = db.session.execute(select(Clinic.id, Clinic.slug).order_by(Clinic.id)).all()
    ids = [clinic_id for clinic_id, _ in clinics]
    first_id = next(clinic_id for clinic_id, slug in clinics if slug == CLINIC)
    db.session.commit()
    last = months[-1]
    # name: (months, clinics, the call)
    reports: dict[str, tuple[int, int, Callable[[], Any]]] = {
        "attendance_report": (
            len(months),
            1,
            lambda: attendance_report(CLINIC, months[0], last, clock),
        ),
        "dna_board": (24, len(ids), lambda: dna_board(ids, months[-24], last, clock)),
        "clinic_attendance": (
            24,
            1,
            lambda: clinic_attendance(first_id, months[-24], last, clock),
        ),
        "dna_funnel": (12, len(ids), lambda: dna_funnel(ids, months[-12], last, clock)),
    }
    for name, (count, clinic_count, report) in reports.items():
        seconds = median_seconds(report, runs)
        figure(name, count, seconds, unit="months", clinics=clinic_count)
        if plans:
            with Recorder(db.engine) as recorded:
                report()
            print_plans(db.engine, name, recorded.statements)


# -- sizes ----------------------------------------------------------------------------------


def measure_sizes() -> None:
    tables = db.session.execute(
        text(
            """SELECT c.oid, c.relname, c.reltuples::bigint, pg_relation_size(c.oid),
                 pg_indexes_size(c.oid), pg_total_relation_size(c.oid)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind = 'r' AND n.nspname = 'public'
                 AND pg_total_relation_size(c.oid) > :floor
               ORDER BY pg_total_relation_size(c.oid) DESC"""
        ),
        {"floor": MIB},
    ).all()
    for oid, name, rows, table, indexes, total in tables:
        each = db.session.execute(
            text(
                """SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x
                   JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = :oid
                   ORDER BY pg_relation_size(i.oid) DESC"""
            ),
            {"oid": oid},
        ).all()
        figure(
            "table",
            int(rows),
            0.0,
            table=name,
            table_mib=round(table / MIB, 1),
            toast_mib=round((total - table - indexes) / MIB, 1),
            indexes_mib=round(indexes / MIB, 1),
            total_mib=round(total / MIB, 1),
            index_mib={index: round(size / MIB, 1) for index, size in each},
        )
    db.session.commit()


# -- all of it ------------------------------------------------------------------------------


def run(app: Flask, url: str, args: argparse.Namespace) -> None:
    clock = FixedClock(NOW)
    with app.app_context():
        queue = JobQueue(connect(args.redis_url))
        parts: dict[str, Callable[[], None]] = {
            "reports": lambda: measure_reports(clock, args.runs, args.explain),
            "snapshot": lambda: measure_snapshot(url, args.snapshot_runs, args.explain),
            "sweep": lambda: measure_sweep(queue, args.runs, args.explain),
            "tables": measure_sizes,
        }
        try:
            for name, measure in parts.items():
                if not args.only or name in args.only:
                    measure()
        finally:
            queue.queue(QueueName.SEND).empty()
            db.session.remove()
            db.engine.dispose()


def _seeded_appointments(url: str) -> int:
    if not scale_db.database_exists(url):
        return 0
    with scale_db.scale_app(url, FixedClock(NOW)).app_context():
        found = seed_scale.appointment_count()
        db.engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=scale_db.default_url(DATABASE))
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--appointments", type=int, default=10_000_000)
    parser.add_argument("--pending", type=int, default=1_000_000, help="reminders pending")
    parser.add_argument("--cohort", type=int, default=1_000_000, help="invitations in a month")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--snapshot-runs", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print the statements' plans")
    parser.add_argument("--only", action="append", choices=PARTS, help="measure only these")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument("--keep", action="store_true", help="keep the database afterwards")
    keep.add_argument("--reuse", action="store_true", help="use (and keep) a seeded database")
    args = parser.parse_args()
    if args.runs < 1 or args.snapshot_runs < 1:
        parser.error("--runs and --snapshot-runs must be at least 1")
    url = args.database_url
    appointments = _seeded_appointments(url) if args.reuse else 0
    if appointments:
        line("seed_reused", appointments, 0.0)
    else:
        started = time.perf_counter()
        seeded = seed_scale.seed(
            url, args.appointments, months=MONTHS, future=args.pending // 2, cohort=args.cohort
        )
        line("seed", seeded.appointments, time.perf_counter() - started)
    app = scale_db.scale_app(url, FixedClock(NOW), args.redis_url)
    try:
        run(app, url, args)
    finally:
        if not (args.keep or args.reuse):
            scale_db.drop_database(url)


if __name__ == "__main__":
    main()
