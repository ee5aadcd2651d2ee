"""The bodies of the JSON API v1 that several routes share, declared as pydantic models.

A route's own request and response models sit beside the route. Every model derives
from `ApiModel`: unknown fields are refused, types are not coerced (a number is not a
string), and each field says what it is, for the OpenAPI document. The shapes here are
the error document (RFC 9457 problem details), the row-import bodies and their report.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr

#: The PAS's own identifier of a patient or an appointment.
MAX_EXTERNAL_ID = 64
MAX_ROWS = 10_000

#: One field of an imported row, as a CSV cell would hold it: text, a whole number or null.
Cell = Annotated[StrictStr | StrictInt | None, Field(json_schema_extra={"maxLength": 200})]


class ApiModel(BaseModel):
    """A body of the API: unknown fields refused, no coercion between types."""

    model_config = ConfigDict(extra="forbid", strict=True)


class FieldError(BaseModel):
    """One problem with one field of the request."""

    line: int | None = Field(
        default=None, description="The 0-based index of the row in the body, for a row"
    )
    field: str = Field(description="The field, e.g. `strict` or `phone`")
    reason: str = Field(description="What is wrong; never repeats the value sent")


class Problem(BaseModel):
    """An error (RFC 9457 problem details, `application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="`about:blank`, or a problem type under /api/v1/problems")
    title: str = Field(description="A short summary of the problem type")
    status: int = Field(description="The HTTP status code")
    detail: str | None = Field(default=None, description="What went wrong with this request")
    errors: list[FieldError] | None = Field(
        default=None, description="The fields or rows refused, when there are any"
    )


class ImportCounts(ApiModel):
    """What an import did."""

    created: int = Field(description="Rows that made a new record")
    updated: int = Field(description="Rows that changed an existing record")
    unchanged: int = Field(description="Rows that matched what was already held")
    imported: bool = Field(description="Whether the good rows were written")
    errors: list[FieldError] = Field(description="Empty: a refused row answers 422 instead")


def _rows_schema(required: tuple[str, ...]) -> dict[str, Any]:
    # The importers read rows field by field and report each problem with its row and
    # field (422), writing the good rows unless `strict`; the document still says
    # exactly which fields a row may have.
    return {"additionalProperties": False, "required": list(required)}


class PatientRow(BaseModel):
    """A patient, as a row of the patients CSV."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra=_rows_schema(("external_id", "phone", "locale"))
    )

    external_id: Cell = Field(default=None, description="The PAS's identifier of the patient")
    phone: Cell = Field(
        default=None,
        description="A UK mobile (a landline only with channel `voice`), any common notation",
    )
    locale: Cell = Field(default=None, description="Preferred language, e.g. `pl`, `cy`")
    birth_year: Cell = Field(default=None, description="Year of birth")
    sex: Cell = Field(default=None, description="`F`, `M`, `X` (other) or `U` (not known)")
    ethnic_category: Cell = Field(default=None, description="NHS ethnic category code")
    imd_quintile: Cell = Field(default=None, description="Deprivation, 1 (most) to 5")
    channel: Cell = Field(default=None, description="`sms` (default), `whatsapp`, `voice`, `web`")
    given_name: Cell = Field(default=None, description="Shown to care roles only")
    family_name: Cell = Field(default=None, description="Shown to care roles only")


class AppointmentRow(BaseModel):
    """An appointment, as a row of the appointments CSV."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra=_rows_schema(("external_id", "patient_external_id", "starts_at")),
    )

    external_id: Cell = Field(default=None, description="The PAS's identifier of the booking")
    patient_external_id: Cell = Field(default=None, description="The patient's external_id")
    starts_at: Cell = Field(
        default=None, description="ISO 8601; without an offset, the clinic's local time"
    )
    pathway: Cell = Field(default=None, description="e.g. `physiotherapy`")


class OutcomeRow(BaseModel):
    """An appointment's outcome."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra=_rows_schema(("external_id", "outcome"))
    )

    external_id: Cell = Field(default=None, description="The appointment's external_id")
    outcome: Cell = Field(
        default=None,
        description="`attended`, `dna`, `cancelled_patient`, `cancelled_clinic`, ...",
    )
    cancelled_at: Cell = Field(default=None, description="ISO 8601, for a cancellation")


class PatientImport(ApiModel):
    """Patients to create or update."""

    patients: list[PatientRow] = Field(max_length=MAX_ROWS, description="The rows")
    strict: bool = Field(default=False, description="Write nothing if any row is refused")


class AppointmentImport(ApiModel):
    """Appointments to create or move."""

    appointments: list[AppointmentRow] = Field(max_length=MAX_ROWS, description="The rows")
    strict: bool = Field(default=False, description="Write nothing if any row is refused")


class OutcomeImport(ApiModel):
    """Outcomes to record."""

    outcomes: list[OutcomeRow] = Field(max_length=MAX_ROWS, description="The rows")
    strict: bool = Field(default=False, description="Write nothing if any row is refused")


class _Printable:
    """Checks text: `low` to `high` characters, none of them a control character."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def __call__(self, value: str) -> str:
        if not self.low <= len(value) <= self.high or not value.isprintable():
            raise ValueError(f"must be {self.low} to {self.high} printable characters")
        return value

    def schema(self) -> Any:
        return Field(
            json_schema_extra={
                "minLength": self.low,
                "maxLength": self.high,
                "pattern": r"^[^\u0000-\u001f\u007f-\u009f]*$",
            }
        )


def _printable(low: int, high: int) -> tuple[AfterValidator, Any]:
    check = _Printable(low, high)
    return AfterValidator(check), check.schema()


_ID, _NAME = _printable(1, MAX_EXTERNAL_ID), _printable(1, 64)
_GOAL, _LOCALE = _printable(1, 600), _printable(1, 16)
_TRANSLATION = _printable(0, 600)
#: The PAS's identifier of a patient or an appointment: 1 to 64 printable characters.
ExternalId = Annotated[str, _ID[0], _ID[1]]
#: A survey's or a pathway's name.
Name = Annotated[str, _NAME[0], _NAME[1]]
#: A goal as written, and its English translation.
GoalText = Annotated[str, _GOAL[0], _GOAL[1]]
Translation = Annotated[str, _TRANSLATION[0], _TRANSLATION[1]]
#: A language tag, e.g. `pl`.
LocaleTag = Annotated[str, _LOCALE[0], _LOCALE[1]]


class ByExternalId(BaseModel):
    """A record named in the URL by the PAS's own identifier."""

    external_id: ExternalId = Field(description="The PAS's identifier")
