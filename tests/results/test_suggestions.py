"""What to try for a group that is not heard, from its response by channel: a table of
cases."""

from __future__ import annotations

from typing import Any

import pytest

from app.results.suggestions import Advice, ChannelRate, suggest, suggestions


def _cells(variable: str, level: str, **channels: tuple[int, int]) -> list[dict[str, Any]]:
    return [
        {"variable": variable, "level": level, "channel": c, "invited": i, "responded": r}
        for c, (i, r) in channels.items()
    ]


OLDEST = "age_band", "75+"


@pytest.mark.parametrize(
    ("channels", "advice", "usual", "best"),
    [
        # 75+ answer voice calls at 0.71 but SMS at 0.38: try calls.
        ({"sms": (100, 38), "voice": (24, 17)}, Advice.BETTER_CHANNEL, "sms", "voice"),
        # The most used channel already answers best.
        ({"sms": (100, 38), "voice": (24, 5)}, Advice.USUAL_IS_BEST, "sms", "sms"),
        # Another channel was used, but with too few of the group to count.
        ({"sms": (100, 38), "voice": (9, 9)}, Advice.ONE_CHANNEL, "sms", "sms"),
        ({"sms": (100, 38)}, Advice.ONE_CHANNEL, "sms", "sms"),
        # Nobody's channel reached ten invitations.
        ({"sms": (6, 1), "web": (3, 2)}, Advice.TOO_FEW, "sms", None),
        # A tie in rate goes to the usual channel: nothing better to suggest.
        ({"sms": (50, 10), "web": (10, 2)}, Advice.USUAL_IS_BEST, "sms", "sms"),
    ],
)
def test_the_advice_follows_the_figures(
    channels: dict[str, tuple[int, int]], advice: Advice, usual: str, best: str | None
) -> None:
    found = suggest(_cells(*OLDEST, **channels), [], *OLDEST)
    assert found.advice is advice
    assert found.usual is not None
    assert found.usual.channel == usual
    assert (found.best.channel if found.best else None) == best
    assert [c.channel for c in found.channels] == sorted(
        channels, key=lambda c: (-channels[c][0], c)
    )


def test_only_the_groups_own_cells_count() -> None:
    cells = [
        *_cells("age_band", "75+", sms=(80, 4), voice=(12, 7)),
        *_cells("age_band", "16-24", voice=(500, 400)),
        *_cells("sex", "75+", voice=(500, 1)),
    ]
    found = suggest(cells, [], "age_band", "75+")
    assert found.advice is Advice.BETTER_CHANNEL
    assert found.best == ChannelRate("voice", 12, 7)
    assert found.usual == ChannelRate("sms", 80, 4)


def test_a_clear_gap_is_one_whose_intervals_are_apart() -> None:
    wide = suggest(_cells(*OLDEST, sms=(30, 9), voice=(10, 5)), [], *OLDEST)
    assert wide.advice is Advice.BETTER_CHANNEL
    assert not wide.clear  # 30% against 50% of ten: the intervals overlap
    clear = suggest(_cells(*OLDEST, sms=(200, 10), voice=(40, 30)), [], *OLDEST)
    assert clear.clear
    low, high = clear.best.interval if clear.best else (0.0, 0.0)
    assert low < 0.75 < high


def test_a_flagged_channel_is_compared_with_the_other_channels() -> None:
    levels = [
        {"variable": "channel", "level": "sms", "invited": 200, "responded": 20, "flagged": True},
        {"variable": "channel", "level": "web", "invited": 60, "responded": 30, "flagged": False},
        {"variable": "age_band", "level": "75+", "invited": 9, "responded": 0, "flagged": False},
    ]
    found = suggestions({"levels": levels, "by_channel": []})
    assert len(found) == 1
    assert (found[0].variable, found[0].advice) == ("channel", Advice.BETTER_CHANNEL)
    assert found[0].usual == ChannelRate("sms", 200, 20)
    assert found[0].best == ChannelRate("web", 60, 30)


def test_every_flagged_group_gets_one_in_the_reports_order() -> None:
    levels = [
        {"variable": "age_band", "level": "16-24", "invited": 60, "responded": 2, "flagged": True},
        {
            "variable": "age_band",
            "level": "40-54",
            "invited": 80,
            "responded": 47,
            "flagged": False,
        },
        {"variable": "age_band", "level": "75+", "invited": 80, "responded": 10, "flagged": True},
    ]
    cells = [
        *_cells("age_band", "16-24", sms=(60, 2)),
        *_cells("age_band", "75+", sms=(68, 3), voice=(12, 7)),
    ]
    found = suggestions({"levels": levels, "by_channel": cells})
    assert [(s.level, s.advice) for s in found] == [
        ("16-24", Advice.ONE_CHANNEL),
        ("75+", Advice.BETTER_CHANNEL),
    ]
    # A report stored before the cells were kept says so rather than guessing.
    older = suggestions({"levels": levels})
    assert [s.advice for s in older] == [Advice.NOT_KEPT, Advice.NOT_KEPT]
