"""Tests for app/core/exports.py: CSV cells a spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import io

import pytest

from app.core.exports import csv_line, csv_lines, escape_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+44 7400 123456", "'+44 7400 123456"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Rita Patel", "Rita Patel"),
        ("a=b", "a=b"),  # only the first character matters
        (" =1", " =1"),
        ("'already quoted", "'already quoted"),
        ("", ""),
        (None, ""),
        (42, "42"),
        (-5, "-5"),  # a number is never a formula
        (2.5, "2.5"),
        (True, "true"),
    ],
)
def test_escape_cell(value: object, expected: str) -> None:
    assert escape_cell(value) == expected


def test_a_line_is_quoted_as_csv_and_ends_in_crlf() -> None:
    line = csv_line(["=cmd|' /C calc'!A0", 'say "hi", then', 7])
    assert line.endswith("\r\n")
    [row] = list(csv.reader(io.StringIO(line)))
    assert row == ["'=cmd|' /C calc'!A0", 'say "hi", then', "7"]


def test_lines_start_with_the_header() -> None:
    lines = list(csv_lines(["name", "count"], [["-x", 1], ["y", 2]]))
    assert lines == ["name,count\r\n", "'-x,1\r\n", "y,2\r\n"]
