"""What to try for a group that is not being heard, drawn from its own figures (pure).

A snapshot keeps, for every group (a level of age band, sex, ethnic group, deprivation
quintile or language), how many of it were invited and how many answered by each channel
(`nonresponse.by_channel`, app.results.summary). For each flagged group the suggestion
compares two channels within that group:

- its usual channel: the one most of the group was invited by;
- its best channel: the highest response rate among the channels that at least
  `MIN_INVITED` of the group were invited by (a rate from fewer says too little).

| advice         | when                                                   |
|----------------|--------------------------------------------------------|
| better_channel | another channel answers better than the usual one      |
| one_channel    | no other channel reached `MIN_INVITED` in the group    |
| usual_is_best  | the usual channel already answers best                 |
| too_few        | no channel reached `MIN_INVITED`                       |
| not_kept       | the snapshot was made before `by_channel` was kept     |

A flagged channel (the group "invited by SMS") is compared with the other channels over
the whole cohort instead. Each rate carries its Wilson interval, and `clear` says whether
the two intervals are apart.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.results.nonresponse import response_interval

#: A channel's rate within a group counts only when at least this many were invited by it.
MIN_INVITED = 10


class Advice(enum.StrEnum):
    BETTER_CHANNEL = "better_channel"  # another channel answers better than the usual one
    ONE_CHANNEL = "one_channel"  # only the usual channel was used enough to compare
    USUAL_IS_BEST = "usual_is_best"  # the usual channel already answers best
    TOO_FEW = "too_few"  # no channel was used with enough of the group
    NOT_KEPT = "not_kept"  # the snapshot predates the response by channel within groups


@dataclass(frozen=True)
class ChannelRate:
    """Response by one channel within a group."""

    channel: str
    invited: int
    responded: int

    @property
    def rate(self) -> float:
        return self.responded / self.invited if self.invited else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        """The rate's 95% Wilson interval."""
        return response_interval(self.responded, self.invited)


@dataclass(frozen=True)
class Suggestion:
    """What the figures suggest for one flagged group."""

    variable: str
    level: str
    advice: Advice
    #: Every channel the group was invited by, most invited first.
    channels: tuple[ChannelRate, ...]
    usual: ChannelRate | None
    best: ChannelRate | None

    @property
    def clear(self) -> bool:
        """Whether the best channel's interval lies wholly above the usual one's."""
        if self.advice is not Advice.BETTER_CHANNEL or self.best is None or self.usual is None:
            return False
        return self.best.interval[0] > self.usual.interval[1]


def suggestions(nonresponse: Mapping[str, Any]) -> list[Suggestion]:
    """A suggestion for each flagged group of a snapshot's non-response report, in the
    report's order (`not_kept` for a report stored before `by_channel` was kept)."""
    levels = nonresponse.get("levels") or ()
    flagged = [(str(row["variable"]), str(row["level"])) for row in levels if row.get("flagged")]
    if "by_channel" not in nonresponse:
        return [Suggestion(v, level, Advice.NOT_KEPT, (), None, None) for v, level in flagged]
    cells = nonresponse["by_channel"]
    return [suggest(cells, levels, variable, level) for variable, level in flagged]


def suggest(
    cells: Sequence[Mapping[str, Any]],
    levels: Sequence[Mapping[str, Any]],
    variable: str,
    level: str,
) -> Suggestion:
    """The suggestion for one group (`variable` = `level`) from the stored cells."""
    if variable == "channel":
        return _for_channel(levels, level)
    channels = [
        ChannelRate(str(c["channel"]), int(c["invited"]), int(c["responded"]))
        for c in cells
        if c["variable"] == variable and c["level"] == level and c["invited"]
    ]
    channels.sort(key=lambda c: (-c.invited, c.channel))
    return _compare(variable, level, channels, channels[0] if channels else None)


def _for_channel(levels: Sequence[Mapping[str, Any]], channel: str) -> Suggestion:
    channels = [
        ChannelRate(str(row["level"]), int(row["invited"]), int(row["responded"]))
        for row in levels
        if row["variable"] == "channel" and row["invited"]
    ]
    channels.sort(key=lambda c: (-c.invited, c.channel))
    usual = next((c for c in channels if c.channel == channel), None)
    return _compare("channel", channel, channels, usual)


def _compare(
    variable: str, level: str, channels: list[ChannelRate], usual: ChannelRate | None
) -> Suggestion:
    counted = [c for c in channels if c.invited >= MIN_INVITED]
    if usual is None or not counted:
        return Suggestion(variable, level, Advice.TOO_FEW, tuple(channels), usual, None)
    best = max(counted, key=lambda c: (c.rate, c.invited))
    if all(c.channel == usual.channel for c in counted):
        advice = Advice.ONE_CHANNEL
    elif best.channel == usual.channel or best.rate <= usual.rate:
        advice, best = Advice.USUAL_IS_BEST, usual
    else:
        advice = Advice.BETTER_CHANNEL
    return Suggestion(variable, level, advice, tuple(channels), usual, best)
