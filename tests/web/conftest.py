from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient


class RequestPerContextClient(FlaskClient):
    """A test client whose every request has an app context of its own, as in
    production (the test's own context would otherwise be shared: its `g`, which
    Flask-Login and Flask-WTF cache in, and its database session)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app: Flask) -> Flask:
    app.test_client_class = RequestPerContextClient
    return app
