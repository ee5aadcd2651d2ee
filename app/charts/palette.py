"""The colours every chart uses, defined once.

NHS identity colours (NHS England's brand palette, as the NHS.UK design system uses them)
for text, axes and data; the "Making Data Count" colours for SPC charts, as
NHSRplotthedots 0.2.0 draws points and lines (`ptd_spc_colours`) and its icons.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NhsColours:
    """NHS identity colours."""

    blue: str = "#005eb8"  # NHS Blue: the main data colour
    dark_blue: str = "#003087"
    bright_blue: str = "#0072ce"
    light_blue: str = "#41b6e6"
    aqua_blue: str = "#00a9ce"
    black: str = "#231f20"
    dark_grey: str = "#425563"
    mid_grey: str = "#768692"
    pale_grey: str = "#e8edee"
    white: str = "#ffffff"
    dark_green: str = "#006747"
    green: str = "#009639"
    purple: str = "#330072"
    dark_pink: str = "#7c2855"
    pink: str = "#ae2573"
    dark_red: str = "#8a1538"
    red: str = "#da291c"
    orange: str = "#ed8b00"
    warm_yellow: str = "#ffb81c"
    #: NHS.UK design system text colours and borders.
    text: str = "#212b32"
    secondary_text: str = "#4c6272"
    border: str = "#d8dde0"

    @property
    def series(self) -> tuple[str, ...]:
        """Colours for several data series in turn, each distinct from its neighbours."""
        return (self.blue, self.dark_pink, self.dark_green, self.dark_grey, self.orange)


@dataclass(frozen=True)
class SpcColours:
    """ "Making Data Count" colours for XmR charts."""

    common_cause: str = "#a6a6a6"  # grey
    improvement: str = "#00b0f0"  # blue
    concern: str = "#e46c0a"  # orange
    neutral: str = "#490092"  # purple
    value_line: str = "#a6a6a6"
    mean_line: str = "#000000"
    limit_line: str = "#a6a6a6"
    target_line: str = "#de1b1b"
    #: Darker outlines that lift the markers to a 3:1 contrast with white.
    common_cause_edge: str = "#6f6f6f"
    improvement_edge: str = "#0072c6"
    concern_edge: str = "#a34c00"
    neutral_edge: str = "#490092"
    #: The icons' colours.
    icon_improvement: str = "#0072c6"
    icon_concern: str = "#ff6600"
    icon_neutral: str = "#490092"
    icon_common: str = "#a6a6a6"
    icon_detail: str = "#7f7f7f"


NHS = NhsColours()
SPC = SpcColours()
