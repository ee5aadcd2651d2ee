"""An organisation at scale on PostgreSQL, for the benchmarks: one trust with N clinics
and millions of appointments, built in minutes with set-based SQL.

    .venv/bin/python bench/seed_scale.py --database-url URL [--appointments 10000000]
        [--clinics 40] [--months 30] [--future 0] [--survey-share 0.1] [--cohort 0]

(Re)creates the database of URL and prints one JSON line per step: name, n, seconds.
Other benchmarks call `seed(url, appointments=..., clinics=...)`, which returns what it
made (`Seeded`). Every figure is repeatable: rows are drawn from a hash of their number.

- seed_tables: the organisation `trust`, its clinics `c1`..`cN`, one patient per ten
  appointments (birth year, sex, ethnic category, deprivation quintile, language), and
  the appointments spread over the months to the end of June 2026: 80% attended, 9% DNA,
  6% cancelled by the patient, 3% by the clinic, the rest still booked; 30% confirmed,
  1% asked to rebook; two reminders (7 days and 1 day before) for 85% of them, mostly
  delivered: each sent one with its times, the provider's sid and, for the months
  texts are kept by default (`RETAINED` on), its text. `future` more appointments are
  booked for the next quarter with their reminders pending. Written with INSERT ...
  SELECT generate_series, with the secondary indexes dropped and rebuilt after.
- seed_attendance_counts: the stored day counts of every clinic and month, built by
  `app.attendance` itself (`refresh_counts`).
- seed_experiment: a reminder-wording experiment over every clinic, running for the last
  `experiment_months`, created by the experiments service; its appointments' arms come
  from `assign_arms` with the experiment's seed (as the service assigns them) and are
  written with COPY (with the arms' totals); then one look is recorded by the service,
  and the arm cells the experiment pages read are built (`arm_cells_seconds`).
- seed_surveys: the built-in Friends and Family Test, and a `survey_share` of the attended
  appointments of the last 12 months invited (sessions, invitations with the weighting
  categories of `app.results.categories`, responses). Older and less deprived patients
  answer more often and more kindly, so weighting moves the figures.
- seed_cohort (only with `cohort`): the first `cohort` patients (at most all of them)
  invited to the same survey in the month before those 12, without appointments, and
  answering at the same rates: one month whose organisation snapshot weighs a cohort of
  that size (`Seeded.cohort_period`). No snapshot is made of it here.
- seed_snapshots: results snapshots by `app.results.service.compute_snapshot` for each
  clinic and the organisation, for each of those 12 months.
- seed_admin: a staff admin of the trust with a password and a second factor, made by the
  accounts service (`ADMIN_EMAIL`, `ADMIN_PASSWORD`; the TOTP secret is returned).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyotp
import seed_sql
from scale_db import analyze, default_url, drop_indexes, recreate_database, scale_app
from sqlalchemy import func, insert, select, text

from app.appointments.models import Appointment
from app.attendance.periods import local_midnight, months_from, next_month
from app.attendance.service import refresh_counts, refresh_experiment_counts
from app.audit.service import SYSTEM
from app.clinics import accounts, second_factor
from app.clinics.models import Clinic, StaffUser
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.core.errors import Invalid
from app.experiments.models import Experiment, ExperimentArm
from app.experiments.rules import assign_arms
from app.experiments.service import create_experiment, record_decision
from app.experiments.spec import parse_definition
from app.extensions import db
from app.privacy.rules import DEFAULT_RETENTION_MONTHS
from app.results.models import SurveyInvitation
from app.results.service import compute_snapshot
from app.surveys.service import current_version

#: The instant the organisation is seen from: data runs to the end of June 2026.
NOW = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
ORGANISATION = "trust"
ADMIN_EMAIL = "bench-admin@example.nhs.uk"
ADMIN_PASSWORD = "bench admin pass phrase 2026"
#: Months of survey results (and of snapshots) before NOW.
SURVEY_MONTHS = 12
#: Texts of sent messages are kept from here on (the default retention before NOW).
RETAINED = NOW.replace(
    year=NOW.year - (DEFAULT_RETENTION_MONTHS + 12 - NOW.month) // 12,
    month=(NOW.month - 1 - DEFAULT_RETENTION_MONTHS) % 12 + 1,
)
#: Tables loaded with their secondary indexes dropped, then rebuilt.
LOAD_TABLES = ("patients", "appointments", "outbound_messages")


@dataclass
class Seeded:
    """What `seed` made, and how long each step took (seconds by step name)."""

    url: str
    clinics: int
    patients: int
    appointments: int
    #: Appointments in the months, with outcomes (the rest are booked after NOW).
    historic: int
    months: list[date]
    experiment_id: int | None = None
    assignments: int = 0
    invitations: int = 0
    responses: int = 0
    snapshots: int = 0
    #: The month ("YYYY-MM") of the `cohort` invitations, and how many there are.
    cohort_period: str | None = None
    cohort_invitations: int = 0
    #: Snapshots the results service refused or failed on, by the error's type.
    snapshot_failures: dict[str, int] = field(default_factory=dict)
    admin_totp_secret: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    #: What a step's timing line says beside name, n and seconds.
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)


def line(name: str, n: int, seconds: float, **extra: Any) -> None:
    """Print one measurement as a JSON line."""
    print(json.dumps({"name": name, "n": n, "seconds": round(seconds, 3), **extra}), flush=True)


def last_months(count: int, end: datetime = NOW) -> list[date]:
    """The `count` whole months before `end` (a first of the month), oldest first."""
    last = (end - timedelta(days=1)).date().replace(day=1)
    first = last
    for _ in range(count - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return months_from(first, last)


def _timed(seeded: Seeded, name: str, step: Callable[[], int]) -> None:
    started = time.perf_counter()
    n = step()
    seconds = time.perf_counter() - started
    seeded.seconds[name] = seconds
    line(name, n, seconds, **seeded.notes.get(name, {}))


# -- the tables -------------------------------------------------------------------------------


def load_tables(seeded: Seeded, future: int) -> int:
    """Organisation, clinics, patients, appointments and reminders; returns the
    appointments written."""
    rebuild = drop_indexes(LOAD_TABLES)
    db.session.execute(text("SET session_replication_role = replica"))  # no FK triggers
    start = local_midnight(seeded.months[0], LONDON)
    params = {
        "now": NOW,
        "start": start,
        "span": int((NOW - start).total_seconds() // 60),
        "old": start - timedelta(days=31),
        "patients": seeded.patients,
        "appointments": seeded.appointments,
        "historic": seeded.appointments - future,
        "clinics": seeded.clinics,
        "retained": RETAINED,
    }
    for statement in seed_sql.TABLES:
        db.session.execute(text(statement), params)
    db.session.execute(text("SET session_replication_role = DEFAULT"))
    db.session.execute(text("SET maintenance_work_mem = '1GB'"))
    for statement in rebuild:
        db.session.execute(text(statement))
    db.session.commit()
    analyze(*LOAD_TABLES)
    return seeded.appointments


def build_counts(seeded: Seeded, clock: FixedClock) -> int:
    """Every clinic's stored day counts over the months, by the attendance service;
    returns the appointments counted."""
    clinic_ids = db.session.scalars(select(Clinic.id)).all()
    refreshed = refresh_counts(dict.fromkeys(clinic_ids, seeded.months), clock)
    analyze("attendance_cells")
    seeded.notes["seed_attendance_counts"] = {"clinic_months": refreshed.months_built}
    return seeded.historic


# -- the experiment -------------------------------------------------------------------------


def _experiment_rows(starts_at: datetime) -> Iterator[tuple[int, np.ndarray]]:
    """(clinic id, ids) of the appointments from `starts_at` that had a reminder planned."""
    rows = db.session.execute(text(seed_sql.EXPERIMENT_APPOINTMENTS), {"since": starts_at})
    for clinic_id, ids in rows:
        yield int(clinic_id), np.asarray(ids, dtype=np.int64)


def _copy_assignments(experiment: Experiment, clock: FixedClock) -> int:
    arms = [(str(arm["name"]), int(arm["weight"])) for arm in experiment.arms]
    stamp = clock.now().isoformat()
    buffer = io.StringIO()
    written = 0
    by_arm: Counter[str] = Counter()
    for clinic_id, ids in _experiment_rows(experiment.starts_at):
        chosen = assign_arms(experiment.seed, ids, str(clinic_id), arms)
        by_arm.update(chosen.tolist())
        for appointment_id, arm in zip(ids.tolist(), chosen.tolist(), strict=True):
            buffer.write(f"{experiment.id}\t{appointment_id}\t{clinic_id}\t{arm}\t{stamp}\n")
        written += ids.size
    driver: Any = db.session.connection().connection.driver_connection
    columns = "experiment_id, appointment_id, clinic_id, arm, assigned_at"
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY experiment_assignments ({columns}) FROM STDIN") as copy,
    ):
        copy.write(buffer.getvalue())
    # The arms' totals, as the service's assigner keeps them.
    db.session.execute(
        insert(ExperimentArm),
        [{"experiment_id": experiment.id, "arm": a, "assigned": n} for a, n in by_arm.items()],
    )
    db.session.commit()
    return written


def seed_experiment(seeded: Seeded, clock: FixedClock, months: int) -> int:
    """A wording experiment over every clinic for the last `months`: created and given
    one look by the service, its arms as the service draws them. Returns assignments."""
    starts_at = local_midnight(seeded.months[-min(months, len(seeded.months))], LONDON)
    expected = db.session.scalar(text(seed_sql.EXPERIMENT_OUTCOMES), {"since": starts_at}) or 0
    clinics = db.session.scalars(select(Clinic.slug).order_by(Clinic.id)).all()
    spec = parse_definition(
        {
            "slug": "cost-wording",
            "title": "Stating the cost of a missed appointment",
            "clinics": list(clinics),
            "starts_at": starts_at.isoformat(),
            "baseline": 0.111,
            "min_difference": 0.027,
            # Planned so that the look below comes halfway.
            "planned_n_per_arm": max(100, int(expected)),
            "looks": 3,
            "arms": [
                {"name": "A"},
                {
                    "name": "B",
                    "reminder": {
                        "en": "%(clinic)s on %(date)s at %(time)s. A missed appointment "
                        "costs the NHS about 160 pounds: reply 2 if you cannot come."
                    },
                },
            ],
        }
    )
    experiment = create_experiment(spec, clock)
    seeded.experiment_id = experiment.id
    seeded.assignments = _copy_assignments(experiment, clock)
    analyze("experiment_assignments")
    _, decision = record_decision(experiment.slug, clock)
    started = time.perf_counter()
    refresh_experiment_counts(clock)  # the arm cells, built once as a first page would
    analyze("attendance_arm_cells")
    seeded.notes["seed_experiment"] = {
        "planned_n_per_arm": experiment.planned_n_per_arm,
        "decision": decision.decision.value,
        "arm_cells_seconds": round(time.perf_counter() - started, 3),
    }
    return seeded.assignments


# -- surveys and results ----------------------------------------------------------------------


def seed_surveys(seeded: Seeded, clock: FixedClock, share: float) -> int:
    """Invite a share of the attended appointments of the survey months; returns the
    invitations written."""
    clinic = db.session.scalars(select(Clinic).order_by(Clinic.id)).first()
    assert clinic is not None
    version = current_version(clinic, "fft", clock.now())
    assert version is not None
    db.session.commit()
    survey_months = seeded.months[-SURVEY_MONTHS:]
    params = {
        "version": version.id,
        "since": local_midnight(survey_months[0], LONDON),
        "until": NOW,
        "share": round(share * 10_000),
        **seed_sql.category_params(),
    }
    for statement in seed_sql.SURVEYS:
        db.session.execute(text(statement), params)
    db.session.commit()
    analyze("survey_sessions", "survey_invitations", "survey_responses")
    seeded.invitations = db.session.scalar(text("SELECT count(*) FROM survey_invitations")) or 0
    seeded.responses = db.session.scalar(text("SELECT count(*) FROM survey_responses")) or 0
    seeded.notes["seed_surveys"] = {"responses": seeded.responses}
    return seeded.invitations


def seed_cohort(seeded: Seeded, clock: FixedClock, cohort: int) -> int:
    """Invite the first `cohort` patients in the month before the survey months;
    returns the invitations written."""
    clinic = db.session.scalars(select(Clinic).order_by(Clinic.id)).first()
    assert clinic is not None
    version = current_version(clinic, "fft", clock.now())
    assert version is not None
    db.session.commit()
    month = seeded.months[-SURVEY_MONTHS - 1]
    since = local_midnight(month, LONDON)
    span = local_midnight(next_month(month), LONDON) - since
    params = {
        "version": version.id,
        "since": since,
        "span": int(span.total_seconds() // 60),
        "cohort": cohort,
        **seed_sql.category_params(),
    }
    before = db.session.scalar(text("SELECT count(*) FROM survey_responses")) or 0
    for statement in seed_sql.COHORT:
        db.session.execute(text(statement), params)
    db.session.commit()
    analyze("survey_sessions", "survey_invitations", "survey_responses")
    seeded.cohort_period = month.strftime("%Y-%m")
    seeded.cohort_invitations = (
        db.session.scalar(
            select(func.count())
            .select_from(SurveyInvitation)
            .where(SurveyInvitation.period == seeded.cohort_period)
        )
        or 0
    )
    responses = (db.session.scalar(text("SELECT count(*) FROM survey_responses")) or 0) - before
    seeded.notes["seed_cohort"] = {"period": seeded.cohort_period, "responses": responses}
    return seeded.cohort_invitations


def seed_snapshots(seeded: Seeded, clock: FixedClock) -> int:
    """A snapshot for each clinic and the organisation, for each survey month."""
    clinic_ids = db.session.scalars(select(Clinic.id).order_by(Clinic.id)).all()
    organisation_id = db.session.scalar(select(Clinic.organisation_id).limit(1))
    assert organisation_id is not None
    places = [("clinic", clinic_id) for clinic_id in clinic_ids]
    places.append(("organisation", organisation_id))
    written = 0
    failures: dict[str, int] = {}
    for month in seeded.months[-SURVEY_MONTHS:]:
        period = month.strftime("%Y-%m")
        for scope, scope_id in places:
            try:
                compute_snapshot("fft", scope, scope_id, period, clock.now())
            except (Invalid, ArithmeticError) as error:
                # Counted, not hidden: a place the service cannot weigh has no snapshot.
                db.session.rollback()
                kind = type(error).__name__
                failures[kind] = failures.get(kind, 0) + 1
                continue
            written += 1
    analyze("result_snapshots")
    seeded.snapshots, seeded.snapshot_failures = written, failures
    seeded.notes["seed_snapshots"] = {"places": len(places), "failed": failures}
    return written


def seed_admin(seeded: Seeded, clock: FixedClock) -> int:
    """The staff admin of the trust, with a password and an enrolled second factor."""
    invitation = accounts.invite(ADMIN_EMAIL, ORGANISATION, Role.ADMIN, [], clock, SYSTEM)
    accounts.set_password(invitation.secret, ADMIN_PASSWORD, clock, SYSTEM)
    seeded.admin_totp_secret = enrol_admin(clock)
    return 1


def enrol_admin(clock: FixedClock) -> str:
    """Give the admin a fresh second factor now (by the accounts service); returns its
    secret. Codes from the next time step on are then accepted."""
    user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == ADMIN_EMAIL))
    assert user_id is not None, "no bench admin: seed the database first"
    secret = second_factor.new_totp_secret()
    code = pyotp.TOTP(secret).at(clock.now())
    second_factor.enrol_second_factor(user_id, secret, code, clock, SYSTEM)
    return secret


# -- all of it --------------------------------------------------------------------------------


def seed(
    url: str,
    appointments: int = 10_000_000,
    clinics: int = 40,
    months: int = 30,
    *,
    future: int = 0,
    survey_share: float = 0.1,
    cohort: int = 0,
    experiment_months: int = 3,
    counts: bool = True,
    experiment: bool = True,
    surveys: bool = True,
    admin: bool = True,
    clock: FixedClock | None = None,
) -> Seeded:
    """(Re)create the database of `url` and fill it; each step prints its timing line.

    `future` of the `appointments` are booked after NOW (none of them has an outcome);
    `counts`, `experiment`, `surveys` (with the snapshots) and `admin` can be left out;
    `cohort` patients are invited in the month before the survey months (0: none).
    """
    if appointments < 1 or clinics < 1 or months < 1 or not 0 <= future < appointments:
        raise ValueError(
            "appointments, clinics and months must be positive; 0 <= future < appointments"
        )
    if cohort and not (cohort <= max(1, appointments // 10) and months > SURVEY_MONTHS):
        raise ValueError(
            f"a cohort needs more than {SURVEY_MONTHS} months and at most one invitation "
            "per patient (appointments / 10)"
        )
    clock = clock or FixedClock(NOW)
    seeded = Seeded(
        url=url,
        clinics=clinics,
        patients=max(1, appointments // 10),
        appointments=appointments,
        historic=appointments - future,
        months=last_months(months),
    )
    steps: list[tuple[str, bool, Callable[[], int]]] = [
        ("seed_tables", True, lambda: load_tables(seeded, future)),
        ("seed_attendance_counts", counts, lambda: build_counts(seeded, clock)),
        ("seed_experiment", experiment, lambda: seed_experiment(seeded, clock, experiment_months)),
        ("seed_surveys", surveys, lambda: seed_surveys(seeded, clock, survey_share)),
        ("seed_snapshots", surveys, lambda: seed_snapshots(seeded, clock)),
        ("seed_cohort", cohort > 0, lambda: seed_cohort(seeded, clock, cohort)),
        ("seed_admin", admin, lambda: seed_admin(seeded, clock)),
    ]
    recreate_database(url)
    app = scale_app(url, clock)
    with app.app_context():
        try:
            db.create_all()
            for name, wanted, step in steps:
                if wanted:
                    _timed(seeded, name, step)
        finally:
            db.session.remove()
            db.engine.dispose()
    return seeded


def appointment_count() -> int:
    """Appointments in the database of the current app (for a reused database)."""
    return int(db.session.scalar(select(func.count()).select_from(Appointment)) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=default_url("wesaid_scale"))
    parser.add_argument("--appointments", type=int, default=10_000_000)
    parser.add_argument("--clinics", type=int, default=40)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--future", type=int, default=0, help="appointments booked after NOW")
    parser.add_argument("--survey-share", type=float, default=0.1)
    parser.add_argument("--cohort", type=int, default=0, help="patients invited in one month")
    args = parser.parse_args()
    started = time.perf_counter()
    seeded = seed(
        args.database_url,
        args.appointments,
        args.clinics,
        args.months,
        future=args.future,
        survey_share=args.survey_share,
        cohort=args.cohort,
    )
    line("seed", seeded.appointments, time.perf_counter() - started, clinics=seeded.clinics)


if __name__ == "__main__":
    main()
