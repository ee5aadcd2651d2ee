"""Attendance at scale on PostgreSQL: the DNA report over 10,000,000 appointments, and
assigning experiment arms to 1,000,000 appointments.

    .venv/bin/python bench/attendance.py [--appointments 10000000] [--assign 1000000]

Creates a dedicated database (`wesaid_bench` on the server of DATABASE_URL, default the
local one) with `seed_scale.seed` (40 clinics of one trust, one patient per ten
appointments, two reminders for most appointments, 30 months of outcomes and their
stored day counts, then the appointments to assign: booked for the next quarter with
reminders pending), and drops it at the end unless --keep. Prints one JSON line per
seeding step (`seed_attendance_counts` is building the stored counts from nothing) and
per measurement: name, n, seconds (median of --runs), and the baseline it is compared
with.

- attendance_report: `attendance_report` for one clinic over all 30 months, with the
  funnel over the 40 clinics, read from the stored day counts (refresh check included).
  Baseline: the same figures grouped straight from appointments, patients and
  reminders (the cells' own statement per month, and the funnel's GROUP BY).
- attendance_report_after_late_outcomes: the same report after --late outcomes of the
  last two weeks were corrected, over every clinic (the changed days are recomputed
  first).
- experiment_assign: `assign_experiment` end to end (select the eligible appointments,
  hash them, COPY the rows, commit). Baseline: the same rows written with executemany.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import scale_db
import seed_scale
from seed_scale import LONDON, NOW
from sqlalchemy import func, insert, select, text

from app.appointments.models import Appointment, AppointmentStatus
from app.attendance.cells import cell_counts
from app.attendance.periods import local_midnight, next_month
from app.attendance.service import attendance_report
from app.core.clock import FixedClock
from app.experiments.assigning import assign_experiment
from app.experiments.models import Experiment, ExperimentAssignment
from app.experiments.rules import assign_arms
from app.experiments.service import create_experiment
from app.experiments.spec import parse_definition
from app.extensions import db

CLINICS = 40
MONTHS = 30


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
    create_experiment(spec, clock)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=10_000_000)
    parser.add_argument("--assign", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--late", type=int, default=1000, help="late outcomes to record")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = scale_db.default_url("wesaid_bench")
    clock = FixedClock(NOW)
    seeded = seed_scale.seed(
        url,
        args.appointments,
        CLINICS,
        MONTHS,
        future=args.assign,
        experiment=False,
        surveys=False,
        admin=False,
        clock=clock,
    )
    app = scale_db.scale_app(url, clock)
    try:
        with app.app_context():
            _run(args, clock, seeded.historic, seeded.months)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not args.keep:
            scale_db.drop_database(url)


def _run(args: argparse.Namespace, clock: FixedClock, historic: int, months: list[date]) -> None:
    first, last = months[0], months[-1]
    live, _ = _median(lambda: _live_report(months), args.runs)
    seconds, report = _median(lambda: attendance_report("c1", first, last, clock), args.runs)
    covered = sum(point.n for point in report.funnel)
    seed_scale.line(
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
    attendance_report("c1", first, last, clock)
    seed_scale.line(
        "attendance_report_after_late_outcomes",
        historic,
        time.perf_counter() - started,
        late_outcomes=args.late,
    )

    _experiment(clock)

    def assign() -> int:
        _clear_assignments()
        return assign_experiment("bench", clock).total

    copy_seconds, assigned = _median(assign, args.runs)
    _clear_assignments()
    many_seconds, _ = _median(_assign_executemany, 1)
    seed_scale.line(
        "experiment_assign",
        assigned,
        copy_seconds,
        baseline="executemany",
        baseline_seconds=round(many_seconds, 3),
        speedup=round(many_seconds / copy_seconds, 1),
    )


if __name__ == "__main__":
    main()
