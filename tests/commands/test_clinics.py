"""`wesaid clinic create` and `wesaid clinic token` through the Flask CLI runner."""

from __future__ import annotations

import hashlib
from datetime import time
from typing import Any

import pytest
from sqlalchemy import func, select

from app.clinics.models import ApiToken, Clinic, Organisation
from app.core.clock import FixedClock
from app.extensions import db

SENDER = "+442071838760"
OTHER_SENDER = "+442071838761"
SERVICE_SID = "MG" + "0123456789abcdef" * 2


def _create(runner: Any, slug: str = "riverside", *extra: str, sender: str = SENDER) -> Any:
    args = ["clinic", "create", slug, "--name", "Riverside Clinic", "--sender", sender, *extra]
    return runner.invoke(args=args)


def _clinic_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Clinic)) or 0)


def test_create_clinic_with_defaults(runner: Any, clock: FixedClock) -> None:
    result = _create(runner)
    assert result.exit_code == 0, result.output
    clinic = db.session.scalars(select(Clinic)).one()
    assert result.output.strip() == f"created clinic riverside (id {clinic.id})"
    assert (clinic.slug, clinic.name, clinic.sender) == ("riverside", "Riverside Clinic", SENDER)
    assert clinic.timezone == "Europe/London"
    assert clinic.default_locale == "en"
    assert (clinic.quiet_start, clinic.quiet_end) == (time(21, 0), time(8, 0))
    assert clinic.created_at == clock.now()
    organisation = db.session.get(Organisation, clinic.organisation_id)
    assert organisation is not None
    assert organisation.slug == "default"


@pytest.mark.parametrize(
    ("extra", "sender", "stored_sender", "locale", "zone", "quiet"),
    [
        (["--locale", "cy"], "020 7183 8760", SENDER, "cy", "Europe/London", (21, 8)),
        (["--locale", "en-GB"], SENDER, SENDER, "en", "Europe/London", (21, 8)),
        (["--timezone", "Europe/Warsaw"], SENDER, SENDER, "en", "Europe/Warsaw", (21, 8)),
        (["--quiet", "20:00-09:30"], SENDER, SENDER, "en", "Europe/London", (20, 9)),
        ([], SERVICE_SID, SERVICE_SID, "en", "Europe/London", (21, 8)),
    ],
)
def test_create_clinic_options(
    runner: Any,
    extra: list[str],
    sender: str,
    stored_sender: str,
    locale: str,
    zone: str,
    quiet: tuple[int, int],
) -> None:
    result = _create(runner, "riverside", *extra, sender=sender)
    assert result.exit_code == 0, result.output
    clinic = db.session.scalars(select(Clinic)).one()
    assert (clinic.sender, clinic.default_locale, clinic.timezone) == (stored_sender, locale, zone)
    assert (clinic.quiet_start.hour, clinic.quiet_end.hour) == quiet


def test_duplicate_slug_is_refused(runner: Any) -> None:
    assert _create(runner).exit_code == 0
    result = _create(runner, sender=OTHER_SENDER)
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert _clinic_count() == 1


def test_a_sender_used_by_another_clinic_is_refused(runner: Any) -> None:
    assert _create(runner).exit_code == 0
    result = _create(runner, "northside")
    assert result.exit_code != 0
    assert "sender" in result.output
    assert _clinic_count() == 1


@pytest.mark.parametrize("zone", ["Mars/Olympus", "GMT+25", "London", "../etc/passwd", ""])
def test_bad_timezone_is_refused(runner: Any, zone: str) -> None:
    result = _create(runner, "riverside", "--timezone", zone)
    assert result.exit_code != 0
    assert "timezone" in result.output
    assert _clinic_count() == 0


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("not-a-number", "not a valid number"),
        ("+33123456789", "not a UK number"),
        ("09011234567", "premium rate"),
        ("+447011234567", "personal number"),
        ("MG123", "not a valid number"),
        ("MG" + "Z" * 32, "not a valid number"),
    ],
)
def test_bad_sender_is_refused(runner: Any, sender: str, reason: str) -> None:
    result = _create(runner, sender=sender)
    assert result.exit_code != 0
    assert "sender" in result.output
    assert reason in result.output
    assert _clinic_count() == 0


@pytest.mark.parametrize(
    ("slug", "extra", "message"),
    [
        ("Riverside", [], "slug"),
        ("river_side", [], "slug"),
        ("r" * 64, [], "slug"),
        ("riverside", ["--locale", "tlh"], "locale"),
        ("riverside", ["--quiet", "9pm-8am"], "--quiet"),
    ],
)
def test_other_bad_input_is_refused(runner: Any, slug: str, extra: list[str], message: str) -> None:
    result = _create(runner, slug, *extra)
    assert result.exit_code != 0
    assert message in result.output
    assert _clinic_count() == 0


def test_token_works_as_the_api_bearer_token(runner: Any, client: Any) -> None:
    assert _create(runner).exit_code == 0
    result = runner.invoke(args=["clinic", "token", "riverside", "--label", "pas-feed"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("ws_")

    response = client.post(
        "/api/v1/clinics/riverside/patients",
        json={"patients": []},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "imported": True,
        "errors": [],
    }

    refused = client.post(
        "/api/v1/clinics/riverside/patients",
        json={"patients": []},
        headers={"Authorization": f"Bearer {token}x"},
    )
    assert refused.status_code == 401


def test_only_the_tokens_sha256_is_stored(runner: Any) -> None:
    assert _create(runner).exit_code == 0
    token = runner.invoke(args=["clinic", "token", "riverside"]).output.strip()
    row = db.session.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.label == "api"
    assert row.revoked_at is None
    stored = [str(value) for value in vars(row).values()]
    assert not any(token in value for value in stored)


def test_each_token_is_new(runner: Any) -> None:
    assert _create(runner).exit_code == 0
    first = runner.invoke(args=["clinic", "token", "riverside"]).output.strip()
    second = runner.invoke(args=["clinic", "token", "riverside"]).output.strip()
    assert first != second
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 2


def test_token_for_an_unknown_clinic_is_refused(runner: Any) -> None:
    result = runner.invoke(args=["clinic", "token", "nowhere"])
    assert result.exit_code != 0
    assert "nowhere" in result.output
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_templates_check_passes_on_the_shipped_catalogues(runner: Any) -> None:
    result = runner.invoke(args=["templates", "check"])
    assert result.exit_code == 0, result.output
    assert "reminder       en      GSM-7" in result.output
    assert "reminder       cy" in result.output
