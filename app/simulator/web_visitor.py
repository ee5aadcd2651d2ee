"""Simulated patients who answer a survey on its web form, as a browser would.

A persona who gets a survey link opens it (with their response propensity), reads the
form's hidden token, and submits their honest Friends and Family Test answer, sometimes
with a comment. The form is plain HTML, so two HTTP requests are all a browser does.
"""

from __future__ import annotations

import random
import re
import threading

import requests

from app.simulator import answers
from app.simulator.draws import Occurrences, keyed_rng
from app.simulator.population import Behaviour, Persona

LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9._-]+")
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
#: The FFT's option keys, in the simulator's answer order (1 Very good … 6 Don't know).
_FFT_KEYS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
COMMENT_RATE = 0.3


def survey_link(body: str) -> str | None:
    found = LINK.search(body)
    return found.group(0).rstrip(".,)") if found else None


class WebVisitor:
    """Fills in survey forms for the population; one HTTP session per visit.

    The n-th link a phone gets is answered the same way for the same seed, whatever
    links other phones got before it (visits to different phones may overlap).
    """

    def __init__(self, behaviour: Behaviour, seed: int, timeout: float = 10.0) -> None:
        self.behaviour = behaviour
        self.seed = seed
        self.timeout = timeout
        self.visits = 0
        self.submitted = 0
        self._lock = threading.Lock()
        self._occurrences = Occurrences()

    def visit(self, phone: str, link: str) -> bool:
        """Open `link` and answer, if the persona is minded to; True when submitted."""
        persona = self.behaviour.find(phone)
        if persona is None:
            return False
        # Not the link: it names the app's session, whose id is the app's business.
        rng = keyed_rng(self.seed, "web", phone, self._occurrences.next(phone))
        with self._lock:
            self.visits += 1
        if rng.random() >= persona.response_propensity:
            return False
        with requests.Session() as http:
            page = http.get(link, timeout=self.timeout)
            if page.status_code != 200:
                return False
            form = dict(_HIDDEN.findall(page.text))
            form |= self._answers(persona, rng)
            sent = http.post(link, data=form, timeout=self.timeout)
        with self._lock:
            self.submitted += sent.status_code == 200
        return sent.status_code == 200

    def _answers(self, persona: Persona, rng: random.Random) -> dict[str, str]:
        answer = self.behaviour.true_fft_answer(persona.phone)
        fields = {"fft": _FFT_KEYS[answer - 1]}
        if rng.random() < COMMENT_RATE:
            fields["comment"] = answers.free_text(rng, persona.locale, answer)
        return fields
