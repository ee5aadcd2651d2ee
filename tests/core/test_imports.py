"""Import plumbing: counting rows read and rows done."""

from __future__ import annotations

import pytest

from app.core.imports import RowBatch, RowError, RowProgress, SourceRow, chunks


def test_a_batch_counts_the_rows_refused_while_reading_but_not_the_header() -> None:
    rows = [SourceRow(2, {}), SourceRow(4, {})]
    errors = [RowError("f", 3, "row", "expected 2 values, found 3")]
    assert RowBatch("f", rows, errors).size == 3
    header = [RowError("f", 1, "phone", "missing column"), RowError("f", 1, "x", "unknown")]
    assert RowBatch("f", [], header).size == 0


def test_progress_is_told_each_step_and_never_passes_the_total_or_goes_back() -> None:
    told: list[tuple[int, int]] = []
    done = RowProgress(10, lambda d, t: told.append((d, t)))
    done.advance(0)
    done.leave(6)  # four rows need no writing
    done.advance(5)
    done.leave(8)  # asked to go back: stays
    done.advance(50)
    assert told == [(0, 10), (4, 10), (9, 10), (9, 10), (10, 10)]


def test_progress_without_a_callback_only_counts() -> None:
    done = RowProgress(3)
    done.advance(2)
    assert done.done == 2


@pytest.mark.parametrize(
    ("values", "size", "expected"),
    [([], 2, []), ([1, 2, 3], 2, [[1, 2], [3]]), ([1, 2], 5, [[1, 2]])],
)
def test_chunks(values: list[int], size: int, expected: list[list[int]]) -> None:
    assert [list(part) for part in chunks(values, size)] == expected
