"""JSON API v1: record a patient's goal from the clinic's own system.

`POST /api/v1/clinics/<slug>/goals` with `{"patient_external_id": "...", "text": "...",
"locale": "pl", "translation_en": "...", "score": 3}` (translation and score optional;
the translation is needed for a goal not in English) opens the goal and answers 201
with its id and the patient's open goals. The patient is named in the body, never in
the URL, so that no request log holds who it was.

Needs the `goals:write` scope. 400 for a body that is not the object described, 404 for
a patient the clinic does not have, 422 naming the field for a goal the rules refuse (a
fourth open goal, a missing translation, a score outside 0-10). The goal is in the
audit log with the token.
"""

from __future__ import annotations

from pydantic import Field

from app.api.operations import ApiBlueprint, Call, Reply
from app.api.schemas import ApiModel, ExternalId, GoalText, LocaleTag, Translation
from app.clinics.tokens import Scope
from app.core.errors import Invalid, NotFound
from app.goals import service as goals
from app.patients.service import find_patients_by_external_id

bp = ApiBlueprint("goals_api")

UNKNOWN_PATIENT = "the clinic has no patient with this patient_external_id"


class NewGoal(ApiModel):
    """A goal as the clinician wrote it."""

    patient_external_id: ExternalId = Field(description="The PAS's identifier of the patient")
    text: GoalText = Field(description="The goal, in the patient's words")
    locale: LocaleTag = Field(description="The language `text` is in, e.g. `pl`")
    translation_en: Translation | None = Field(
        default=None, description="The goal in English; needed for a goal in another language"
    )
    score: int | None = Field(
        default=None, description="Where the patient is now, 0 to 10, if they said"
    )


class GoalOpened(ApiModel):
    """The goal opened."""

    id: int = Field(description="The goal's id")
    open_goals: int = Field(description="The patient's open goals, this one included")


@bp.operation(
    "POST",
    "/clinics/<slug>/goals",
    scope=Scope.GOALS_WRITE,
    body=NewGoal,
    responses={201: GoalOpened, 404: None},
    summary="Open a goal for a patient of the clinic",
)
def open_goal(call: Call) -> Reply:
    """The patient is named in the body, never in the URL."""
    given = call.body_as(NewGoal)
    found = find_patients_by_external_id(call.clinic.id, [given.patient_external_id])
    if not found:
        return Reply.error(404, UNKNOWN_PATIENT)
    goal_input = goals.GoalInput(given.text, given.locale, given.translation_en or "", given.score)
    try:
        goal = goals.open_goal(found[0].id, goal_input, call.actor, call.clock)
    except Invalid as exc:
        return Reply.error(422, str(exc))
    except NotFound:
        return Reply.error(404, UNKNOWN_PATIENT)
    return Reply(201, GoalOpened(id=goal.id, open_goals=goals.count_open(found[0].id)))
