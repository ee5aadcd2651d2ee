"""The example SVGs in tests/charts/examples are what the code draws now, and each keeps
the rules every chart keeps."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.charts import Chart
from tests.charts.examples import EXAMPLES, FOLDER, pretty
from tests.charts.svgdoc import check_frame


@pytest.mark.parametrize(("name", "build"), EXAMPLES.items())
def test_example_is_current(name: str, build: Callable[[], Chart]) -> None:
    chart = build()
    check_frame(chart.svg, chart.svg.split('id="', 1)[1].split('"', 1)[0])
    saved = (FOLDER / f"{name}.svg").read_text(encoding="utf-8")
    assert saved == pretty(chart.svg), "run `python -m tests.charts.examples` and look at them"
    assert len(saved) < 20_000
