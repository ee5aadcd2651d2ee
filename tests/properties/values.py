"""Strategies for hostile values: what a careless integrator or an attacker sends."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: Text that breaks naive code: NULs, other scripts' digits, huge numbers, long runs.
HOSTILE = [
    "",
    "\x00",
    "a\x00b",
    "²",
    "٣",
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "9" * 5000,
    "1e309",
    "NaN",
    "9999-12-31T23:59-23:00",
    "0001-01-01T00:00+23:00",
    "9999-12",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 70,
    "x" * 2000,
    "+44" + "7" * 60,
    "\ud7ff\ue000",
    "whatsapp:\x00",
]
nasty_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))

#: Values a JSON field may hold, hostile ones first.
json_values = st.one_of(
    nasty_text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


#: Times that break naive code: past year 9999 once in UTC, impossible dates, the
#: daylight-saving gap and overlap, a date without its time.
HOSTILE_TIMES = [
    "9999-12-31T23:59-23:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00+23:00",
    "9999-12-31T23:59",
    "2026-02-30T10:00",
    "2026-03-29T01:30",
    "2026-10-25T01:30",
    "2026-03-20",
    "2026-03-20T25:00",
]
#: Hostile values for fields that hold a time.
TIME_FIELDS = frozenset({"starts_at", "cancelled_at", "start", "end"})


@st.composite
def spoiled(
    draw: st.DrawFn, valid: dict[str, Any], values: st.SearchStrategy[Any] = nasty_text
) -> dict[str, Any]:
    """`valid` with one or two of its fields replaced by a hostile value or left out, so
    that each field's hostility is met with the rest of the input well formed. A field
    holding a time gets hostile times as well."""
    names = draw(st.lists(st.sampled_from(sorted(valid)), min_size=1, max_size=2))
    result = dict(valid)
    for name in names:
        hostile = st.sampled_from(HOSTILE_TIMES) if name in TIME_FIELDS else values
        value = draw(st.one_of(hostile, values, st.none()))
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result
