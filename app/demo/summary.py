"""What the demo shows once its month is over: the summary it prints, the dashboards'
addresses for the demo's organisation and month, and an admin to sign in with."""

from __future__ import annotations

import secrets
import sys
from datetime import datetime
from typing import Any

import click

from app.audit.service import SYSTEM
from app.clinics import accounts
from app.clinics.queries import find_organisation, get_clinic_by_slug
from app.clinics.roles import Role
from app.core.clock import FixedClock
from app.demo import themes
from app.demo.month import CLINICS, EXPERIMENT, ORGANISATION, START
from app.experiments.queries import find_experiment


def themes_of_the_month(seed: int, now: datetime) -> dict[str, Any]:
    organisation = find_organisation(ORGANISATION)
    assert organisation is not None
    survey = get_clinic_by_slug(CLINICS[0][0]).survey_slug or "fft"
    return themes.summarise_themes(organisation.id, survey, seed, now)


def dashboard_urls(base: str) -> dict[str, str]:
    """The dashboards of the demo's organisation for its month, by name: weighted
    results, who is not heard, themes, goal outcomes, the wording experiment, the page
    that makes the month's board report (the month it offers first, once the clock is
    at SERVED_AT), and the trust's public "you said, we did" page."""
    organisation = find_organisation(ORGANISATION)
    experiment = find_experiment(str(EXPERIMENT["slug"]))
    assert organisation is not None
    assert experiment is not None
    survey = get_clinic_by_slug(CLINICS[0][0]).survey_slug or "fft"
    month = f"{START:%Y-%m}"
    results = f"where=organisation:{organisation.id}&survey={survey}&month={month}"
    return {
        "results": f"{base}/staff/results?{results}",
        "not heard": f"{base}/staff/results/heard?{results}",
        "themes": f"{base}/staff/themes?where=organisation:{organisation.id}&month={month}",
        "goals": f"{base}/staff/goals?where=organisation:{organisation.id}&first={month}"
        f"&last={month}",
        "experiment": f"{base}/staff/experiments/{experiment.id}",
        "board report": f"{base}/staff/reports",
        "public page": f"{base}/p/{ORGANISATION}",
    }


def demo_admin(clock: FixedClock) -> tuple[str, str]:
    """An admin of the demo's organisation, with a password made for this run."""
    email = "admin@demo.wesaid.invalid"
    password = secrets.token_urlsafe(12)
    invitation = accounts.invite(
        email, ORGANISATION, Role.ADMIN, (), clock, SYSTEM, name="Demo Admin"
    )
    accounts.set_password(invitation.secret, password, clock, SYSTEM)
    return email, password


def print_summary(summary: dict[str, Any]) -> None:
    width = max(len(k) for k in summary)
    click.echo("")
    for key, value in summary.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value}")
    sys.stdout.flush()
