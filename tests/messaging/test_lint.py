"""Template lint: opt-out reply words, placeholders, length and GSM-7 rewrites."""

from __future__ import annotations

import re

import pytest

from app.core.locales import SUPPORTED_LOCALES
from app.core.sms import GSM7, MAX_BODY_CHARS, UCS2
from app.messaging import compose
from app.messaging.lint import (
    Problem,
    TemplateCheck,
    check_catalogue,
    lint,
    reply_words,
    sample_values,
)
from app.messaging.registry import template_sets, template_texts
from app.replies import texts as reply_texts
from app.surveys import texts
from app.wiring import wire

CATALOGUE_LOCALES = tuple(compose.catalogue_locales())


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


@pytest.mark.parametrize(
    ("text", "locale", "collides"),
    [
        ("回复CANCEL取消预约", "zh_Hans", True),  # no spaces: the Latin word is still found
        ("回复 END 结束", "zh_Hans", True),
        ("回复“jooji”取消预约", "zh_Hans", True),  # quoted, Somali's opt-out word
        ("回复2取消预约。回复STOP退订。", "zh_Hans", False),
        ("回复“跳过”可跳过此问题。", "zh_Hans", False),
        ("回复“退订”停止接收短信。", "zh_Hans", False),  # Chinese's own opt-out word
        ('وقفے کے لیے "توقف" بھیجیں۔', "ur", True),  # Arabic's opt-out word, in quotes
        ("وقفے کے لیے توقف بھیجیں۔", "ur", True),  # the word before a final verb
        ("منسوخی کے لیے CANCEL بھیجیں۔", "ur", True),
        ("منسوخی کے لیے 2 بھیجیں۔ پیغامات بند کرنے کے لیے STOP بھیجیں۔", "ur", False),
        ('"ہاں" یا "نہیں" بھیجیں۔', "ur", False),
        ("ਰੱਦ ਕਰਨ ਲਈ jooji ਭੇਜੋ।", "pa", True),
        ('"ਛੱਡੋ" ਭੇਜੋ।', "pa", False),
        ("অ্যাপয়েন্টমেন্ট বাতিল করতে QUIT পাঠান।", "bn", True),
        ("রদ করতে توقف পাঠান।", "bn", True),
        ('"হ্যাঁ" বা "না" পাঠান।', "bn", False),
        ("રદ કરવા માટે END મોકલો.", "gu", True),
        ('"હા" અથવા "ના" મોકલો.', "gu", False),
        ("أرسل STOPALL لإلغاء موعدك.", "ar", True),  # only STOP may be asked for
        ("أرسل jooji لإلغاء موعدك.", "ar", True),
        ("أرسل 2 للإلغاء. أرسل STOP لإيقاف الرسائل.", "ar", False),
        ('أرسل "نعم" أو "لا".', "ar", False),
        ("Odpowiedz TAK lub NIE.", "pl", False),
        ("Responda SAIR para cancelar.", "pt", False),  # Portuguese's own opt-out word
        ("Responda BAJA para cancelar la cita.", "pt", True),  # Spanish's, not Portuguese's
        ("Ku jawaab HAA ama MAYA.", "so", False),
        ("Responda opt out para cancelar.", "es", True),  # a two-word English opt-out
        ("Reply opt out to stop all messages.", "en", False),
    ],
)
def test_reply_instructions_in_other_scripts(text: str, locale: str, collides: bool) -> None:
    codes = _codes(lint(text, locale=locale))
    assert ("reply-word-opts-out" in codes) is collides


@pytest.mark.parametrize(
    ("text", "locale", "words"),
    [
        ("Reply YES or NO.", "en", ["YES", "NO"]),
        ("Reply with the word cancel", "en", ["cancel"]),
        ("回复STOP退订。", "zh_Hans", ["STOP"]),
        ("请回复“是”或“否”。", "zh_Hans", ["是", "否"]),
        ("ہاں بھیجیں۔", "ur", ["ہاں"]),
        ("بند کریں بھیجیں۔", "ur", ["کریں"]),
        ("ਸੁਨੇਹੇ ਬੰਦ ਕਰਨ ਲਈ STOP ਭੇਜੋ।", "pa", ["STOP"]),
        ("Atebwch IE neu NA.", "cy", ["IE", "NA"]),
        ("Just some text.", "en", []),
    ],
)
def test_reply_words(text: str, locale: str, words: list[str]) -> None:
    assert sorted(reply_words(text, locale)) == sorted(words)


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


@pytest.fixture(scope="module", autouse=True)
def _registered() -> None:
    """The texts every feature registers at start-up, as `create_app` would register
    them: without an app built earlier in the process, the registries are empty."""
    wire()


@pytest.fixture(scope="module")
def catalogue_rows() -> list[TemplateCheck]:
    return check_catalogue(CATALOGUE_LOCALES, template_sets())


