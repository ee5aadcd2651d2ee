"""Commands on reminder-wording experiments: create (running, or as a draft to start
later), start, assign arms, analyse, decide, stop, and record downloads.

Which appointments an experiment takes, and their arms, is `app.experiments.assigning`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditAction
from app.audit.service import Actor, record
from app.clinics.models import Clinic
from app.core.clock import Clock
from app.core.errors import Invalid, NotFound
from app.experiments.analysis import ExperimentAnalysis, analyse
from app.experiments.assigning import (
    Assigned,
    assign_eligible,
    lock_experiment,
    running_experiment,
)
from app.experiments.models import (
    Experiment,
    ExperimentDecision,
    ExperimentStatus,
)
from app.experiments.queries import (
    arm_counts,
    find_experiment,
    get_experiment,
    recorded_looks,
    running_experiments,
)
from app.experiments.rules import Decision
from app.experiments.spec import ExperimentSpec
from app.extensions import db

_ENDED = {Decision.STOP: ExperimentStatus.STOPPED, Decision.SHIP: ExperimentStatus.SHIPPED}
#: What a stop by staff records as its first reason, and the longest reason they may give.
STOPPED_BY_STAFF = "stopped by staff before the analysis called for it"
MAX_REASON = 500


def create_experiment(
    spec: ExperimentSpec, clock: Clock, *, start: bool = True, actor: Actor | None = None
) -> Experiment:
    """Store a checked definition as a running experiment, or (`start` False) as a draft
    that `start_experiment` starts later; commits. With an `actor`, the creation is
    recorded in the audit log (MANAGE_EXPERIMENT).

    Refuses (Invalid) a taken slug, unknown clinics, clinics of different organisations,
    and (when starting) a clinic already in another running experiment (its reminders
    could only carry one wording).
    """
    if find_experiment(spec.slug) is not None:
        raise Invalid(f"slug: an experiment {spec.slug!r} already exists")
    clinics = _clinics(spec.clinic_slugs)
    if len({clinic.organisation_id for clinic in clinics}) > 1:
        raise Invalid("clinics: all must belong to one organisation")
    if start:
        _check_free([clinic.id for clinic in clinics])
    now = clock.now()
    experiment = Experiment(
        organisation_id=clinics[0].organisation_id,
        slug=spec.slug,
        title=spec.title,
        clinic_ids=[clinic.id for clinic in clinics],
        seed=spec.seed,
        arms=[{"name": a.name, "weight": a.weight, "reminder": a.reminder} for a in spec.arms],
        primary_outcome="dna",
        planned_n_per_arm=spec.planned_n_per_arm,
        alpha=spec.alpha,
        power=spec.power,
        baseline=spec.baseline,
        min_difference=spec.min_difference,
        looks=spec.looks,
        status=ExperimentStatus.RUNNING if start else ExperimentStatus.DRAFT,
        starts_at=spec.starts_at,
        created_at=now,
        updated_at=now,
    )
    db.session.add(experiment)
    try:
        db.session.flush()
    except IntegrityError:  # the same slug, created at the same moment
        db.session.rollback()
        raise Invalid(f"slug: an experiment {spec.slug!r} already exists") from None
    if actor is not None:
        _audit(experiment, "created", clock, actor)
    db.session.commit()
    return experiment


def _check_free(clinic_ids: Sequence[int]) -> None:
    """Invalid if one of the clinics is in a running experiment."""
    busy = {clinic_id: e.slug for e in running_experiments() for clinic_id in e.clinic_ids}
    for index, clinic_id in enumerate(clinic_ids):
        if clinic_id in busy:
            raise Invalid(
                f"clinics[{index}]: {_slug_of(clinic_id)} is in the running experiment "
                f"{busy[clinic_id]}"
            )


def _slug_of(clinic_id: int) -> str:
    return str(db.session.scalar(select(Clinic.slug).where(Clinic.id == clinic_id)))


def _audit(experiment: Experiment, what: str, clock: Clock, actor: Actor, **counts: int) -> None:
    record(
        AuditAction.MANAGE_EXPERIMENT,
        actor,
        clock.now(),
        record_type="experiment",
        record_ids=[experiment.id],
        clinic_id=experiment.clinic_ids[0] if len(experiment.clinic_ids) == 1 else None,
        organisation_id=experiment.organisation_id,
        detail={"what": what, **counts},
    )


def record_export(
    experiment_ids: Sequence[int],
    what: str,
    file_format: str,
    rows: int,
    clock: Clock,
    actor: Actor,
) -> None:
    """Record in the audit log (EXPORT) that a table or chart of these experiments was
    downloaded: which one, in which format, how many rows. Commits."""
    experiments = list(
        db.session.scalars(select(Experiment).where(Experiment.id.in_(sorted(experiment_ids))))
    )
    organisations = {experiment.organisation_id for experiment in experiments}
    clinics = {clinic_id for experiment in experiments for clinic_id in experiment.clinic_ids}
    record(
        AuditAction.EXPORT,
        actor,
        clock.now(),
        record_type="experiment",
        record_ids=sorted(experiment.id for experiment in experiments),
        clinic_id=clinics.pop() if len(clinics) == 1 else None,
        organisation_id=organisations.pop() if len(organisations) == 1 else None,
        detail={"what": f"experiment_{what}", "format": file_format, "rows": rows},
    )
    db.session.commit()


def _clinics(slugs: Sequence[str]) -> list[Clinic]:
    found = {c.slug: c for c in db.session.scalars(select(Clinic).where(Clinic.slug.in_(slugs)))}
    for index, slug in enumerate(slugs):
        if slug not in found:
            raise Invalid(f"clinics[{index}]: no clinic with slug {slug!r}")
    return [found[slug] for slug in slugs]


def analyze_experiment(slug: str) -> ExperimentAnalysis:
    """The analysis of the experiment as things stand; NotFound for an unknown slug."""
    experiment = get_experiment(slug)
    return analyse(
        experiment.slug,
        arm_counts(experiment),
        experiment.planned_n_per_arm,
        recorded_looks(experiment.id),
        alpha=experiment.alpha,
    )


def record_decision(
    slug: str, clock: Clock, actor: Actor | None = None
) -> tuple[ExperimentAnalysis, ExperimentDecision]:
    """Analyse and store the decision with its reasons and numbers; commits. With an
    `actor`, the look is recorded in the audit log (MANAGE_EXPERIMENT).

    "stop" and "ship" end the experiment: no more assignments, and reminders go back to
    the usual wording (a shipped wording is then made the clinic's own). Refuses
    (Invalid) an experiment that has ended or has no outcome in some arm yet.
    """
    experiment = running_experiment(slug)
    analysis = analyze_experiment(slug)
    if analysis.decision is None:
        raise Invalid(f"nothing to decide yet: {'; '.join(analysis.reasons)}")
    now = clock.now()
    decision = ExperimentDecision(
        experiment_id=experiment.id,
        decision=analysis.decision,
        reasons=analysis.reasons,
        analysis=analysis.to_json(),
        n_per_arm=analysis.n_per_arm,
        information_fraction=analysis.information_fraction,
        decided_at=now,
    )
    db.session.add(decision)
    if analysis.decision in _ENDED:
        experiment.status = _ENDED[analysis.decision]
        experiment.updated_at = now
    if actor is not None:
        db.session.flush()
        _audit(experiment, "decided", clock, actor, decision=decision.id)
    db.session.commit()
    return analysis, decision


def _by_id(experiment_id: int) -> Experiment:
    """The experiment's row, locked; NotFound if there is none."""
    found = db.session.get(Experiment, experiment_id)
    if found is None:
        raise NotFound(f"no experiment with id {experiment_id}")
    return lock_experiment(found)


def start_experiment(experiment_id: int, clock: Clock, actor: Actor) -> Assigned:
    """Start a draft: appointments starting from now on are eligible, and those already
    booked with a reminder still to send are assigned at once (later ones as they are
    booked). Recorded in the audit log (MANAGE_EXPERIMENT, with the number assigned);
    commits. NotFound for an unknown experiment; Invalid for one that is not a draft,
    or whose clinic is in another running experiment."""
    experiment = _by_id(experiment_id)
    if experiment.status is not ExperimentStatus.DRAFT:
        raise Invalid(f"experiment {experiment.slug} has already started")
    _check_free(experiment.clinic_ids)
    now = clock.now()
    experiment.status = ExperimentStatus.RUNNING
    experiment.starts_at = now
    experiment.updated_at = now
    db.session.flush()
    assigned = assign_eligible(experiment, now)
    _audit(experiment, "started", clock, actor, assigned=assigned.total)
    db.session.commit()
    return assigned


def stop_experiment(
    experiment_id: int, reason: str, clock: Clock, actor: Actor
) -> ExperimentDecision:
    """Stop a running experiment now, whatever the analysis says: reminders go back to
    the usual wording. The analysis as it stands is recorded as a "stop" decision with
    the staff member's reason; recorded in the audit log (MANAGE_EXPERIMENT); commits.
    NotFound for an unknown experiment; Invalid for one that is not running or a reason
    that is empty or longer than 500 characters."""
    text = " ".join(reason.split())
    if not text or len(text) > MAX_REASON:
        raise Invalid(f"reason: must be text of 1 to {MAX_REASON} characters")
    experiment = _by_id(experiment_id)
    if experiment.status is not ExperimentStatus.RUNNING:
        raise Invalid(f"experiment {experiment.slug} is not running")
    analysis = analyze_experiment(experiment.slug)
    now = clock.now()
    decision = ExperimentDecision(
        experiment_id=experiment.id,
        decision=Decision.STOP,
        reasons=[STOPPED_BY_STAFF, text, *analysis.reasons],
        analysis=analysis.to_json(),
        n_per_arm=analysis.n_per_arm,
        information_fraction=analysis.information_fraction,
        decided_at=now,
    )
    db.session.add(decision)
    experiment.status = ExperimentStatus.STOPPED
    experiment.updated_at = now
    db.session.flush()
    _audit(experiment, "stopped", clock, actor, decision=decision.id)
    db.session.commit()
    return decision
