"""JSON API v1: the DNA report of a clinic.

`GET /api/v1/clinics/<slug>/attendance?from=YYYY-MM&to=YYYY-MM` answers the report over
whole months: counts and rates overall and by group, with intervals and the funnel
against the organisation's rate. `to` defaults to the current month and `from` to `to`.
Needs the `attendance:read` scope; a month that is not YYYY-MM (or YYYY-MM-DD, read as
its month) answers 400 naming the parameter.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.api.operations import ApiBlueprint, Call, Reply
from app.attendance.periods import parse_month
from app.attendance.service import attendance_report
from app.clinics.tokens import Scope
from app.core.errors import WeSaidError

bp = ApiBlueprint("attendance_api")


def _month(text: str) -> str:
    parse_month(text)  # raises ValueError, which names what is expected
    return text


#: A month as YYYY-MM, or a day of it as YYYY-MM-DD.
Month = Annotated[
    str,
    AfterValidator(_month),
    Field(json_schema_extra={"pattern": r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"}),
]


class Months(BaseModel):
    """The months the report covers, first and last included."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: Month | None = Field(
        default=None, alias="from", description="The first month, YYYY-MM (default: `to`)"
    )
    to: Month | None = Field(
        default=None, description="The last month, YYYY-MM (default: the current month)"
    )


class AttendanceReport(BaseModel):
    """Attendance and DNA over the months; counts, rates and 95% intervals."""

    model_config = ConfigDict(extra="allow")

    clinic: str = Field(description="The clinic's slug")
    first_month: str = Field(description="YYYY-MM")
    last_month: str = Field(description="YYYY-MM")
    overall: dict[str, Any] = Field(description="Counts and rate over every appointment")
    definitions: dict[str, str] = Field(description="How each figure is computed")


@bp.operation(
    "GET",
    "/clinics/<slug>/attendance",
    scope=Scope.ATTENDANCE_READ,
    query=Months,
    responses={200: AttendanceReport},
    summary="The clinic's DNA report over whole months",
)
def report(call: Call) -> Reply:
    """Rates are dna / (attended + dna); cancelled appointments are excluded."""
    months = call.query_as(Months)
    last = parse_month(months.to) if months.to else call.clock.now().date().replace(day=1)
    first = parse_month(months.from_) if months.from_ else last
    try:
        found = attendance_report(call.clinic.slug, first, last, call.clock)
    except WeSaidError as exc:
        return Reply.error(400, str(exc))
    return Reply(200, AttendanceReport.model_validate(found.to_json()))
