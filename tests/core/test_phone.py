"""Tests for app/core/phone.py: normalising to E.164 and the number-type policy."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from app.core.phone import CHANNELS, PhoneRejected, mask, normalise

NBSP = "\u00a0"
NNBSP = "\u202f"
RLM = "\u200f"

ACCEPTED = [
    # raw input, channel, expected E.164
    ("07400 123456", "sms", "+447400123456"),
    ("07400123456", "sms", "+447400123456"),
    ("(07400) 123-456", "sms", "+447400123456"),
    ("+44 (0)7400 123456", "sms", "+447400123456"),
    ("+44 0 7400 123456", "sms", "+447400123456"),
    ("+44 07400 123456", "sms", "+447400123456"),
    ("0044 7400 123456", "sms", "+447400123456"),
    ("447400123456", "sms", "+447400123456"),
    ("  07400 123456  ", "sms", "+447400123456"),
    (f"07400{NBSP}123{NBSP}456", "sms", "+447400123456"),
    (f"07400{NNBSP}123456", "sms", "+447400123456"),
    (f"{RLM}07400 123456{RLM}", "sms", "+447400123456"),
    ("07400.123.456", "sms", "+447400123456"),
    ("07400-123-456", "sms", "+447400123456"),
    ("07400 123 456", "sms", "+447400123456"),
    ("\u0660\u0667\u0664\u0660\u0660\u0661\u0662\u0663\u0664\u0665\u0666", "sms", "+447400123456"),
    ("\uff10\uff17\uff14\uff10\uff10\uff11\uff12\uff13\uff14\uff15\uff16", "sms", "+447400123456"),
    ("07911 123456", "sms", "+447911123456"),
    ("07500 123456", "whatsapp", "+447500123456"),
    ("07800 123456", "voice", "+447800123456"),
    # Crown dependencies share +44 and count as UK.
    ("07781 123456", "sms", "+447781123456"),  # Guernsey
    ("07797 123456", "sms", "+447797123456"),  # Jersey
    ("07624 123456", "sms", "+447624123456"),  # Isle of Man
    ("+44 7624 123456", "whatsapp", "+447624123456"),
    # Landlines only for voice.
    ("020 7946 0123", "voice", "+442079460123"),
    ("0113 496 0123", "voice", "+441134960123"),
    ("+44 1534 712345", "voice", "+441534712345"),  # Jersey landline
]


@pytest.mark.parametrize(("raw", "channel", "expected"), ACCEPTED)
def test_accepted_numbers_normalise_to_e164(raw: str, channel: str, expected: str) -> None:
    assert normalise(raw, channel) == expected


# Dashes that editors put in place of a typed hyphen-minus: each separates digits only.
UNICODE_DASHES = [
    ("\u2010", "hyphen"),
    ("\u2011", "non-breaking hyphen"),
    ("\u2012", "figure dash"),
    ("\u2013", "en dash"),
    ("\u2014", "em dash"),
    ("\u2015", "horizontal bar"),
    ("\u2212", "minus sign"),
    ("\uff0d", "full-width hyphen-minus"),
]


@pytest.mark.parametrize(
    ("template", "channel", "expected"),
    [
        ("07400{d}123{d}456", "sms", "+447400123456"),
        ("07400 {d} 123456", "sms", "+447400123456"),
        ("+44{d}7400{d}123456", "whatsapp", "+447400123456"),
        ("+44 (0) 7400{d}123{d}456", "sms", "+447400123456"),
        ("0044{d}7624{d}123456", "sms", "+447624123456"),
        ("020{d}7946{d}0123", "voice", "+442079460123"),
        ("{d}07400123456", "sms", "+447400123456"),  # a stray leading mark from a formula
        ("07400{d}{d}123456{d}", "sms", "+447400123456"),
    ],
)
@pytest.mark.parametrize(("dash", "name"), UNICODE_DASHES)
def test_unicode_hyphens_and_minus_signs_separate_digits(
    template: str, channel: str, expected: str, dash: str, name: str
) -> None:
    assert normalise(template.format(d=dash), channel) == expected


@pytest.mark.parametrize(
    ("raw", "channel", "reason_code"),
    [
        ("0800\u2013123\u20134567", "sms", "toll_free"),  # the policy still applies
        ("020\u20117946\u20110123", "sms", "landline"),
        ("07400\u2013FLOWERS", "sms", "invalid"),  # no letters behind a dash
        ("07400\u2013123456\u2013ext\u20135", "voice", "invalid"),
        ("\u2013\u2014\u2212", "sms", "invalid"),
        # Other dash-like marks are not in the list: refused, as before.
        ("07400\u2043123456", "sms", "invalid"),  # hyphen bullet
        ("07400\ufe63123456", "sms", "invalid"),  # small hyphen-minus
        ("07400\u2e3a123456", "sms", "invalid"),  # two-em dash
        ("07400\u30fc123456", "sms", "invalid"),  # katakana prolonged sound mark
        ("07400\u2053123456", "sms", "invalid"),  # swung dash
    ],
)
def test_dashes_change_nothing_else(raw: str, channel: str, reason_code: str) -> None:
    with pytest.raises(PhoneRejected) as caught:
        normalise(raw, channel)
    assert caught.value.reason_code == reason_code


@pytest.mark.parametrize(("dash", "name"), UNICODE_DASHES)
def test_a_dash_in_place_of_each_hyphen_gives_the_same_number(dash: str, name: str) -> None:
    for raw, channel, expected in ACCEPTED:
        if "-" in raw:
            assert normalise(raw.replace("-", dash), channel) == expected


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+447400123456", "GB"),
        ("+447781123456", "GG"),
        ("+447797123456", "JE"),
        ("+447624123456", "IM"),
    ],
)
def test_mobile_fixtures_are_real_mobiles_in_their_region(e164: str, region: str) -> None:
    number = phonenumbers.parse(e164, None)
    assert phonenumbers.is_valid_number(number)
    assert phonenumbers.number_type(number) == PhoneNumberType.MOBILE
    assert phonenumbers.region_code_for_number(number) == region


REJECTED = [
    # raw input, channel, reason code
    ("07012 345678", "sms", "personal_number"),
    ("07012 345678", "voice", "personal_number"),
    ("07640 123456", "sms", "pager"),
    ("07600 123456", "voice", "pager"),
    ("09012 345678", "sms", "premium_rate"),
    ("0911 123 4567", "voice", "premium_rate"),
    ("0871 234 5678", "sms", "premium_rate"),
    ("0845 123 4567", "sms", "premium_rate"),
    ("0800 123 4567", "sms", "toll_free"),
    ("0808 157 0000", "voice", "toll_free"),
    ("056 1234 5678", "sms", "voip"),
    ("0303 123 4567", "sms", "uan"),
    ("0330 123 4567", "voice", "uan"),
    ("020 7946 0123", "sms", "landline"),
    ("020 7946 0123", "whatsapp", "landline"),
    ("+44 1534 712345", "sms", "landline"),
    ("66777", "sms", "short_code"),
    ("88008", "sms", "short_code"),
    ("999", "voice", "short_code"),
    ("+33 6 12 34 56 78", "sms", "not_uk"),
    ("+1 202 555 0123", "sms", "not_uk"),
    ("0033 6 12 34 56 78", "voice", "not_uk"),
    ("+353 85 123 4567", "whatsapp", "not_uk"),
    ("abc", "sms", "invalid"),
    ("0800 FLOWERS", "voice", "invalid"),
    ("07400 123456 ext 5", "voice", "invalid"),
    ("07400 12345", "sms", "invalid"),
    ("07400 1234567", "sms", "invalid"),
    ("+44 66777", "sms", "invalid"),
    ("+", "sms", "invalid"),
    ("0044", "sms", "invalid"),
    ("07400 123456; DROP", "sms", "invalid"),
    ("", "sms", "empty"),
    ("   ", "sms", "empty"),
    (f"{NBSP}{RLM}", "voice", "empty"),
]


@pytest.mark.parametrize(("raw", "channel", "reason_code"), REJECTED)
def test_rejected_numbers_carry_their_reason(raw: str, channel: str, reason_code: str) -> None:
    with pytest.raises(PhoneRejected) as caught:
        normalise(raw, channel)
    assert caught.value.reason_code == reason_code


@pytest.mark.parametrize(("raw", "channel", "reason_code"), REJECTED)
def test_rejections_never_hold_the_number(raw: str, channel: str, reason_code: str) -> None:
    with pytest.raises(PhoneRejected) as caught:
        normalise(raw, channel)
    exc = caught.value
    input_digits = re.sub(r"\D", "", raw)
    for text in (str(exc), repr(exc), exc.reason_code, *map(str, exc.args)):
        # Prefixes such as "070" may be named; four digits in a row would be part of a number.
        assert re.search(r"\d{4}", text) is None
        for start in range(max(0, len(input_digits) - 3)):
            assert input_digits[start : start + 4] not in re.sub(r"\D", "", text)
    assert exc.__cause__ is None
    assert exc.__suppress_context__ or exc.__context__ is None


@pytest.mark.parametrize(
    ("raw", "channel", "message"),
    [
        ("07012 345678", "sms", "personal number (070) not accepted"),
        ("07640 123456", "sms", "pager (076) not accepted"),
        ("020 7946 0123", "sms", "landline: not accepted for SMS"),
        ("020 7946 0123", "whatsapp", "landline: not accepted for WhatsApp"),
        ("+33 6 12 34 56 78", "sms", "not a UK number"),
        ("abc", "sms", "not a valid number"),
        ("", "sms", "empty"),
    ],
)
def test_rejection_messages_read_as_reasons(raw: str, channel: str, message: str) -> None:
    with pytest.raises(PhoneRejected, match=re.escape(message)):
        normalise(raw, channel)


@pytest.mark.parametrize(
    ("raw", "channel", "allowed", "expected"),
    [
        ("+33 6 12 34 56 78", "sms", {"FR"}, "+33612345678"),
        ("0033 6 12 34 56 78", "whatsapp", {"FR", "PL"}, "+33612345678"),
        ("+48 512 345 678", "sms", {"FR", "PL"}, "+48512345678"),
        ("+33 1 23 45 67 89", "voice", {"FR"}, "+33123456789"),
        # +1 numbers do not say whether they are mobiles; the clinic allowed the region.
        ("+1 202 555 0123", "sms", {"US"}, "+12025550123"),
        ("+1 416 555 0123", "sms", {"CA"}, "+14165550123"),
        # A clinic setting never loosens the UK policy.
        ("07400 123456", "sms", {"FR"}, "+447400123456"),
    ],
)
def test_allowed_regions_accept_other_countries(
    raw: str, channel: str, allowed: set[str], expected: str
) -> None:
    assert normalise(raw, channel, allowed_regions=frozenset(allowed)) == expected


@pytest.mark.parametrize(
    ("raw", "channel", "allowed", "reason_code"),
    [
        ("+33 1 23 45 67 89", "sms", {"FR"}, "landline"),
        ("+33 6 12 34 56 78", "sms", {"PL"}, "not_uk"),
        ("+1 202 555 0123", "sms", {"CA"}, "not_uk"),
        ("+33 6 12", "sms", {"FR"}, "invalid"),
        ("07012 345678", "sms", {"FR"}, "personal_number"),
        ("020 7946 0123", "sms", {"GB"}, "landline"),
    ],
)
def test_allowed_regions_keep_the_rest_of_the_policy(
    raw: str, channel: str, allowed: set[str], reason_code: str
) -> None:
    with pytest.raises(PhoneRejected) as caught:
        normalise(raw, channel, allowed_regions=frozenset(allowed))
    assert caught.value.reason_code == reason_code


@pytest.mark.parametrize("channel", ["SMS", "email", "", "fax"])
def test_unknown_channel_is_a_plain_value_error(channel: str) -> None:
    with pytest.raises(ValueError, match="unknown channel") as caught:
        normalise("07400 123456", channel)
    assert type(caught.value) is ValueError


def test_channels_are_the_three_we_send_on() -> None:
    assert CHANNELS == ("sms", "whatsapp", "voice")


def test_default_channel_is_sms() -> None:
    with pytest.raises(PhoneRejected) as caught:
        normalise("020 7946 0123")
    assert caught.value.reason_code == "landline"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+447911123456", "+44******3456"),
        ("+442079460123", "+44******0123"),
        ("+33612345678", "+33*****5678"),
        ("+12025550123", "+1******0123"),
        ("+3531234567", "+353***4567"),
    ],
)
def test_mask_keeps_country_code_and_last_digits(e164: str, masked: str) -> None:
    assert mask(e164) == masked
    assert len(mask(e164)) == len(e164)


@pytest.mark.parametrize("bad", ["07911123456", "+44 7911 123456", "", "+", "+0123456789"])
def test_mask_refuses_non_e164_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164") as caught:
        mask(bad)
    assert re.search(r"\d{4}", str(caught.value)) is None
