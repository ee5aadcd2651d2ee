"""The demo's survey figures: what was sent and answered, weighted results, and the truth.

The simulator knows every invited patient's honest Friends and Family Test answer,
including the patients who never replied, so the demo can show how far weighting moves
the estimate towards the whole cohort's true share positive.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.core.clock import Clock
from app.experiments.service import analyze_experiment, record_decision
from app.extensions import db
from app.messaging.kinds import MessageKind
from app.messaging.models import OutboundMessage
from app.messaging.states import PROVIDER_STATES, MessageState
from app.patients.models import Patient
from app.results import service as results
from app.results.models import SurveyInvitation, SurveyResponse
from app.simulator.behaviour import Behaviour
from app.surveys.models import SurveySession

_SENT = frozenset(PROVIDER_STATES - {MessageState.FAILED, MessageState.UNKNOWN})
#: The simulator's answer numbers counted as positive: 1 Very good, 2 Good.
_TRUE_POSITIVE = frozenset({1, 2})


def _rounded(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def store_snapshots(now: datetime) -> int:
    """The snapshots the nightly run would write at `now`: each clinic's, each pathway's
    and the organisation's, for every survey and recent month with invitations. Commits;
    returns how many were written."""
    return results.recompute_recent(now)


def summarise_surveys(behaviour: Behaviour) -> dict[str, Any]:
    """Survey and results figures for the demo's JSON."""
    invited = int(db.session.scalar(select(func.count(SurveyInvitation.id))) or 0)
    sent = int(
        db.session.scalar(
            select(func.count(OutboundMessage.id)).where(
                OutboundMessage.kind == MessageKind.SURVEY_INVITE,
                OutboundMessage.state.in_(_SENT),
            )
        )
        or 0
    )
    answered = list(
        db.session.execute(
            select(SurveyResponse.channel, SurveyResponse.language).where(
                SurveyResponse.fft.is_not(None)
            )
        ).all()
    )
    cohort = [
        (invitation, response)
        for invitation, response in db.session.execute(
            select(SurveyInvitation, SurveyResponse)
            .outerjoin(SurveyResponse, SurveyResponse.invitation_id == SurveyInvitation.id)
            .order_by(SurveyInvitation.id)
        ).all()
    ]
    summary: dict[str, Any] = {
        "surveys_sent": sent,
        "survey_invitations": invited,
        "survey_responses": len(answered),
        "response_rate": _rounded(len(answered) / invited if invited else None),
        "responses_by_channel": dict(sorted(Counter(c.value for c, _ in answered).items())),
        "responses_by_locale": dict(sorted(Counter(loc for _, loc in answered).items())),
    }
    if not cohort:
        return summary
    combined = results.summarise(cohort)
    fft = combined["estimates"].get("fft_positive")
    if fft:
        weighted = fft["weighted"]
        summary |= {
            "fft_positive_unweighted": _rounded(fft["unweighted"]["estimate"]),
            "fft_positive_weighted": _rounded(weighted["estimate"]),
            "fft_positive_ci": [_rounded(weighted["ci_low"]), _rounded(weighted["ci_high"])],
            "ess": _rounded(combined["diagnostics"]["ess"], 1),
            "kish_deff": _rounded(combined["diagnostics"]["kish_deff"]),
        }
    summary["true_fft_positive"] = _rounded(_true_positive(behaviour))
    summary["response_rate_by_group"] = _rates_by_group(combined["nonresponse"])
    summary["r_indicator"] = _rounded(combined["nonresponse"].get("r_indicator"))
    summary["groups_not_heard"] = [
        f"{row['variable']}={row['level']}"
        for row in combined["nonresponse"].get("levels", [])
        if row["flagged"]
    ]
    return summary


def _true_positive(behaviour: Behaviour) -> float | None:
    """The share positive among everyone invited, answered or not (the simulator's truth)."""
    phones = db.session.scalars(
        select(Patient.phone)
        .join(SurveySession, SurveySession.patient_id == Patient.id)
        .join(SurveyInvitation, SurveyInvitation.session_id == SurveySession.id)
    ).all()
    if not phones:
        return None
    answers = [behaviour.true_fft_answer(phone) for phone in phones]
    return sum(a in _TRUE_POSITIVE for a in answers) / len(answers)


def _rates_by_group(nonresponse: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    groups: dict[str, dict[str, float | None]] = {}
    for row in nonresponse.get("levels", []):
        groups.setdefault(row["variable"], {})[row["level"]] = _rounded(row["rate"])
    return groups


def summarise_experiment(slug: str, clock: Clock) -> dict[str, Any]:
    """The wording experiment's arms and analysis, with its recorded decision. Commits."""
    analysis = analyze_experiment(slug)
    decision = analysis.decision
    if decision is not None:
        analysis, _recorded = record_decision(slug, clock)
    comparison = analysis.comparison
    return {
        "slug": slug,
        "arms": [
            {"name": arm.arm, "n": arm.n, "dna": arm.dna, "rate": _rounded(arm.rate)}
            for arm in analysis.arms
        ],
        "odds_ratio": _rounded(comparison.odds_ratio) if comparison else None,
        "or_ci": [_rounded(v) for v in comparison.or_ci] if comparison else None,
        "risk_difference": _rounded(comparison.risk_difference) if comparison else None,
        "p_value": _rounded(comparison.p_value, 6) if comparison else None,
        "planned_n_per_arm": analysis.planned_n_per_arm,
        "decision": None if analysis.decision is None else analysis.decision.value,
        "reasons": analysis.reasons,
    }
