"""Template lint: opt-out reply words, placeholders, length and GSM-7 rewrites."""

from __future__ import annotations

import pytest

from app.core.sms import GSM7, MAX_BODY_CHARS, UCS2
from app.messaging import compose
from app.messaging.templates import Problem, TemplateCheck, check_catalogue, lint

CATALOGUE_LOCALES = ("en", "cy")


def _codes(problems: list[Problem], level: str = "error") -> list[str]:
    return [p.code for p in problems if p.level == level]


@pytest.mark.parametrize(
    ("text", "locale", "collides"),
    [
        ("Reply CANCEL to cancel your appointment", "en", True),
        ("Reply cancel to cancel your appointment", "en", True),
        ("Reply 'CANCEL' to cancel", "en", True),
        ("Reply with CANCEL to cancel", "en", True),
        ("Reply with cancel to cancel", "en", True),
        ("Text END to finish", "en", True),
        ("text end to finish", "en", True),
        ("Send QUIT to leave the survey", "en", True),
        ("Answer REVOKE to withdraw", "en", True),
        ("To cancel, REPLY CANCEL", "en", True),
        ("If you want to cancel, send us the word CANCEL.", "en", True),
        ("Reply OPTOUT to opt out", "en", True),  # a Twilio word other than STOP
        ("Reply 2 to cancel", "en", False),
        ("Reply 1 to confirm, 2 to cancel or 3 to ask for a new time.", "en", False),
        ("Reply STOP to opt out", "en", False),
        ("Reply stop to opt out", "en", False),
        ("Reply START to opt back in", "en", False),
        ("Reply HELP for help", "en", False),
        ("Reply 1A to confirm A, 2A to cancel A", "en", False),
        ("We will cancel it if you cannot come. Reply 2 to cancel.", "en", False),
        ("The NHS clinic will end the call at 5.", "en", False),
    ],
)
def test_english_reply_instructions(text: str, locale: str, collides: bool) -> None:
    codes = _codes(lint(text, locale=locale))
    assert ("reply-word-opts-out" in codes) is collides


@pytest.mark.parametrize(
    ("text", "collides"),
    [
        ("Atebwch CANCEL i ganslo", True),
        ("Atebwch cancel i ganslo", True),
        ("Anfonwch END i orffen", True),
        ("Tecstiwch quit i adael", True),
        ("Atebwch gyda CANCEL i ganslo", True),
        ("Reply CANCEL i ganslo", True),  # English verbs count in every locale
        ("Atebwch JOOJI i optio allan", True),  # another locale's opt-out word
        ("Atebwch 2 i ganslo", False),
        ("Atebwch CANSLO i ganslo", False),  # Welsh for cancel is no opt-out keyword
        ("Atebwch STOP i optio allan", False),
        ("Anfonwch STOPIO i optio allan", False),  # Welsh's own opt-out word
        ("Atebwch DECHRAU i ddechrau eto", False),
        ("Atebwch gyda rhif a llythyren: 1A i gadarnhau A", False),
    ],
)
def test_welsh_reply_instructions(text: str, collides: bool) -> None:
    codes = _codes(lint(text, locale="cy"))
    assert ("reply-word-opts-out" in codes) is collides


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("Reply STOPIO to opt out", "en"),  # STOPIO is Welsh's word, not English's
        ("Odpowiedz CANCEL aby anulować", "pl"),
        ("Responda END para terminar", "pt"),
    ],
)
def test_opt_out_words_of_other_locales_are_refused(text: str, locale: str) -> None:
    assert "reply-word-opts-out" in _codes(lint(text, locale=locale))


def test_opt_out_error_names_the_word_and_twilio() -> None:
    [problem] = lint("Reply CANCEL to cancel", locale="en")
    assert problem == Problem("error", "reply-word-opts-out", problem.message)
    assert "'CANCEL'" in problem.message
    assert "Twilio" in problem.message


def test_a_clinic_name_placeholder_is_not_read_as_a_reply_word() -> None:
    assert lint("%(clinic)s: Reply 2 to cancel", locale="en") == []


@pytest.mark.parametrize(
    ("text", "expected", "errors"),
    [
        ("On %(date)s at %(time)s.", {"date", "time"}, []),
        ("You have %(count)d appointments.", {"count"}, []),
        ("On %(date)s.", {"date", "time"}, ["missing-placeholder"]),
        ("On %(date)s at %(time)s by %(doctor)s.", {"date", "time"}, ["unknown-placeholder"]),
        ("On %(day)s.", {"date"}, ["missing-placeholder", "unknown-placeholder"]),
        ("Save 100%% of the time.", set(), []),
        ("Save 100% of the time.", set(), ["bad-percent"]),
        ("Your score is 100%", set(), ["bad-percent"]),
        ("On %s.", set(), ["bad-percent"]),
        ("On %(date).", {"date"}, ["bad-percent", "missing-placeholder"]),
        ("On %(date)s and 50% more.", None, ["bad-percent"]),  # no expectation given
        ("On %(anything)s.", None, []),
    ],
)
def test_placeholders(text: str, expected: set[str] | None, errors: list[str]) -> None:
    assert sorted(_codes(lint(text, locale="en", expected_placeholders=expected))) == errors


