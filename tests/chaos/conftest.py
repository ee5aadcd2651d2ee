"""The chaos harness lives with the benches (bench/chaos.py), which import each other
as scripts do: their folder goes on the path for these tests."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)
