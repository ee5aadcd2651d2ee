"""The results pages: weighted survey results and who is not heard, read from stored
snapshots at the places a staff member's role reaches, with every chart's table and
picture to download (in the audit log)."""

from __future__ import annotations

import html
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from app.audit.models import AuditAction, AuditEvent
from app.clinics.roles import Role
from app.clinics.service import create_clinic
from app.core.clock import FixedClock
from app.extensions import db
from app.results import service as results
from app.results.models import ResultSnapshot
from app.web.results_labels import percent
from tests.charts.svgdoc import by_class, parse
from tests.results import cohorts
from tests.web.staff import StaffDesk
from tests.world import World

MONTHS = ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
SURVEY = "clinic-visit"


def _svg(body: str, prefix: str) -> ET.Element:
    found = re.search(rf'<svg[^>]* id="{re.escape(prefix)}".*?</svg>', body, re.S)
    assert found is not None, f"no chart {prefix}"
    return parse(found.group(0))


def _text(body: str) -> str:
    """The page's words without its markup."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture
def surveyed(app: Flask, world: World, clock: FixedClock) -> list[ResultSnapshot]:
    north = world.clinic("north", org="trust")
    world.clinic("south", org="trust")
    world.clinic("east", org="other")
    return cohorts.survey_months(north, MONTHS, 400)


def _member(desk: StaffDesk, app: Flask, role: Role, clinics: list[str], org: str) -> FlaskClient:
    client = app.test_client()
    desk.sign_in(client, desk.member(role, clinics, org=org))
    return client


def _analyst(desk: StaffDesk, app: Flask) -> FlaskClient:
    return _member(desk, app, Role.ANALYST, [], "trust")


# -- survey results -------------------------------------------------------------------------


def test_weighted_results_beside_unweighted(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot]
) -> None:
    latest = surveyed[-1]
    answer = _analyst(desk, app).get("/staff/results")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    words = _text(body)
    # The latest month of the clinic's own survey is shown unless another is chosen.
    assert 'value="2026-02" selected' in body
    fft = latest.estimates["fft_positive"]
    for kind in ("weighted", "unweighted"):
        figure = fft[kind]
        assert percent(figure["estimate"]) in words
        assert f"{percent(figure['ci_low'])} to {percent(figure['ci_high'])}" in words
    assert fft["weighted"]["estimate"] != pytest.approx(fft["unweighted"]["estimate"])
    invited = latest.diagnostics["invited"]
    assert f"Invited {invited}" in words
    # Weighted and unweighted shares, positive and negative: four bars with their
    # intervals (whiskers).
    chart = _svg(body, "fft")
    assert len(by_class(chart, "bar-value")) == 4
    assert len(by_class(chart, "whisker")) == 4


def test_the_trends_have_a_point_per_month(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot]
) -> None:
    body = _analyst(desk, app).get("/staff/results").get_data(as_text=True)
    # Positive weighted and unweighted, negative weighted: three series over five months.
    trend = _svg(body, "fft-trend")
    assert len(by_class(trend, "point")) == 3 * len(MONTHS)
    positive = [s.estimates["fft_positive"]["weighted"]["estimate"] for s in surveyed]
    titles = [next(iter(p)).text or "" for p in by_class(trend, "point")][: len(MONTHS)]
    assert [t.split(" (")[0].rsplit(" ", 1)[-1] for t in titles] == [percent(p) for p in positive]
    response = _svg(body, "response-trend")
    assert len(by_class(response, "point")) == 2 * len(MONTHS)


def test_every_question_has_its_figures_or_the_reason_they_are_not_shown(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot]
) -> None:
    latest = surveyed[-1]
    questions = {q["id"]: q for q in latest.questions or []}
    body = _analyst(desk, app).get("/staff/results").get_data(as_text=True)
    words = _text(body)
    # Choice, yes/no and scale: a bar per option; a number: its mean beside the unweighted.
    assert len(by_class(_svg(body, "q1"), "bar-value")) == 6
    assert len(by_class(_svg(body, "q2"), "bar-value")) == 2
    assert len(by_class(_svg(body, "q3"), "bar-value")) == 5
    mean = questions["pain"]["mean"]
    assert (
        f"Mean, weighted: {mean['estimate']:.2f} (95% interval {mean['lower']:.2f} to "
        f"{mean['upper']:.2f}); unweighted {mean['unweighted']:.2f}"
    ) in words
    waited = by_class(_svg(body, "q4"), "bar-number")
    assert [t.text for t in waited] == [
        f"{questions['waited']['mean']['estimate']:.3f}".rstrip("0").rstrip("."),
        f"{questions['waited']['mean']['unweighted']:.3f}".rstrip("0").rstrip("."),
    ]
    # Too few were asked about an interpreter: no chart, and the reason instead.
    assert 'id="q5"' not in body
    interpreter = questions["interpreter"]["respondents"]
    assert f"{interpreter} answered" in words
    assert "Not shown: fewer than 10 responses." in words
    assert "answered in their own words" in words


def test_a_month_whose_fft_rests_on_few_responses(
    app: Flask, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    cohorts.survey_months(world.clinic("north", org="trust"), ["2026-02"], 20)
    body = _analyst(desk, app).get("/staff/results").get_data(as_text=True)
    words = _text(body)
    assert "Not shown: fewer than 10 responses." in words
    assert 'id="fft"' not in body
    assert 'id="fft-trend"' not in body  # no month to draw


def test_a_clinic_without_results_yet(app: Flask, desk: StaffDesk, world: World) -> None:
    world.clinic("north", org="trust")
    answer = _analyst(desk, app).get("/staff/results")
    assert answer.status_code == 200
    assert "There are no results yet for Friends and Family Test at North." in _text(
        answer.get_data(as_text=True)
    )
    assert _analyst(desk, app).get("/staff/results/heard").status_code == 200
    # A whole organisation has no survey of its own: the Friends and Family Test is shown.
    org = world.clinics["north"].organisation_id
    for page in ("/staff/results", "/staff/results/heard"):
        answer = _analyst(desk, app).get(f"{page}?where=organisation:{org}")
        assert answer.status_code == 200
        assert "There are no results yet for Friends and Family Test at trust: all" in _text(
            answer.get_data(as_text=True)
        )


# -- who is not heard -----------------------------------------------------------------------


def test_who_is_not_heard(app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot]) -> None:
    latest = surveyed[-1]
    answer = _analyst(desk, app).get("/staff/results/heard")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    words = _text(body)
    levels = latest.nonresponse["levels"]
    for variable, prefix in (("age_band", "rates-age-band"), ("channel", "rates-channel")):
        chart = _svg(body, prefix)
        shown = [r for r in levels if r["variable"] == variable]
        assert len(by_class(chart, "bar-value")) == len(shown)
        assert len(by_class(chart, "whisker")) == len(shown)
        assert len(by_class(chart, "reference")) == 1  # everyone invited
    assert len(by_class(_svg(body, "r-indicator"), "point")) == len(MONTHS)
    # Two dots (before and after weighting) for every group with invitations.
    assert len(by_class(_svg(body, "differences"), "dot")) == 2 * len(levels)
    # The flagged groups, each with the suggestion drawn from its channels: the 75+
    # answer voice calls far more than texts (cohorts.CELLS).
    assert "Age band: 16-24" in words
    assert "Age band: 75+" in words
    cells = {
        c["channel"]: (c["responded"], c["invited"])
        for c in latest.nonresponse["by_channel"]
        if (c["variable"], c["level"]) == ("age_band", "75+")
    }
    (voice_r, voice_i), (sms_r, sms_i) = cells["voice"], cells["sms"]
    assert (
        f"Invited by voice call, {percent(voice_r / voice_i)} of them answered ({voice_r} of "
        f"{voice_i}); invited by SMS, the way most of them were, {percent(sms_r / sms_i)} "
        f"answered ({sms_r} of {sms_i}). Invite more of them by voice call."
    ) in words
    assert "Almost all of them were invited by SMS" in words  # 16-24: nothing to compare
    r_indicator = f"{latest.nonresponse['r_indicator']:.3f}".rstrip("0")
    assert f"R-indicator {r_indicator} (1 when those who answered" in words


def test_a_snapshot_from_before_every_question_was_kept(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot]
) -> None:
    latest = surveyed[-1]
    latest.questions = None
    latest.nonresponse = {k: v for k, v in latest.nonresponse.items() if k != "by_channel"}
    db.session.commit()
    client = _analyst(desk, app)
    assert client.get("/staff/results").status_code == 200
    heard = _text(client.get("/staff/results/heard").get_data(as_text=True))
    assert "worked out before response by channel was kept" in heard


# -- choosing what to show ------------------------------------------------------------------


def test_an_organisation_and_its_services(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot], world: World, clock: FixedClock
) -> None:
    org = world.clinics["north"].organisation_id
    results.compute_snapshot(SURVEY, "organisation", org, "2026-02", clock.now())
    client = _analyst(desk, app)
    body = client.get("/staff/results").get_data(as_text=True)
    assert f'value="organisation:{org}"' in body
    shown = client.get(f"/staff/results?where=organisation:{org}&survey={SURVEY}")
    assert shown.status_code == 200
    assert "trust: all clinics" in _text(shown.get_data(as_text=True))
    assert 'id="fft"' in shown.get_data(as_text=True)


REFUSED = [
    ("where=clinic:999999", "Choose where to show results for from the list"),
    ("where=nowhere", "Choose where to show results for from the list"),
    ("survey=not-a-survey", "Choose a survey from the list"),
    ("month=2024-01", "Choose a month from the list"),
    ("month=March", "Choose a month from the list"),
    ("month=" + "9" * 500, "Choose a month from the list"),
]


def test_what_is_not_on_the_lists_is_refused(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot]
) -> None:
    client = _analyst(desk, app)
    for query, message in REFUSED:
        for page in ("/staff/results", "/staff/results/heard", "/staff/results/download/fft.csv"):
            answer = client.get(f"{page}?{query}")
            assert answer.status_code == 400, (page, query)
            assert message in _text(answer.get_data(as_text=True)), (page, query)
    assert _exports() == []


def test_others_see_nothing_of_the_clinic(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot], world: World
) -> None:
    north = world.clinics["north"]
    south_only = _member(desk, app, Role.ANALYST, ["south"], "trust")
    other_org = _member(desk, app, Role.CLINIC_MANAGER, [], "other")
    nowhere = (f"clinic:{north.id}", f"organisation:{north.organisation_id}")
    for client in (south_only, other_org):
        own = client.get("/staff/results").get_data(as_text=True)
        assert "North" not in own
        assert "trust: all clinics" not in own
        for where in nowhere:
            for page in (
                "/staff/results",
                "/staff/results/heard",
                "/staff/results/download/fft.csv",
            ):
                answer = client.get(f"{page}?where={where}&survey={SURVEY}&month=2026-02")
                assert answer.status_code == 400
                assert "North" not in answer.get_data(as_text=True)
    for role in (Role.RECEPTIONIST, Role.CLINICIAN, Role.AUDITOR):
        client = _member(desk, app, role, ["north"], "trust")
        assert client.get("/staff/results").status_code == 403
        assert client.get("/staff/results/download/fft.csv").status_code == 403
    assert app.test_client().get("/staff/results").status_code == 302


# -- downloads ------------------------------------------------------------------------------


def _exports() -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT))
    )


def test_every_chart_downloads_as_csv_and_svg_in_the_audit_log(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot], world: World
) -> None:
    client = _analyst(desk, app)
    north = world.clinics["north"]
    for page in ("/staff/results", "/staff/results/heard"):
        body = client.get(page).get_data(as_text=True)
        links = sorted(set(re.findall(r'href="(/staff/results/download/[^"]+)"', body)))
        assert links
        for link in links:
            answer = client.get(html.unescape(link))
            assert answer.status_code == 200, link
            kind = "text/csv" if ".csv?" in link else "image/svg+xml"
            assert answer.mimetype == kind
            assert "attachment" in answer.headers["Content-Disposition"]
    exports = _exports()
    assert len(exports) == len(
        set(
            re.findall(
                r"/staff/results/download/[^\"]+",
                client.get("/staff/results").get_data(as_text=True),
            )
        )
    ) + len(
        set(
            re.findall(
                r"/staff/results/download/[^\"]+",
                client.get("/staff/results/heard").get_data(as_text=True),
            )
        )
    )
    fft = next(
        e for e in exports if e.detail["what"] == "results_fft" and e.detail["format"] == "csv"
    )
    assert (fft.clinic_id, fft.organisation_id, fft.record_type) == (
        north.id,
        north.organisation_id,
        "result_snapshot",
    )
    assert fft.detail["rows"] == 4
    assert set(fft.record_ids) == {s.id for s in surveyed}


def test_a_csv_cell_is_never_a_formula(app: Flask, desk: StaffDesk, world: World) -> None:
    survey = {
        **cohorts.VISIT_SURVEY,
        "questions": [
            *cohorts.VISIT_SURVEY["questions"][:1],
            {"id": "clean", "type": "yes_no", "text": '=HYPERLINK("http://x")'},
        ],
    }
    cohorts.survey_months(world.clinic("north", org="trust"), ["2026-02"], 200, survey=survey)
    client = _analyst(desk, app)
    body = client.get("/staff/results").get_data(as_text=True)
    link = html.unescape(re.search(r'href="(/staff/results/download/q2\.csv[^"]*)"', body).group(1))  # type: ignore[union-attr]
    text = client.get(link).get_data(as_text=True)
    assert text.splitlines()[0].startswith("Answer,")
    assert "'=HYPERLINK" not in text.splitlines()[0]
    svg = client.get(link.replace(".csv", ".svg")).get_data(as_text=True)
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')


def test_unknown_downloads_are_not_found(
    app: Flask, desk: StaffDesk, surveyed: list[ResultSnapshot]
) -> None:
    client = _analyst(desk, app)
    assert client.get("/staff/results/download/nothing.csv").status_code == 404
    # The flagged groups are a table: CSV only.
    flagged = client.get("/staff/results/download/flagged.csv")
    assert flagged.status_code == 200
    assert "Invite more of them by voice call." in flagged.get_data(as_text=True)
    assert client.get("/staff/results/download/flagged.svg").status_code == 404
    assert _exports()
    assert all(e.detail["what"] == "results_flagged" for e in _exports())


# -- an organisation of forty clinics -------------------------------------------------------


@contextmanager
def _counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_forty_clinics_read_in_a_few_queries_under_300_ms(
    app: Flask, desk: StaffDesk, world: World, clock: FixedClock
) -> None:
    north = world.clinic("north", org="trust")
    (made,) = cohorts.survey_months(north, ["2026-02"], 400)
    # Forty clinics with a year of snapshots each, and the organisation's own: copies of
    # a real snapshot, with a large organisation's weights (which the pages never read).
    clinics = [north] + [
        create_clinic(
            f"clinic-{i:02d}",
            name=f"Clinic {i:02d}",
            timezone="Europe/London",
            sender=f"+4420718390{i:02d}",
            org_slug="trust",
            clock=clock,
        )
        for i in range(39)
    ]
    weights = {"invitations": list(range(20_000)), "weights": [1.0] * 20_000}
    periods = [f"{2025 + (m + 1) // 12:04d}-{(m + 1) % 12 + 1:02d}" for m in range(13)]
    places = [("clinic", c.id) for c in clinics] + [("organisation", north.organisation_id)]
    for scope, scope_id in places:
        for period in periods:
            if (scope, scope_id, period) == ("clinic", north.id, "2026-02"):
                continue
            db.session.add(
                ResultSnapshot(
                    survey_slug=SURVEY, scope=scope, scope_id=scope_id, scope_key="",
                    period=period, version=1, method=made.method,
                    diagnostics=made.diagnostics, estimates=made.estimates,
                    nonresponse=made.nonresponse, questions=made.questions,
                    weights=weights if scope == "organisation" else made.weights,
                    computed_at=made.computed_at,
                )
            )  # fmt: skip
    db.session.commit()
    client = _analyst(desk, app)
    where = f"where=organisation:{north.organisation_id}&survey={SURVEY}&month=2026-02"
    for page in ("/staff/results", "/staff/results/heard"):
        url = f"{page}?{where}"
        assert client.get(url).status_code == 200  # templates compiled, connection made
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            with _counting() as statements:
                answer = client.get(url)
            timings.append(time.perf_counter() - started)
            assert answer.status_code == 200
        assert (
            len(
                by_class(
                    _svg(
                        answer.get_data(as_text=True),
                        "r-indicator" if "heard" in page else "fft-trend",
                    ),
                    "point",
                )
            )
            >= 13
        )
        # Sign-in session, scope, clinics, organisations, services, surveys and months,
        # the year's snapshots: a fixed handful, however many clinics there are.
        assert len(statements) <= 12, statements
        assert min(timings) < 0.3, timings
