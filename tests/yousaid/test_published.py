"""Which counts of a breakdown the public page may show beside its total."""

from __future__ import annotations

import pytest

from app.yousaid.published import shown_cells


@pytest.mark.parametrize(
    ("counts", "shown"),
    [
        ([9], [False]),  # a cell of 9 is hidden
        ([10], [True]),  # one of 10 is shown
        ([12, 30, 15], [True, True, True]),
        # One hidden cell would be the total less the others: the next smallest goes too.
        ([12, 3, 15], [False, False, True]),
        ([0, 12, 11], [False, True, False]),
        ([3, 4, 20], [False, False, True]),  # two hidden already hide each other
        ([3, 4], [False, False]),
    ],
)
def test_small_cells_are_hidden_and_cannot_be_worked_out(
    counts: list[int], shown: list[bool]
) -> None:
    assert shown_cells(counts) == shown
