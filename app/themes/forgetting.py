"""What themes keep of patients' words, for erasure and the retention purge.

Comments to code keep no text of their own: a survey comment's words stay in its
survey response, which the surveys feature forgets. PALS contacts carry their text
and no patient identity, so erasure has nothing to find here; the retention purge
blanks the text of contacts older than the cut-off, in the clinics purged and in
their organisations' organisation-wide contacts. Their codes and demographics stay,
so theme figures and the report of who contacts PALS keep their counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from app.clinics.models import Clinic
from app.extensions import db
from app.patients.forgetting import Forgetter
from app.themes.models import PalsContact


def _nothing(_patient_id: int, _clinic_id: int, *_: Any) -> Mapping[str, int]:
    return {}


def purge_pals_text(clinic_ids: Sequence[int], cutoff: datetime) -> Mapping[str, int]:
    """Blank the text of PALS contacts dated before `cutoff` in these clinics and their
    organisations' organisation-wide contacts; counts them (nothing when none). Does not
    commit."""
    if not clinic_ids:
        return {}
    organisations = select(Clinic.organisation_id).where(Clinic.id.in_(list(clinic_ids)))
    result = db.session.execute(
        update(PalsContact)
        .where(
            PalsContact.text.is_not(None),
            PalsContact.contact_date < cutoff.date(),
            or_(
                PalsContact.clinic_id.in_(list(clinic_ids)),
                PalsContact.clinic_id.is_(None) & PalsContact.organisation_id.in_(organisations),
            ),
        )
        .values(text=None)
        .execution_options(synchronize_session=False)
    )
    blanked = int(getattr(result, "rowcount", 0) or 0)
    return {"pals_texts": blanked} if blanked else {}


FORGETTER = Forgetter(count=_nothing, erase=_nothing, purge=purge_pals_text)
