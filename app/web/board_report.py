"""The monthly board report of an organisation: the workspace's dashboards for one month,
laid out on A4 as a PDF that a trust board reads on paper.

The report holds the same charts as the pages, each with the table of its numbers, in
the reader's language:

1. **Attendance**: every clinic's DNA rate, variation and assurance on the summary
   table, the funnel plot of the clinics over the twelve months to the report's month,
   and each clinic's XmR chart over the two years to it;
2. **Patient experience**: for each survey with results for the whole organisation that
   month, the Friends and Family Test weighted to everyone invited beside the unweighted
   figures, its trend, and patients invited against responding; then each clinic's
   figures for the month;
3. **Who is not heard**: the groups flagged as far less heard than the rest with the
   suggestion drawn from their response by channel, response rates by group and the
   R-indicator's trend;
4. **Experiments**: each wording experiment that ran in the month, where it stands, its
   arms and the difference at each look against the stopping boundary.

Like the pages, it reads stored counts and snapshots only, and only what the reader may
see: `Reach` says which clinics each area covers (the signed-in staff member's scope on
the web, every clinic of the organisation for `wesaid report board`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.audit.service import Actor, record_download
from app.charts import Table
from app.clinics.models import Clinic, Organisation
from app.clinics.queries import get_organisation
from app.core.clock import Clock
from app.reports.models import ReportState
from app.reports.service import ReportAreas, fail_run, finish_run, start_run
from app.web import formats
from app.web.attendance_labels import month_name
from app.web.board_results import headline, results_sections
from app.web.board_sections import (
    Reach,
    Section,
    attendance_section,
    experiments_section,
    goals_section,
)
from app.web.pdf import FONT_FAMILIES, render_pdf, uncovered

__all__ = [
    "BoardReport",
    "Reach",
    "board_report",
    "board_report_pdf",
    "make_requested_report",
    "write_board_report",
]

log = logging.getLogger(__name__)
#: What a run that could not be made records (the worker's log has the details).
FAILED_TO_MAKE = (
    "The report could not be made. Try again; if it fails again, tell your administrator."
)


@dataclass(frozen=True)
class BoardReport:
    """A board report ready to lay out."""

    organisation: Organisation
    month: date
    generated_at: datetime
    locale: str
    sections: list[Section]
    headline: Table | None
    notices: list[str]

    @property
    def title(self) -> str:
        return str(_("Board report: %(month)s", month=month_name(self.month)))

    @property
    def subtitle(self) -> str:
        return self.organisation.name

    @property
    def running_head(self) -> str:
        return str(
            _(
                "%(organisation)s, board report for %(month)s, made %(made)s",
                organisation=self.organisation.name,
                month=month_name(self.month),
                made=formats.date_text(self.generated_at),
            )
        )

    @property
    def about(self) -> str:
        return str(
            _(
                "Figures come from WeSaid's stored daily counts and results snapshots as they "
                "stood when this report was made. Survey results are weighted to everyone "
                "invited; any figure from fewer than 10 responses is left out. Each chart is "
                "followed by the table of its numbers."
            )
        )

    @property
    def font_stack(self) -> str:
        return ", ".join(f'"{family}"' for family in FONT_FAMILIES) + ", sans-serif"


def board_report(
    organisation: Organisation, month: date, reach: Reach, clock: Clock, locale: str
) -> BoardReport:
    """The report of `organisation` for the month holding `month`, showing what `reach`
    allows. Brings the attendance counts of those months up to date first (commits)."""
    first = month.replace(day=1)
    attendance, rows = attendance_section(reach.attendance, first, clock)
    results, heard, clinic_results = results_sections(organisation, reach, first)
    sections = [
        attendance,
        results,
        heard,
        experiments_section(reach.experiments, first, clock),
        goals_section(reach.goals, first),
    ]
    missing = uncovered() or []
    notices = [
        _(
            "This computer has no font for %(scripts)s text: such text in this report may "
            "not show.",
            scripts=", ".join(missing),
        )
    ] * bool(missing)
    return BoardReport(
        organisation=organisation,
        month=first,
        generated_at=clock.now(),
        locale=locale,
        sections=sections,
        headline=headline(rows, clinic_results),
        notices=notices,
    )


def board_report_pdf(report: BoardReport) -> bytes:
    """The report as a PDF."""
    html = render_template("web/reports/board.html", report=report, number_columns=_numbers)
    return render_pdf(html)


def _numbers(data: Table) -> list[bool]:
    columns = list(zip(*data.rows, strict=True)) if data.rows else []
    if not columns:
        return [False] * len(data.columns)
    return [
        any(isinstance(v, int | float) and not isinstance(v, bool) for v in column)
        for column in columns
    ]


def write_board_report(
    organisation: Organisation,
    month: date,
    reach: Reach,
    clock: Clock,
    actor: Actor,
    locale: str,
) -> bytes:
    """The board report of `organisation` for the month holding `month` as a PDF; the
    download is recorded in the audit log (EXPORT, with how many clinics it covers)."""
    report = board_report(organisation, month, reach, clock, locale)
    pdf = board_report_pdf(report)
    covered = sorted(
        {
            clinic.id
            for area in (reach.attendance, reach.results, reach.experiments, reach.goals)
            for clinic in area
        }
    )
    record_download(
        actor,
        clock.now(),
        record_type="organisation",
        record_ids=[organisation.id],
        organisation_id=organisation.id,
        detail={
            "what": "board_report",
            "format": "pdf",
            "month": report.month.strftime("%Y-%m"),
            "clinics": len(covered),
        },
    )
    return pdf


def make_requested_report(run_id: int, clock: Clock) -> ReportState | None:
    """Lay out a board report asked for in the workspace (a job: `workers.jobs`) and store
    its PDF; None when the run is not waiting (taken by another worker, or removed). A
    report that cannot be made is marked failed with the reason in words, and the error
    logged with the run's id only."""
    run = start_run(run_id)
    if run is None:
        return None
    areas = ReportAreas.of(run)
    organisation = get_organisation(run.organisation_id)
    clinics = {clinic.id: clinic for clinic in organisation.clinics}

    def pick(ids: Collection[int]) -> list[Clinic]:
        return sorted((clinics[i] for i in ids if i in clinics), key=lambda c: (c.name, c.id))

    reach = Reach(
        attendance=pick(areas.attendance),
        results=pick(areas.results),
        experiments=pick(areas.experiments),
        whole_organisation_results=areas.whole_organisation_results,
        goals=pick(areas.goals),
    )
    try:
        with force_locale(run.locale):
            pdf = board_report_pdf(board_report(organisation, run.month, reach, clock, run.locale))
    except Exception:  # any failure ends the run visibly rather than leave it running
        log.exception("board report run %s could not be made", run_id)
        fail_run(run_id, FAILED_TO_MAKE, clock)
        return ReportState.FAILED
    finish_run(run_id, pdf, clock)
    return ReportState.READY