# Counts whose plural form differs from every smaller count's, within 1..10: the
# which_one rows check_catalogue reports for each locale.
PLURAL_ROWS = {
    "en": (1, 2),
    "cy": (1, 2),  # forms zero, two, few, many and other share one text
    "pl": (1, 2, 5),  # wizytę, wizyty, wizyt
    "ro": (1, 2),  # "20 de programări" only from 20
    "ur": (1, 2),
    "pa": (1, 2),
    "bn": (1, 2),
    "gu": (1, 2),
    "ar": (1, 2, 3),  # one, two, few; many starts at 11
    "so": (1, 2),
    "pt": (1, 2),
    "lt": (1, 2, 10),  # vizitą, vizitus, vizitų
    "es": (1, 2),
    "zh_Hans": (1,),
}


def test_plural_row_table_covers_every_locale() -> None:
    assert set(PLURAL_ROWS) == set(SUPPORTED_LOCALES) == set(CATALOGUE_LOCALES)


@pytest.mark.parametrize("locale", CATALOGUE_LOCALES)
def test_catalogue_covers_every_template_survey_text_and_plural_form(
    catalogue_rows: list[TemplateCheck], locale: str
) -> None:
    plural_rows = {f"which_one[{count}]" for count in PLURAL_ROWS[locale]}
    expected = {*template_texts(), *plural_rows}
    kinds = [row.kind for row in catalogue_rows if row.locale == locale]
    assert sorted(kinds) == sorted(expected)


@pytest.mark.parametrize("locale", [code for code in CATALOGUE_LOCALES if code != "en"])
def test_every_locale_translates_every_text(
    catalogue_rows: list[TemplateCheck], locale: str
) -> None:
    untranslated = [
        row.kind
        for row in catalogue_rows
        if row.locale == locale and any(p.code == "untranslated" for p in row.problems)
    ]
    assert untranslated == []


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
    rows = check_catalogue(["fr"], template_sets())
    assert len(rows) == len(template_texts()) + 2
    assert all("untranslated" in _codes(list(row.problems), "warning") for row in rows)
    bodies = {row.kind: row.body for row in rows}
    assert bodies["reask"] == reply_texts.REASK
    assert bodies["prompt_yes_no"] == texts.YES_NO


@pytest.mark.parametrize(
    ("kind", "locale", "encoding", "contains"),
    [
        ("prompt_choose", "en", GSM7, "Reply with a number: 1 Very good, 2 Good, 3 Neither"),
        ("prompt_choose", "pl", UCS2, "1 Bardzo dobrze, 2 Dobrze, 3 Ani dobrze, ani źle"),
        ("prompt_scale", "en", GSM7, "from 1 (Very poor) to 5 (Very good)."),
        ("prompt_scale", "so", GSM7, "1 (Aad u xun) iyo 5 (Aad u wanaagsan)"),
        ("prompt_yes_no", "lt", GSM7, "Atsakykite TAIP arba NE."),
        ("prompt_yes_no", "cy", GSM7, "Atebwch IE neu NA."),
        ("web_invite", "en", GSM7, "https://example.org/s/Ab12Cd (open until Tuesday 3 March)"),
        ("web_invite", "es", UCS2, "(abierto hasta el martes, 3 de marzo)"),
        ("voice_choose", "en", GSM7, "Press 1 for Very good."),
        ("voice_choose", "zh_Hans", UCS2, "非常好请按1。"),
        ("voice_reminder", "cy", GSM7, "Pwyswch 1 i gadarnhau"),
        ("fft_very_good", "ar", UCS2, "جيدة جدًا"),
        ("survey_invite", "ur", UCS2, "STOP بھیجیں"),
        ("survey_hint_required", "cy", GSM7, "atebwch HEPGOR eto"),
    ],
)
def test_survey_texts_are_rendered_with_sample_values(
    catalogue_rows: list[TemplateCheck], kind: str, locale: str, encoding: str, contains: str
) -> None:
    [row] = [r for r in catalogue_rows if (r.kind, r.locale) == (kind, locale)]
    assert contains in row.body
    assert row.encoding == encoding
    assert row.problems == ()


@pytest.mark.parametrize("locale", CATALOGUE_LOCALES)
def test_sample_values_fill_every_placeholder(locale: str) -> None:
    values = sample_values(locale, count=3)
    names = set().union(*(_placeholders(source) for source in _all_sources()))
    # `count` is supplied by compose_plural itself.
    assert names - {"count"} <= set(values)
    assert str(values["list"]).count(")") == 3


def test_a_translation_with_a_typographic_quote_gets_a_rewrite() -> None:
    problems = lint("Odpowiedz \u201eTAK\u201d lub \u201eNIE\u201d.", locale="pl")
    [warning] = problems
    assert warning.code == "gsm-rewrite-available"
    assert '\'Odpowiedz "TAK" lub "NIE".\'' in warning.message


def test_a_survey_text_asking_for_cancel_is_an_error() -> None:
    problems = lint("Reply CANCEL to skip this question.", locale="en", expected_placeholders=set())
    assert _codes(problems) == ["reply-word-opts-out"]


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)", text))


def _all_sources() -> list[str]:
    return [*template_texts().values(), *reply_texts.WHICH_ONE]


def _source(kind: str) -> str:
    if kind.startswith("which_one"):
        return " ".join(reply_texts.WHICH_ONE)
    return template_texts()[kind]
