"""Charts as pure SVG: functions from data to an accessible SVG string and the table of the
numbers behind it (no Flask, no JavaScript).

Every chart is an image labelled by its title and a one-sentence description, uses the NHS
palette (`palette`), scales to its container (a viewBox, width 100%), never carries
meaning by colour alone, and keeps its ids under the caller's prefix.
"""

from app.charts.bars import Bar, BarWords, bar_chart
from app.charts.forest import Effect, Estimate, ForestWords, forest_plot
from app.charts.funnel import FunnelWords, Unit, funnel_plot
from app.charts.line import LineWords, Series, line_chart
from app.charts.spc import SpcWords, spc_chart
from app.charts.table import Chart, Column, Table

__all__ = [
    "Bar",
    "BarWords",
    "Chart",
    "Column",
    "Effect",
    "Estimate",
    "ForestWords",
    "FunnelWords",
    "LineWords",
    "Series",
    "SpcWords",
    "Table",
    "Unit",
    "bar_chart",
    "forest_plot",
    "funnel_plot",
    "line_chart",
    "spc_chart",
]
