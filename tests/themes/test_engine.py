"""The keyword baseline, the code-book data, and a model's train/suggest round trip."""

from __future__ import annotations

import io

import numpy as np
import pytest

from app.core.locales import SUPPORTED_LOCALES
from app.simulator.comments import generate_comments
from app.themes.framework import framework
from app.themes.keywords import keyword_locales, keyword_sentiment, keyword_status, keyword_themes
from app.themes.learning import train
from app.themes.model import Example, ThemeModel


def test_the_framework_names_are_as_published() -> None:
    shipped = framework()
    assert len(shipped.themes) == 32
    assert len(shipped.categories) == 10
    assert shipped.by_name("staff manner &personal attributes") is not None
    assert shipped.by_name("Transport to/from services") == shipped.by_key(
        "transport_to_from_services"
    )


def test_every_locale_has_draft_keyword_lists() -> None:
    assert set(keyword_locales()) == set(SUPPORTED_LOCALES)
    assert keyword_status() == "draft"


@pytest.mark.parametrize(
    ("locale", "text", "theme", "sentiment"),
    [
        (
            "en",
            "The nurse was rude and we waited three hours",
            "staff_manner_personal_attributes",
            5,
        ),
        ("en", "Lovely friendly staff, thank you", "staff_manner_personal_attributes", 1),
        ("cy", "Staff caredig iawn, diolch", "staff_manner_personal_attributes", 1),
        ("pl", "Nie ma gdzie zaparkować", "parking", None),
        ("ro", "Am așteptat două ore", "timeliness_of_care", 4),
        ("pt", "As casas de banho estavam sujas", "cleanliness_tidiness_infection_control", 4),
        (
            "es",
            "Me explicó todo muy bien, gracias",
            "information_directly_from_staff_during_care",
            2,
        ),
        ("lt", "Ilgai laukiau registratūroje", "timeliness_of_care", 4),
        ("so", "Waxaan sugay laba saacadood", "timeliness_of_care", 4),
        ("ur", "پارکنگ بہت مشکل تھی", "parking", None),
        ("ar", "الموظفون لطيف جدا شكرا", "staff_manner_personal_attributes", 1),
        ("bn", "খাবার খুব ভালো ছিল", "food_drink_provision_facilities", 2),
        ("pa", "ਦਵਾਈ ਸਮੇਂ ਸਿਰ ਮਿਲੀ", "supplying_understanding_medication", None),
        ("gu", "પાર્કિંગ મળ્યું નહીં", "parking", None),
        ("zh_Hans", "护士态度很好，谢谢", "staff_manner_personal_attributes", 1),
    ],
)
def test_keyword_baseline_per_locale(
    locale: str, text: str, theme: str, sentiment: int | None
) -> None:
    found = keyword_themes(text, locale)
    assert theme in [s.key for s in found]
    assert all(0 < s.score <= 1 for s in found)
    assert keyword_sentiment(text, locale) == sentiment


def test_nothing_found_in_words_it_does_not_know() -> None:
    assert keyword_themes("zzz qqq", "en") == []
    assert keyword_sentiment("zzz qqq", "en") is None


@pytest.fixture(scope="module")
def trained() -> tuple[ThemeModel, list[str]]:
    names = {t.key: t.name for t in framework().themes}
    examples = [
        Example(c.text, tuple(names[k] for k in c.themes), c.sentiment, c.locale)
        for c in generate_comments(600, seed=11)
    ]
    labels = [t.name for t in framework().themes]
    return train(examples, labels, seed=1), labels


def test_a_model_learns_and_suggests(trained: tuple[ThemeModel, list[str]]) -> None:
    model, _labels = trained
    assert model.metrics["held_out"] == 120
    assert model.metrics["held_out_macro_f1"] > 0.8
    (rude, parking) = model.predict(["the receptionist was rude", "nowhere to park"])
    assert rude.themes[0].name == "Staff manner & personal attributes"
    assert parking.themes[0].name == "Parking"
    scores = [s.score for s in rude.themes]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)
    assert rude.sentiment in (4, 5)


def test_a_model_is_kept_as_plain_arrays(trained: tuple[ThemeModel, list[str]]) -> None:
    model, _ = trained
    data = model.to_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)
    again = ThemeModel.from_bytes(data)
    texts = ["toalety były brudne", "the doctor explained everything"]
    assert [p.themes[0].name for p in again.predict(texts)] == [
        p.themes[0].name for p in model.predict(texts)
    ]
    with pytest.raises(ValueError, match="not a WeSaid themes model"):
        ThemeModel.from_bytes(b"\x80\x04K\x01.")  # a pickle is refused, not run


def test_nothing_to_learn_is_an_error() -> None:
    with pytest.raises(ValueError, match="no coded comments"):
        train([Example("hello", ())], ["Parking"])


def test_a_locale_the_model_never_saw_is_read_by_its_keywords() -> None:
    names = {t.key: t.name for t in framework().themes}
    english = [
        Example(c.text, tuple(names[k] for k in c.themes), c.sentiment, c.locale)
        for c in generate_comments(300, seed=4, locales=("en",))
    ]
    model = train(english, [t.name for t in framework().themes])
    assert model.locales == {"en": 300}
    (polish,) = model.predict(["Czekałem dwie godziny, nie ma gdzie zaparkować"], ["pl"])
    assert {s.name for s in polish.themes} >= {"Timeliness of care", "Parking"}
    assert polish.sentiment == 4  # from the Polish keywords: one negative word
