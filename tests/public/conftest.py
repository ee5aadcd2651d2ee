"""Fixtures shared by the public pages' tests (the survey web form)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.core.clock import FixedClock
from tests.public.web_survey import add_clinic, draft_catalogues, serve_survey_pages


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    """A client of the app with the survey pages."""
    return serve_survey_pages(app).test_client()


@pytest.fixture
def clinic_id(app: Flask, clock: FixedClock) -> int:
    return add_clinic(clock)


@pytest.fixture
def drafts(tmp_path: Path) -> Iterator[None]:
    """Small draft catalogues in a temporary folder, so pages do not depend on the real ones."""
    with draft_catalogues(tmp_path / "translations"):
        yield
