"""How to speak to one patient: their language chain and their clinic's wording.

Every patient-facing text goes through a `Speaker`: the SMS and WhatsApp composers, the
telephone prompts and the survey web form. The chain is patient locale → base language
→ clinic default → English (`app.core.locales.fallback_chain`); a clinic's override in a
locale of the chain wins over the catalogue from that locale on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.clinics.models import Clinic
from app.messaging import compose
from app.messaging.templates import overrides_for
from app.patients.models import Patient


@dataclass(frozen=True)
class Speaker:
    """Renders texts in one patient's language with their clinic's wording."""

    chain: tuple[str, ...]
    overrides: compose.Overrides
    #: The clinic's time zone, for dates and times.
    timezone: str = "Europe/London"

    @property
    def locale(self) -> str:
        """The locale the patient actually reads: the first of the chain with a catalogue."""
        return compose.translator(self.chain)[1]

    def localise(self, template: str) -> tuple[str, str]:
        """The text of `template` (a gettext message id) and the locale it is in."""
        return compose.localise(template, self.chain, self.overrides)

    def compose(self, template: str, **values: object) -> compose.Composed:
        """`template` filled with `values`, ready to send."""
        return compose.compose(template, self.chain, self.overrides, **values)

    def say(self, template: str, **values: object) -> str:
        """The body of `compose`."""
        return self.compose(template, **values).body

    def when(self, instant: datetime, locale: str | None = None) -> tuple[str, str]:
        """The date ("Tuesday 3 March") and time ("10:30") of `instant` in the clinic's
        zone, written for `locale` (by default the first of the chain)."""
        zone = ZoneInfo(self.timezone)
        return compose.format_when(instant, zone, locale or self.chain[0])


def speaker_for(
    patient: Patient,
    clinic: Clinic,
    *,
    languages: Collection[str] | None = None,
    overrides: compose.Overrides | None = None,
) -> Speaker:
    """The speaker for `patient` of `clinic`; `languages`, when given, keeps only the
    locales that can be used (a telephone voice), English always remaining. The
    clinic's own wording is read unless given (`overrides`, read for a batch)."""
    chain = compose.chain_for(patient.locale, clinic.default_locale)
    if languages is not None:
        chain = tuple(code for code in chain if code in languages) or ("en",)
    if overrides is None:
        overrides = overrides_for(clinic.id)
    return Speaker(chain, overrides, clinic.timezone)
