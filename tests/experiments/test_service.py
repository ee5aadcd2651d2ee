"""Experiments: creation rules, deterministic assignment of eligible appointments, the
wording a reminder gets, and analyses with recorded decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.appointments.fhir_imports import import_fhir_bundle
from app.appointments.models import Appointment
from app.appointments.models import AppointmentStatus as S
from app.audit.models import AuditAction, AuditEvent
from app.audit.service import Actor
from app.clinics.models import Clinic
from app.core.clock import FixedClock
from app.core.errors import Invalid, NotFound
from app.experiments.assigning import assign_experiment
from app.experiments.models import ExperimentAssignment, ExperimentStatus
from app.experiments.queries import get_experiment
from app.experiments.rules import assign_arm
from app.experiments.service import (
    STOPPED_BY_STAFF,
    analyze_experiment,
    create_experiment,
    record_decision,
    record_export,
    start_experiment,
    stop_experiment,
)
from app.experiments.spec import parse_definition
from app.experiments.stats import compare_proportions
from app.experiments.wording import find_reminder_variant, reminder_wording
from app.extensions import db
from app.messaging.models import OutboundMessage
from app.messaging.states import MessageState as M
from app.patients.models import Patient
from tests.experiments.test_spec import COST_EN, raw
from tests.world import World

COST_PL = (
    "%(clinic)s: wizyta %(date)s o %(time)s. Nieodwolana wizyta kosztuje NHS 160 funtow. "
    "Odpowiedz 1, aby potwierdzic."
)
SOON = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def _definition(**changes: Any) -> dict[str, Any]:
    arms = [{"name": "A"}, {"name": "B", "reminder": {"en": COST_EN, "pl": COST_PL}}]
    return raw(**{"clinics": ["north", "south"], "arms": arms, **changes})


@pytest.fixture
def scene(world: World) -> dict[str, Clinic]:
    return {
        "north": world.clinic("north"),
        "south": world.clinic("south"),
        "west": world.clinic("west", "other"),
    }


def _patients(world: World, clinic: Clinic, count: int) -> list[Patient]:
    return [world.patient(clinic, f"{clinic.slug}-{n}") for n in range(count)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clinics": ["north", "east"]}, r"clinics\[1\]: no clinic with slug 'east'"),
        ({"clinics": ["north", "west"]}, "clinics: all must belong to one organisation"),
    ],
)
def test_an_experiment_needs_known_clinics_of_one_organisation(
    scene: dict[str, Clinic], clock: FixedClock, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(Invalid, match=message):
        create_experiment(parse_definition(_definition(**changes)), clock)


def test_a_clinic_is_in_one_running_experiment_at_a_time(
    scene: dict[str, Clinic], clock: FixedClock
) -> None:
    create_experiment(parse_definition(_definition()), clock)
    with pytest.raises(Invalid, match="already exists"):
        create_experiment(parse_definition(_definition()), clock)
    with pytest.raises(Invalid, match=r"clinics\[0\]: south is in the running experiment"):
        create_experiment(parse_definition(_definition(slug="other", clinics=["south"])), clock)


@pytest.mark.storage
def test_eligible_appointments_are_assigned_deterministically_once(
    backend: str, scene: dict[str, Clinic], world: World, clock: FixedClock
) -> None:
    north, south, west = scene["north"], scene["south"], scene["west"]
    eligible = [
        world.add(p, SOON + timedelta(hours=n), S.BOOKED, reminders=[M.PENDING])
        for n, p in enumerate(_patients(world, north, 6) + _patients(world, south, 6))
    ]
    [pn, ps], [pw] = (
        _patients(world, north, 2)[:1] + _patients(world, south, 1),
        _patients(world, west, 1),
    )
    world.add(pn, SOON, S.CANCELLED_PATIENT, reminders=[M.CANCELLED])  # not booked
    world.add(pn, SOON, S.BOOKED, reminders=[M.DELIVERED])  # nothing left to send
    world.add(ps, datetime(2026, 2, 27, 10, 0, tzinfo=UTC), S.BOOKED, reminders=[M.PENDING])
    world.add(pw, SOON, S.BOOKED, reminders=[M.PENDING])  # clinic not in scope
    create_experiment(parse_definition(_definition()), clock)

    assigned = assign_experiment("cost-2026", clock)
    rows = db.session.execute(
        select(
            ExperimentAssignment.appointment_id,
            ExperimentAssignment.clinic_id,
            ExperimentAssignment.arm,
        )
    ).all()
    assert sorted(appointment_id for appointment_id, _, _ in rows) == [a.id for a in eligible]
    for appointment_id, clinic_id, arm in rows:
        assert arm == assign_arm("cost-2026", appointment_id, str(clinic_id), [("A", 1), ("B", 1)])
    assert assigned.total == 12
    assert assign_experiment("cost-2026", clock).total == 0


def test_bookings_imported_later_join_the_running_experiment(
    scene: dict[str, Clinic], world: World, clock: FixedClock
) -> None:
    world.patient(scene["north"], "pat-1")
    create_experiment(parse_definition(_definition()), clock)
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "Appointment",
                    "id": "fhir-1",
                    "status": "booked",
                    "start": "2026-03-12T10:00:00Z",
                    "participant": [{"actor": {"reference": "Patient/pat-1"}}],
                }
            }
        ],
    }
    import_fhir_bundle(scene["north"].id, bundle, source="b", strict=True, clock=clock)
    appointment = world.appointment(scene["north"], "fhir-1")
    arm = db.session.scalar(
        select(ExperimentAssignment.arm).where(
            ExperimentAssignment.appointment_id == appointment.id
        )
    )
    assert arm == assign_arm(
        "cost-2026", appointment.id, str(scene["north"].id), [("A", 1), ("B", 1)]
    )


def _assigned_by_arm(
    world: World, clinic: Clinic, count: int, clock: FixedClock
) -> dict[str, list[int]]:
    for n, patient in enumerate(_patients(world, clinic, count)):
        world.add(patient, SOON + timedelta(minutes=n), S.BOOKED, reminders=[M.PENDING])
    assign_experiment("cost-2026", clock)
    arms: dict[str, list[int]] = {"A": [], "B": []}
    for appointment_id, arm in db.session.execute(
        select(ExperimentAssignment.appointment_id, ExperimentAssignment.arm).order_by(
            ExperimentAssignment.appointment_id
        )
    ):
        arms[arm].append(appointment_id)
    return arms


@pytest.mark.parametrize(
    ("chain", "expected"),
    [(("pl", "en"), ("B", "pl")), (("so", "en"), ("B", "en")), (("so",), None)],
)
def test_the_reminder_wording_follows_the_arm_and_the_locale_chain(
    scene: dict[str, Clinic],
    world: World,
    clock: FixedClock,
    chain: tuple[str, ...],
    expected: tuple[str, str] | None,
) -> None:
    create_experiment(parse_definition(_definition()), clock)
    arms = _assigned_by_arm(world, scene["north"], 8, clock)
    assert arms["A"]
    assert arms["B"]
    variant = find_reminder_variant(arms["B"][0], chain)
    assert (None if variant is None else (variant.arm, variant.locale)) == expected
    assert reminder_wording(arms["A"][0], chain) is None  # the control keeps the usual text
    if expected is not None:
        assert reminder_wording(arms["B"][0], chain) == (
            COST_PL if expected[1] == "pl" else COST_EN,
            expected[1],
        )


def _settle(ids: list[int], dna: int) -> None:
    """The first `dna` appointments did not attend; the rest attended."""
    for index, appointment_id in enumerate(ids):
        status = S.DNA if index < dna else S.ATTENDED
        db.session.execute(
            update(Appointment).where(Appointment.id == appointment_id).values(status=status)
        )
    db.session.commit()


def test_the_analysis_compares_arm_b_with_the_control_by_intention_to_treat(
    scene: dict[str, Clinic], world: World, clock: FixedClock
) -> None:
    create_experiment(parse_definition(_definition(planned_n_per_arm=1000)), clock)
    arms = _assigned_by_arm(world, scene["north"], 40, clock)
    _settle(arms["A"][:-1], dna=len(arms["A"]) // 2)  # the last of A stays booked
    _settle(arms["B"], dna=2)
    analysis = analyze_experiment("cost-2026")
    n_a, dna_a = len(arms["A"]) - 1, len(arms["A"]) // 2
    n_b = len(arms["B"])
    assert [(a.arm, a.assigned, a.n, a.dna, a.pending) for a in analysis.arms] == [
        ("A", len(arms["A"]), n_a, dna_a, 1),
        ("B", n_b, n_b, 2, 0),
    ]
    assert analysis.comparison == compare_proportions(dna_a, n_a, 2, n_b)
    assert analysis.decision == "continue"
    assert analysis.information_fraction == min(n_a, n_b) / 1000


def test_a_recorded_decision_keeps_its_numbers_and_can_end_the_experiment(
    scene: dict[str, Clinic], world: World, clock: FixedClock
) -> None:
    create_experiment(parse_definition(_definition(planned_n_per_arm=10)), clock)
    arms = _assigned_by_arm(world, scene["north"], 60, clock)
    _settle(arms["A"], dna=len(arms["A"]) * 3 // 5)
    _settle(arms["B"], dna=0)
    analysis, decision = record_decision("cost-2026", clock)
    assert decision.decision == analysis.decision == "ship"
    assert decision.n_per_arm == min(len(arms["A"]), len(arms["B"]))
    assert decision.analysis["arms"][1]["dna"] == 0
    assert get_experiment("cost-2026").status is ExperimentStatus.SHIPPED
    assert reminder_wording(arms["B"][0], ("en",)) is None  # back to the usual wording
    with pytest.raises(Invalid, match="has shipped"):
        assign_experiment("cost-2026", clock)


def test_nothing_is_decided_before_both_arms_have_outcomes(
    scene: dict[str, Clinic], world: World, clock: FixedClock
) -> None:
    create_experiment(parse_definition(_definition()), clock)
    _assigned_by_arm(world, scene["north"], 4, clock)
    assert analyze_experiment("cost-2026").decision is None
    with pytest.raises(Invalid, match="nothing to decide yet"):
        record_decision("cost-2026", clock)
    assert db.session.query(OutboundMessage).count() == 4


# -- drafts, starting and stopping --------------------------------------------------------------

STAFF = Actor(user_id=None, address="192.0.2.7")


def _audit(action: AuditAction) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_a_draft_holds_no_clinic_and_starts_by_assigning_what_is_booked(
    scene: dict[str, Clinic], world: World, clock: FixedClock
) -> None:
    draft = create_experiment(parse_definition(_definition()), clock, start=False, actor=STAFF)
    assert draft.status is ExperimentStatus.DRAFT
    create_experiment(parse_definition(_definition(slug="other", clinics=["south"])), clock)
    with pytest.raises(Invalid, match="has not started"):
        assign_experiment("cost-2026", clock)
    with pytest.raises(Invalid, match=r"clinics\[1\]: south is in the running experiment other"):
        start_experiment(draft.id, clock, STAFF)
    free = create_experiment(
        parse_definition(_definition(slug="free", clinics=["north"])), clock, start=False
    )
    booked = [
        world.add(p, SOON, S.BOOKED, reminders=[M.PENDING]).id
        for p in _patients(world, scene["north"], 3)
    ]
    clock.advance(timedelta(hours=1))
    assigned = start_experiment(free.id, clock, STAFF)
    assert assigned.total == 3
    assert free.status is ExperimentStatus.RUNNING
    assert free.starts_at == clock.now()
    rows = db.session.scalars(select(ExperimentAssignment.appointment_id)).all()
    assert sorted(rows) == booked
    with pytest.raises(Invalid, match="has already started"):
        start_experiment(free.id, clock, STAFF)
    events = _audit(AuditAction.MANAGE_EXPERIMENT)
    assert [(e.detail, e.record_ids, e.address) for e in events] == [
        ({"what": "created"}, [draft.id], "192.0.2.7"),
        ({"what": "started", "assigned": 3}, [free.id], "192.0.2.7"),
    ]
    assert events[1].clinic_id == scene["north"].id


def test_stopping_records_the_analysis_with_the_reason_and_ends_the_wording(
    scene: dict[str, Clinic], world: World, clock: FixedClock
) -> None:
    experiment = create_experiment(parse_definition(_definition()), clock)
    arms = _assigned_by_arm(world, scene["north"], 20, clock)
    _settle(arms["A"], dna=3)
    _settle(arms["B"], dna=1)
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(Invalid, match="reason: must be text of 1 to 500 characters"):
            stop_experiment(experiment.id, reason, clock, STAFF)
    decision = stop_experiment(experiment.id, "  The clinic\nmoves  ", clock, STAFF)
    analysis = analyze_experiment("cost-2026")
    assert decision.decision == "stop"
    assert decision.reasons == [STOPPED_BY_STAFF, "The clinic moves", *analysis.reasons]
    assert decision.n_per_arm == analysis.n_per_arm
    assert get_experiment("cost-2026").status is ExperimentStatus.STOPPED
    assert reminder_wording(arms["B"][0], ("en",)) is None
    with pytest.raises(Invalid, match="is not running"):
        stop_experiment(experiment.id, "again", clock, STAFF)
    with pytest.raises(NotFound):
        stop_experiment(experiment.id + 100, "gone", clock, STAFF)
    (event,) = _audit(AuditAction.MANAGE_EXPERIMENT)
    assert event.detail == {"what": "stopped", "decision": decision.id}


def test_a_download_is_recorded_with_its_experiments_and_rows(
    scene: dict[str, Clinic], clock: FixedClock
) -> None:
    one = create_experiment(parse_definition(_definition()), clock, start=False)
    two = create_experiment(
        parse_definition(_definition(slug="two", clinics=["north"])), clock, start=False
    )
    record_export([one.id], "arms", "csv", 2, clock, STAFF)
    record_export([two.id, one.id], "list", "csv", 2, clock, STAFF)
    first, second = _audit(AuditAction.EXPORT)
    assert (first.record_ids, first.clinic_id, first.organisation_id) == (
        [one.id],
        None,  # north and south
        scene["north"].organisation_id,
    )
    assert first.detail == {"what": "experiment_arms", "format": "csv", "rows": 2}
    assert second.record_ids == [one.id, two.id]
