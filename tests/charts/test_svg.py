"""Safe SVG building, and the table every chart carries."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.charts.svg import check_prefix, clean_text, element, num, serialise, svg_root, truncate
from app.charts.table import Chart, Column, Table, numeric, table
from app.charts.ticks import plain_percent
from tests.charts.svgdoc import check_frame, parse

HOSTILE = "A&B <script>alert(\"x\")</script> 'quoted' \x00\x07\x1b end"


def test_labels_are_cleaned_and_escaped() -> None:
    assert clean_text(HOSTILE) == "A&B <script>alert(\"x\")</script> 'quoted' end"
    root = svg_root("c1", 100, 50, HOSTILE, HOSTILE)
    element(root, "text", HOSTILE, x=1.0, y=2.0, data_label=HOSTILE)
    svg = serialise(root)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    parsed = check_frame(svg, "c1")
    label = parsed[-1]
    assert label.text == clean_text(HOSTILE)
    assert label.get("data-label") == clean_text(HOSTILE)


@pytest.mark.parametrize("prefix", ["chart", "spc-1", "a_b2"])
def test_good_prefixes(prefix: str) -> None:
    assert check_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "1chart", "a b", 'x"y', "a" * 60, "é"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        check_prefix(prefix)


def test_coordinates_are_short() -> None:
    assert [num(x) for x in (1.0, 1.234567, -0.0001, 12.5)] == ["1", "1.23", "0", "12.5"]


def test_attribute_names_and_missing_values() -> None:
    parent = ET.Element("g")
    child = element(parent, "line", stroke_width=2.0, class_="a", fill=None, x1=3)
    assert child.attrib == {"stroke-width": "2", "class": "a", "x1": "3"}


def test_truncate_adds_an_ellipsis() -> None:
    assert truncate("short", 200) == "short"
    assert truncate("a rather long label for a small space", 76).endswith("…")
    assert truncate("a rather long label for a small space", 76) == "a rather…"


def test_table_csv_keeps_numbers_and_disarms_formulas() -> None:
    data = table(
        ["Clinic", ("Rate", numeric(plain_percent))],
        [['=HYPERLINK("x")', 0.125], ["North, upper", None], ["-2 clinic", -0.5]],
    )
    assert data.headings == ["Clinic", "Rate"]
    assert data.display_rows() == [
        ['=HYPERLINK("x")', "12.5%"],
        ["North, upper", ""],
        ["-2 clinic", "-50.0%"],
    ]
    assert data.csv() == (
        'Clinic,Rate\r\n"\'=HYPERLINK(""x"")",0.125\r\n"North, upper",\r\n\'-2 clinic,-0.5\r\n'
    )


def test_rows_must_fit_the_columns() -> None:
    with pytest.raises(ValueError, match="cells"):
        Table((Column("A"),), (("x", "y"),))


def test_a_chart_inlines_as_markup() -> None:
    chart = Chart("<svg/>", table(["A"], []), "t", "d")
    assert chart.__html__() == "<svg/>"
    assert str(chart) == "<svg/>"
    assert parse(chart.svg).tag.endswith("svg")
