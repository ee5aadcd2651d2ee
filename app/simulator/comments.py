"""Synthetic free-text comments with known themes and sentiment, for tests, benchmarks and
the demo.

Each comment mentions one to three of the framework's themes (common ones more often, as
real feedback does), each in a phrase that is positive or negative by the comment's
sentiment, in English, Polish, Spanish or Welsh, with filler, mixed case and the odd
typo. The same seed gives the same comments. This is not real feedback: a model that
does well here has learned our phrases, so figures measured on it say that the engine
works end to end, not how well it would code what patients write.

The non-English phrases are synthetic test data written for the simulator, not reviewed.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: theme key → (positive phrases, negative phrases), per locale.
_PHRASES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "en": {
        "positive_experience_gratitude": (
            ("thank you all so much", "a really good experience overall"),
            ("not the experience I hoped for", "overall a let down"),
        ),
        "organisation_efficiency": (
            ("everything ran smoothly", "very well organised clinic"),
            ("the whole thing was chaotic", "total shambles with the admin"),
        ),
        "staff_manner_personal_attributes": (
            ("the staff were kind and friendly", "the nurse was lovely and caring"),
            ("the receptionist was rude", "staff were dismissive and unfriendly"),
        ),
        "competence_training": (
            ("the doctor was very knowledgeable", "clearly experienced and professional"),
            ("they made a mistake with my notes", "seemed not to know what they were doing"),
        ),
        "staffing_levels_responsiveness": (
            ("plenty of staff around to help", "someone came straight away when I called"),
            ("they were short staffed", "nobody came when I pressed the buzzer"),
        ),
        "contacting_services": (
            ("easy to get through on the phone", "they rang me back the same day"),
            ("could never get through on the phone", "nobody answers the phone"),
        ),
        "appointment_arrangements": (
            ("booking the appointment was easy", "got an appointment quickly"),
            ("my appointment was cancelled twice", "the letter had the wrong date"),
        ),
        "appointment_method": (
            ("the video call worked well", "glad it was face to face"),
            ("a phone appointment was not enough", "the online link did not work"),
        ),
        "timeliness_of_care": (
            ("seen on time", "hardly any wait at all"),
            ("waited over two hours", "the clinic was running very late"),
        ),
        "unspecified_communication": (
            ("good communication", "communication was great"),
            ("poor communication", "communication could be better"),
        ),
        "staff_listening_understanding_involving_patients": (
            ("they listened to my concerns", "I felt understood and involved"),
            ("nobody listened to me", "my concerns were brushed aside"),
        ),
        "information_directly_from_staff_during_care": (
            ("the doctor explained everything", "all my questions were answered"),
            ("nothing was explained to me", "my questions went unanswered"),
        ),
        "information_provision_guidance": (
            ("the leaflet was really useful", "good advice on what to do next"),
            ("no information given", "the advice on the website was useless"),
        ),
        "being_kept_informed_clarity_consistency_of_information": (
            ("kept up to date all along", "clear and consistent updates"),
            ("nobody kept me informed", "mixed messages from different people"),
        ),
        "interaction_with_family_carers": (
            ("my husband was made welcome", "they involved my daughter"),
            ("my carer was not allowed in", "my family were ignored"),
        ),
        "continuity_of_care": (
            ("saw the same doctor each time", "the referral was quick"),
            ("a different doctor every time", "the referral got lost"),
        ),
        "discharge": (
            ("the discharge was well planned", "went home with everything I needed"),
            ("discharged without any plan", "waited all day to be discharged"),
        ),
        "supplying_understanding_medication": (
            ("my medication was sorted quickly", "the pharmacist explained my tablets"),
            ("my prescription was wrong", "ran out of my medicine"),
        ),
        "pain_management": (
            ("my pain was well managed", "pain relief came quickly"),
            ("left in pain for hours", "nobody gave me pain relief"),
        ),
        "cleanliness_tidiness_infection_control": (
            ("spotless and clean", "the toilets were very clean"),
            ("the toilets were dirty", "the ward was filthy"),
        ),
        "sensory_experience": (
            ("nice and quiet", "a calm, well lit room"),
            ("far too noisy", "freezing cold in the waiting room"),
        ),
        "environment_facilities_equipment": (
            ("comfortable waiting room", "modern equipment and facilities"),
            ("the chairs were broken", "the waiting area is too small"),
        ),
        "food_drink_provision_facilities": (
            ("the food was tasty", "plenty of tea and coffee"),
            ("the food was cold", "no water available"),
        ),
        "service_location": (
            ("handy location close to home", "easy to find"),
            ("far too far from home", "hard to find the clinic"),
        ),
        "transport_to_from_services": (
            ("hospital transport was on time", "good bus links"),
            ("the taxi never came", "no bus goes there"),
        ),
        "parking": (
            ("parking was easy", "plenty of spaces in the car park"),
            ("nowhere to park", "the parking charges are too high"),
        ),
    },
    "pl": {
        "staff_manner_personal_attributes": (
            ("personel był bardzo miły",),
            ("recepcjonistka była niegrzeczna",),
        ),
        "timeliness_of_care": (("przyjęto mnie punktualnie",), ("czekałem ponad dwie godziny",)),
        "appointment_arrangements": (("łatwo umówić wizytę",), ("moją wizytę odwołano dwa razy",)),
        "information_directly_from_staff_during_care": (
            ("lekarz wszystko wyjaśnił",),
            ("nikt mi niczego nie wyjaśnił",),
        ),
        "cleanliness_tidiness_infection_control": (
            ("wszędzie było czysto",),
            ("toalety były brudne",),
        ),
        "parking": (("łatwo zaparkować",), ("nie ma gdzie zaparkować",)),
        "contacting_services": (("łatwo się dodzwonić",), ("nie można się dodzwonić",)),
        "positive_experience_gratitude": (("dziękuję bardzo",), ("rozczarowujące doświadczenie",)),
    },
    "es": {
        "staff_manner_personal_attributes": (
            ("el personal fue muy amable",),
            ("la recepcionista fue grosera",),
        ),
        "timeliness_of_care": (("me atendieron a tiempo",), ("esperé más de dos horas",)),
        "appointment_arrangements": (("fue fácil pedir cita",), ("cancelaron mi cita dos veces",)),
        "information_directly_from_staff_during_care": (
            ("el médico me lo explicó todo",),
            ("nadie me explicó nada",),
        ),
        "cleanliness_tidiness_infection_control": (
            ("todo estaba limpio",),
            ("los baños estaban sucios",),
        ),
        "parking": (("fácil aparcar",), ("no hay donde aparcar",)),
        "contacting_services": (
            ("fácil contactar por teléfono",),
            ("nunca contestan el teléfono",),
        ),
        "positive_experience_gratitude": (("muchas gracias",), ("una experiencia decepcionante",)),
    },
    "cy": {
        "staff_manner_personal_attributes": (
            ("roedd y staff yn garedig iawn",),
            ("roedd y dderbynfa yn anghwrtais",),
        ),
        "timeliness_of_care": (("cefais fy ngweld ar amser",), ("bu rhaid aros dwy awr",)),
        "appointment_arrangements": (
            ("hawdd trefnu apwyntiad",),
            ("cafodd fy apwyntiad ei ganslo",),
        ),
        "parking": (("digon o le i barcio",), ("dim lle i barcio",)),
        "positive_experience_gratitude": (("diolch yn fawr",), ("profiad siomedig",)),
    },
}
_FILLER = ("", "", "to be honest", "overall", "this time", "as usual", "I must say")
#: Relative frequency of each theme (the staff and access themes dominate real feedback).
THEME_WEIGHTS = {
    "staff_manner_personal_attributes": 8,
    "positive_experience_gratitude": 6,
    "timeliness_of_care": 5,
    "appointment_arrangements": 4,
    "information_directly_from_staff_during_care": 3,
    "staff_listening_understanding_involving_patients": 3,
    "competence_training": 3,
    "contacting_services": 3,
    "parking": 2,
    "cleanliness_tidiness_infection_control": 2,
}


@dataclass(frozen=True)
class SyntheticComment:
    id: str
    text: str
    locale: str
    themes: tuple[str, ...]  # theme keys
    sentiment: int  # 1 very positive to 5 very negative


def generate_comments(
    n: int, seed: int = 0, locales: Sequence[str] = ("en", "en", "en", "pl", "es", "cy")
) -> list[SyntheticComment]:
    """`n` comments drawn deterministically from `seed`, in `locales` (repeat one to make
    it more common)."""
    rng = random.Random(seed)
    comments = []
    for index in range(n):
        locale = rng.choice(locales)
        sentiment = rng.choices((1, 2, 3, 4, 5), weights=(5, 3, 1, 2, 2))[0]
        text, chosen = themed_comment(rng, locale, sentiment)
        comments.append(SyntheticComment(f"c{seed}-{index}", text, locale, chosen, sentiment))
    return comments


def themed_comment(rng: random.Random, locale: str, sentiment: int) -> tuple[str, tuple[str, ...]]:
    """One comment drawn with `rng`: its text in `locale` (English phrases where the
    locale has none for a theme) and the keys of the themes it mentions, common themes
    more often, each phrase as positive or negative as `sentiment` (1 to 5)."""
    english = _PHRASES["en"]
    keys = list(english)
    weights = [THEME_WEIGHTS.get(key, 1) for key in keys]
    chosen = list(dict.fromkeys(rng.choices(keys, weights, k=rng.choice((1, 1, 2, 2, 3)))))
    parts = []
    for key in chosen:
        positive = sentiment < 3 or (sentiment == 3 and rng.random() < 0.5)
        phrases = _PHRASES.get(locale, {}).get(key) or english[key]
        parts.append(rng.choice(phrases[0 if positive else 1]))
    text = _noisy(rng, f"{rng.choice(_FILLER)} {', '.join(parts)}".strip(" ,"))
    return text, tuple(chosen)


def themed_locales() -> tuple[str, ...]:
    """The locales comments are written in (others would get English phrases)."""
    return tuple(_PHRASES)


def _noisy(rng: random.Random, text: str) -> str:
    if rng.random() < 0.2 and len(text) > 8:  # one dropped letter
        cut = rng.randrange(1, len(text) - 1)
        text = text[:cut] + text[cut + 1 :]
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    return text + rng.choice((".", "", "!", " :)"))


def write_labelled_csv(
    path: Path, comments: Sequence[SyntheticComment], names: dict[str, str]
) -> None:
    """Write `comments` as a labelled CSV (id,text,themes,sentiment,locale); `names` maps
    theme keys to the framework's names."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text", "themes", "sentiment", "locale"])
        for c in comments:
            themes = ";".join(names[key] for key in c.themes)
            writer.writerow([c.id, c.text, themes, c.sentiment, c.locale])
