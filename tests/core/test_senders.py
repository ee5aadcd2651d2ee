"""Kinds of sender and the rates each may send at: table tests and refusals that say why."""

from __future__ import annotations

import pytest

from app.core.senders import SenderKind, parse_rates, sender_kind


@pytest.mark.parametrize(
    ("sender", "kind"),
    [
        ("MG" + "a" * 32, SenderKind.MESSAGING_SERVICE),
        ("60123", SenderKind.SHORT_CODE),
        ("889900", SenderKind.SHORT_CODE),
        ("+448001234567", SenderKind.TOLL_FREE),
        ("+448081570000", SenderKind.TOLL_FREE),
        ("+18005550100", SenderKind.TOLL_FREE),
        ("+442071838750", SenderKind.LONG_CODE),
        ("+447700900123", SenderKind.LONG_CODE),
        ("+12025550100", SenderKind.LONG_CODE),
    ],
)
def test_each_sender_has_its_kind(sender: str, kind: SenderKind) -> None:
    assert sender_kind(sender) is kind


def test_rates_are_read_and_zero_means_not_paced() -> None:
    rates = parse_rates(" long_code=1, toll_free=3,short_code=100,messaging_service=0 ")
    assert rates == {
        SenderKind.LONG_CODE: 1.0,
        SenderKind.TOLL_FREE: 3.0,
        SenderKind.SHORT_CODE: 100.0,
    }
    assert parse_rates("") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("landline=1", "the kind must be one of"),
        ("long_code=fast", "the rate must be a number"),
        ("long_code=-1", "0 or more"),
        ("long_code=nan", "0 or more"),
        ("long_code=inf", "0 or more"),
    ],
)
def test_a_bad_rate_says_which_part_and_why(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as refused:
        parse_rates(text)
    assert text in str(refused.value)
