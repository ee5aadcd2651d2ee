"""The workspace's front page: where each signed-in role starts."""

from __future__ import annotations

from flask import render_template

from app.web.pages import signed_in, staff_blueprint
from app.web.principal import staff_scope

bp = staff_blueprint("staff_home", __name__)


@bp.get("/")
@signed_in
def home() -> str:
    """The sections the signed-in staff member may use."""
    return render_template("web/home.html", scope=staff_scope())
