from typing import Any

import pytest

from app.results.margins import WeightingError, encode_labels

MARGINS = {
    "age": {"16-44": 60, "45+": 40},
    "age*sex": {"16-44*F": 35, "16-44*M": 25, "45+*F": 40},
    "imd": {"1": 30, "2": 70},
}


def test_codes_follow_the_order_levels_first_appear_in() -> None:
    labels: dict[str, list[object]] = {"age": ["45+", "16-44"], "sex": ["M", "F"], "imd": [2, "1"]}
    codes, margins = encode_labels(labels, MARGINS)
    assert {k: v.tolist() for k, v in codes.items()} == {
        "age": [1, 0],
        "sex": [1, 0],
        "imd": [1, 0],
    }
    assert [m.name for m in margins] == ["age", "age*sex", "imd"]
    joint = margins[1]
    assert joint.labels == (("16-44", "45+"), ("F", "M"))
    assert joint.totals.tolist() == [[35, 25], [40, 0]]  # an unlisted combination is 0
    assert joint.level_name(1) == "16-44*M"


@pytest.mark.parametrize(
    ("age", "unknown", "expected"),
    [
        ([" 45+ ", "16-44"], None, [1, 0]),  # labels are stripped
        (["45+", None], "45+", [1, 1]),
        (["45+", float("nan")], {"age": "45+"}, [1, 1]),
        (["45+", "  "], "16-44", [1, 0]),
        (["90+", "16-44"], "45+", [1, 0]),  # a label not in the margins
    ],
)
def test_missing_and_unknown_labels_can_go_to_a_named_level(
    age: list[Any], unknown: Any, expected: list[int]
) -> None:
    codes, _ = encode_labels({"age": age}, {"age": {"16-44": 5, "45+": 5}}, unknown_level=unknown)
    assert codes["age"].tolist() == expected


def _errors() -> list[tuple[str, dict[str, Any], dict[str, Any], Any, str, dict[str, Any]]]:
    simple = {"age": {"16-44": 5, "45+": 5}}
    return [
        ("missing label", {"age": ["45+", None, "16-44"]}, simple, None,
         "row 1 has no level", {"variable": "age", "level": "missing", "row": 1}),
        ("unknown label", {"age": ["45+", "16-44", "90+"]}, simple, None,
         "row 2 has level '90\\+', which is not in the margins",
         {"variable": "age", "level": "90+", "row": 2}),
        ("unknown level without a target", {"age": ["45+", None]}, simple, "Not known",
         "unknown level 'Not known' has no target", {"variable": "age", "row": 1}),
        ("no labels for a variable", {"sex": ["F"]}, simple, None,
         "no labels", {"variable": "age"}),
        ("joint level with too few parts", {"a": ["x"], "b": ["y"]}, {"a*b": {"x": 3}}, None,
         "does not name one level of each of 2", {"variable": "a*b", "level": "x"}),
        ("bad margin name", {"a": ["x"]}, {"a**b": {"x*y": 3}}, None,
         "not 'variable' or 'a\\*b'", {"variable": "a**b"}),
        ("count not a number", {"age": ["45+"]}, {"age": {"45+": "many"}}, None,
         "count 'many'", {"variable": "age", "level": "45+"}),
        ("negative count", {"age": ["45+"]}, {"age": {"45+": -3}}, None,
         "non-negative", {"variable": "age", "level": "45+"}),
    ]  # fmt: skip


ERRORS = _errors()


@pytest.mark.parametrize(
    ("labels", "margins", "unknown", "message", "attributes"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_bad_labels_and_margins_name_what_and_where(
    labels: dict[str, list[Any]],
    margins: dict[str, dict[str, Any]],
    unknown: Any,
    message: str,
    attributes: dict[str, Any],
) -> None:
    with pytest.raises(WeightingError, match=message) as caught:
        encode_labels(labels, margins, unknown_level=unknown)
    for name, value in attributes.items():
        assert getattr(caught.value, name) == value


def test_weighting_error_is_a_value_error() -> None:
    assert issubclass(WeightingError, ValueError)
    error = WeightingError("x", variable="age", level="75+", row=3)
    assert (error.variable, error.level, error.row) == ("age", "75+", 3)
