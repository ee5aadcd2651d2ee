"""Survey comments collected for coding, and theme shares weighted like every estimate."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import select

from app.audit.service import SYSTEM
from app.core.errors import Invalid
from app.extensions import db
from app.results.estimates import weighted_proportion
from app.results.models import ResultSnapshot, SurveyResponse
from app.results.place_weighting import respondent_weighting, snapshot_weighting
from app.results.queries import respondent_weights
from app.results.service import refresh_snapshot
from app.themes import service
from app.themes.codebook import codebook
from app.themes.models import ThemeComment
from app.themes.shares import theme_shares
from tests.results.cohorts import survey_months
from tests.world import World

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def test_free_text_answers_are_collected_once_and_shares_are_weighted(world: World) -> None:
    clinic = world.clinic("north")
    (snapshot,) = survey_months(clinic, ["2026-02"], 200)
    org = clinic.organisation_id
    written = [
        r.id
        for r in db.session.scalars(select(SurveyResponse))
        if (r.answers.get("comment") or {}).get("status") == "answered"
    ]
    assert service.collect_comments(org, NOW) == len(written) > 20
    assert service.collect_comments(org, NOW) == 0
    comments = db.session.scalars(select(ThemeComment).order_by(ThemeComment.id)).all()
    assert {c.response_id for c in comments} == set(written)
    assert {(c.period, c.question_id, c.clinic_id) for c in comments} == {
        ("2026-02", "comment", clinic.id)
    }
    parking = next(t for t in codebook(org) if t.name == "Parking")
    for k, comment in enumerate(comments):
        service.confirm(comment.id, [parking.id] if k % 2 == 0 else [], 3, SYSTEM, NOW)

    (share,) = theme_shares("clinic-visit", "clinic", clinic.id, "2026-02", NOW)
    assert share.name == "Parking"
    responses = db.session.scalars(select(SurveyResponse)).all()
    by_invitation = respondent_weights(snapshot)
    weights = {
        r.id: by_invitation[r.invitation_id] for r in responses if r.invitation_id in by_invitation
    }
    mentions = {c.response_id for k, c in enumerate(comments) if k % 2 == 0}
    w = np.array(list(weights.values()))
    flags = np.array([1.0 if rid in mentions else 0.0 for rid in weights])
    assert share.n == len(weights)
    assert share.estimate == pytest.approx(float((w * flags).sum() / w.sum()))
    assert share.ci_low is not None
    assert share.ci_high is not None
    assert share.ci_low < share.estimate < share.ci_high
    # The interval allows for the raking (its calibration), as the snapshot's own
    # estimates do; weights taken as fixed would give another.
    found = respondent_weighting("clinic-visit", "clinic", clinic.id, "2026-02")
    assert found is not None
    stored = [by_invitation[int(i)] for i in found.invitation_ids]
    assert found.weighting.weights.tolist() == pytest.approx(stored)  # the snapshot's
    response_of = {r.invitation_id: r.id for r in responses}
    values = np.array(
        [1.0 if response_of[int(i)] in mentions else 0.0 for i in found.invitation_ids]
    )
    raked = weighted_proportion(values, found.weighting, ci="logit")
    fixed = weighted_proportion(values, found.weighting.weights, ci="logit")
    assert (share.ci_low, share.ci_high) == pytest.approx((raked.ci_low, raked.ci_high))
    assert (share.ci_low, share.ci_high) != pytest.approx((fixed.ci_low, fixed.ci_high))
    # The app keeps the weighting for the snapshot's inputs: asked again, it is not made
    # again.
    current, _ = refresh_snapshot("clinic-visit", "clinic", clinic.id, "2026-02", NOW)
    kept = snapshot_weighting(current)
    assert kept is not None
    assert snapshot_weighting(current) is kept
    assert kept.weighting.weights.tolist() == pytest.approx(stored)

    # A comment not coded yet is left out of the base, not counted as "not mentioned".
    comments[1].confirmed_at = None
    db.session.commit()
    (again,) = theme_shares("clinic-visit", "clinic", clinic.id, "2026-02", NOW)
    assert again.n == share.n - 1
    assert db.session.scalar(select(ResultSnapshot.version)) == 1  # the same weights

    # A group too small is suppressed.
    (small,) = theme_shares(
        "clinic-visit", "clinic", clinic.id, "2026-02", NOW, group="language", level="bn"
    )
    assert small.suppressed
    assert small.estimate is None
    assert small.n < 10
    with pytest.raises(Invalid, match="group"):
        theme_shares("clinic-visit", "clinic", clinic.id, "2026-02", NOW, group="postcode")