def test_a_text_without_bad_percent_formats() -> None:
    # What the lint accepts must actually format with the expected values.
    text = "%(clinic)s: 100%% sure on %(date)s"
    assert lint(text, locale="en", expected_placeholders={"clinic", "date"}) == []
    assert text % {"clinic": "C", "date": "D"} == "C: 100% sure on D"


@pytest.mark.parametrize(
    ("length", "too_long"),
    [(MAX_BODY_CHARS - 1, False), (MAX_BODY_CHARS, False), (MAX_BODY_CHARS + 1, True)],
)
def test_body_length(length: int, too_long: bool) -> None:
    text = ("Reply 1 to confirm. " * 100)[:length]
    assert len(text) == length
    assert ("too-long" in _codes(lint(text, locale="en"))) is too_long


@pytest.mark.parametrize(
    ("text", "rewrite"),
    [
        ("Reply \u201c1\u201d to confirm", 'Reply "1" to confirm'),
        ("We\u2019ll see you soon", "We'll see you soon"),
        ("Clinic \u2013 reply 1 to confirm", "Clinic - reply 1 to confirm"),
        ("At 10:30\u202fAM", "At 10:30 AM"),
        ("Please wait\u2026", "Please wait..."),
    ],
)
def test_gsm_rewrite_is_offered(text: str, rewrite: str) -> None:
    problems = lint(text, locale="en")
    assert _codes(problems) == []
    [warning] = [p for p in problems if p.level == "warning"]
    assert warning.code == "gsm-rewrite-available"
    assert repr(rewrite) in warning.message


@pytest.mark.parametrize(
    "text",
    [
        "Reply 1 to confirm",  # already GSM-7
        "Dewch i\u2019r clinig am ddŵr",  # ŵ has no faithful GSM-7 form
        "Please reply \U0001f44d",  # emoji
    ],
)
def test_no_rewrite_is_offered_when_none_helps(text: str) -> None:
    assert lint(text, locale="cy") == []


def test_errors_come_before_warnings() -> None:
    problems = lint("\u201cReply CANCEL\u201d", locale="en")
    assert [p.level for p in problems] == ["error", "warning"]


@pytest.fixture(scope="module")
def catalogue_rows() -> list[TemplateCheck]:
    return check_catalogue(CATALOGUE_LOCALES)


def test_catalogue_covers_every_template_and_both_plural_forms(
    catalogue_rows: list[TemplateCheck],
) -> None:
    expected = {*compose.TEMPLATES, "which_one[1]", "which_one[2]"}
    for locale in CATALOGUE_LOCALES:
        kinds = {row.kind for row in catalogue_rows if row.locale == locale}
        assert kinds == expected


@pytest.mark.parametrize("locale", CATALOGUE_LOCALES)
def test_every_catalogue_template_lints_without_errors(
    catalogue_rows: list[TemplateCheck], locale: str
) -> None:
    # The guard that no template ever asks a patient to reply CANCEL (or END, QUIT...).
    errors = {
        row.kind: [p for p in row.problems if p.level == "error"]
        for row in catalogue_rows
        if row.locale == locale
    }
    assert {kind: found for kind, found in errors.items() if found} == {}


@pytest.mark.parametrize("locale", CATALOGUE_LOCALES)
def test_catalogue_rows_measure_the_rendered_body(
    catalogue_rows: list[TemplateCheck], locale: str
) -> None:
    for row in catalogue_rows:
        if row.locale != locale:
            continue
        assert row.encoding in {GSM7, UCS2}
        assert row.segments >= 1
        assert "%(" not in row.body
        assert "Riverside Clinic" in row.body or "clinic" not in _source(row.kind)


def test_english_catalogue_is_gsm7(catalogue_rows: list[TemplateCheck]) -> None:
    assert {row.encoding for row in catalogue_rows if row.locale == "en"} == {GSM7}


def test_a_locale_without_a_catalogue_is_reported_untranslated() -> None:
    rows = check_catalogue(["pl"])
    assert rows
    assert all("untranslated" in _codes(list(row.problems), "warning") for row in rows)
    assert all(row.body.startswith(("Riverside", "Thank", "Your", "You", "Sorry")) for row in rows)


def _source(kind: str) -> str:
    if kind.startswith("which_one"):
        return " ".join(compose.WHICH_ONE)
    return compose.TEMPLATES[kind]
