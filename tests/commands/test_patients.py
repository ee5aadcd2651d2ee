"""`wesaid patient erase` through the Flask CLI runner."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.audit.models import AuditAction, AuditEvent
from app.core.clock import FixedClock
from app.extensions import db
from app.patients.models import Patient
from app.queueing import QueueName
from app.runtime import get_runtime
from tests.privacy.rows import fresh, sent, sid
from tests.world import World


def _erased() -> int:
    return int(
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == AuditAction.ERASE_PATIENT)
        )
        or 0
    )


def _patient(world: World, clock: FixedClock) -> Patient:
    clinic = world.clinic("north")
    patient = world.patient(clinic, "P1", given_name="Ada", family_name="Byron")
    sent(patient, "Hello Ada", clock.now(), provider_sid=sid())
    db.session.commit()
    return patient


def test_erase_asks_first_and_stops_on_no(runner: Any, world: World, clock: FixedClock) -> None:
    patient = _patient(world, clock)
    result = runner.invoke(args=["patient", "erase", "P1", "--clinic", "north"], input="n\n")
    assert result.exit_code == 1
    assert f"patient {patient.id} of clinic north: messages with text 1" in result.output
    assert "Erase this patient? This cannot be undone" in result.output
    assert "Ada" not in result.output
    assert fresh(Patient, patient.id).erased_at is None
    assert _erased() == 0


def test_erase_on_yes(runner: Any, world: World, clock: FixedClock) -> None:
    patient = _patient(world, clock)
    result = runner.invoke(args=["patient", "erase", "P1", "--clinic", "north"], input="y\n")
    assert result.exit_code == 0, result.output
    assert f"erased patient {patient.id}: pending ended 0, messages blanked 1" in result.output
    erased = fresh(Patient, patient.id)
    assert (erased.erased_at, erased.given_name) == (clock.now(), None)
    assert _erased() == 1
    # The provider's copy is queued for erasure: ids only in the job.
    [job] = get_runtime().queue.queue(QueueName.MAINTENANCE).jobs
    assert job.func_name == "workers.jobs.erase_at_provider"
    assert all(isinstance(arg, int) for arg in job.args)


def test_erase_with_yes_does_not_ask(runner: Any, world: World, clock: FixedClock) -> None:
    _patient(world, clock)
    result = runner.invoke(args=["patient", "erase", "P1", "--clinic", "north", "--yes"])
    assert result.exit_code == 0, result.output
    assert "This cannot be undone" not in result.output
    assert _erased() == 1


def test_an_unknown_patient_or_clinic_is_an_error(
    runner: Any, world: World, clock: FixedClock
) -> None:
    _patient(world, clock)
    unknown = runner.invoke(args=["patient", "erase", "P404", "--clinic", "north", "--yes"])
    assert unknown.exit_code == 2
    assert "no patient with that external id in clinic 'north'" in unknown.output
    nowhere = runner.invoke(args=["patient", "erase", "P1", "--clinic", "nowhere", "--yes"])
    assert nowhere.exit_code == 2
    assert "no clinic with slug 'nowhere'" in nowhere.output
    assert _erased() == 0


def test_erasing_again_by_the_new_reference_says_it_was_done(
    runner: Any, world: World, clock: FixedClock
) -> None:
    patient = _patient(world, clock)
    runner.invoke(args=["patient", "erase", "P1", "--clinic", "north", "--yes"])
    again = runner.invoke(
        args=["patient", "erase", f"erased-patient-{patient.id}", "--clinic", "north", "--yes"]
    )
    assert again.exit_code == 0
    assert again.output.strip() == f"patient {patient.id} was already erased (2026-03-02)"
    assert _erased() == 1
    assert runner.invoke(args=["patient", "erase", "P1", "--clinic", "north"]).exit_code == 2
