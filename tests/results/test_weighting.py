from typing import Any

import numpy as np
import pytest

from app.results.weighting import (
    Collapse,
    Margin,
    WeightingError,
    rake,
    rake_labels,
    trim_weights,
)

from .conftest import (
    CASES,
    case_margins,
    case_options,
    load_reference,
    respondent_codes,
    weighted_case,
)

METHODS = {
    "rake3": "raking",
    "bounded": "bounded_raking",
    "trimmed": "raking",
    "joint": "raking",
    "poststratify": "poststratification",
}


def margin(variable: str, *totals: float) -> Margin:
    return Margin((variable,), np.asarray(totals, dtype=np.float64))


def codes(**columns: list[int]) -> dict[str, np.ndarray]:
    return {name: np.asarray(values, dtype=np.int64) for name, values in columns.items()}


def weighted_totals(weights: np.ndarray, m: Margin, columns: dict[str, np.ndarray]) -> np.ndarray:
    flat = np.ravel_multi_index(tuple(columns[v] for v in m.variables), m.totals.shape)
    return np.bincount(flat, weights=weights, minlength=m.totals.size)


@pytest.mark.parametrize("case", CASES)
def test_weights_match_r(case: str) -> None:
    expected = load_reference()["cases"][case]
    result = weighted_case(case)
    assert result.weights == pytest.approx(np.asarray(expected["weights"]), rel=1e-6)
    assert result.weights.sum() == pytest.approx(expected["weights_sum"], rel=1e-9)
    assert result.weights.min() == pytest.approx(expected["weights_min"], rel=1e-6)
    assert result.weights.max() == pytest.approx(expected["weights_max"], rel=1e-6)
    assert result.method == METHODS[case]
    assert result.converged


@pytest.mark.parametrize("case", ["rake3", "bounded", "joint", "poststratify"])
def test_calibrated_weights_hit_every_margin(case: str) -> None:
    result = weighted_case(case)
    columns = respondent_codes()
    total = case_margins(case)[0].totals.sum()
    for m in case_margins(case):
        gap = weighted_totals(result.weights, m, columns) - m.totals.ravel()
        assert np.abs(gap).max() <= 2e-10 * total
    assert result.max_margin_error <= 1e-10 * total  # the default tolerance is relative


def test_bounded_ratios_stay_within_bounds_and_touch_both() -> None:
    low, high = load_reference()["cases"]["bounded"]["bounds"]
    result = weighted_case("bounded")
    ratio = result.weights / case_options("bounded")["base_weights"]
    assert ratio.min() == pytest.approx(low, rel=1e-9)
    assert ratio.max() == pytest.approx(high, rel=1e-9)


def test_bounds_r_cannot_meet_are_an_error_naming_the_margin() -> None:
    options = case_options("bounded") | {
        "bounds": tuple(load_reference()["cases"]["bounded"]["infeasible_bounds"])
    }
    with pytest.raises(WeightingError, match="cannot be met") as caught:
        rake(respondent_codes(), case_margins("bounded"), **options, max_iter=200)
    assert caught.value.variable in {"age", "sex", "imd"}
    assert caught.value.level is not None


def test_bounds_apply_after_scaling_base_weights_to_the_cohort_total() -> None:
    options = case_options("bounded")
    scaled = options | {"base_weights": options["base_weights"] * 0.01}
    result = rake(respondent_codes(), case_margins("bounded"), **scaled)
    assert result.weights == pytest.approx(weighted_case("bounded").weights, rel=1e-9)


def test_trimmed_weights_are_capped_and_keep_the_total() -> None:
    spec = load_reference()["cases"]["trimmed"]
    result = weighted_case("trimmed")
    untrimmed = weighted_case("rake3")
    assert result.weights.max() == pytest.approx(spec["trim_upper"], rel=1e-12)
    assert result.weights.sum() == pytest.approx(untrimmed.weights.sum(), rel=1e-12)
    assert result.trimmed == np.count_nonzero(result.weights == spec["trim_upper"]) > 0
    assert result.calibration.weights == pytest.approx(untrimmed.weights, rel=1e-12)
    assert result.max_margin_error > 1  # trimming moves the margins and the result says so


@pytest.mark.parametrize(
    ("weights", "upper", "lower", "expected"),
    [
        ([1, 1, 1, 5], 3, None, [5 / 3, 5 / 3, 5 / 3, 3]),
        ([1, 2.8, 6], 3.5, None, [2.8, 3.5, 3.5]),  # takes many rounds to settle
        ([0.1, 1, 1.9], None, 0.5, [0.5, 0.8, 1.7]),
        ([0.1, 1, 1, 3.9], 3, 0.5, [0.5, 1.25, 1.25, 3]),
        ([1, 2, 3], 5, None, [1, 2, 3]),
    ],
)
def test_trim_weights_like_r_strict(
    weights: list[float], upper: float | None, lower: float | None, expected: list[float]
) -> None:
    trimmed = trim_weights(np.asarray(weights, dtype=float), upper=upper, lower=lower)
    assert trimmed == pytest.approx(expected, rel=1e-12)
    assert trimmed.sum() == pytest.approx(sum(weights), rel=1e-12)


@pytest.mark.parametrize(("upper", "lower"), [(2.0, None), (None, 4.5), (1.0, 2.0)])
def test_trim_bounds_that_cannot_hold_the_total_are_refused(
    upper: float | None, lower: float | None
) -> None:
    with pytest.raises(WeightingError, match="cannot hold"):
        trim_weights(np.array([1.0, 3.0, 8.0]), upper=upper, lower=lower)


def test_poststratification_is_target_over_cell_base() -> None:
    columns = codes(a=[0, 0, 1, 1, 1])
    base = np.array([1.0, 3.0, 1.0, 1.0, 2.0])
    result = rake(columns, [margin("a", 8, 12)], base_weights=base)
    assert result.method == "poststratification"
    assert result.iterations == 1
    assert result.weights == pytest.approx(base * np.array([2, 2, 3, 3, 3]))


def test_joint_margin_weights_each_combination() -> None:
    columns = codes(a=[0, 0, 1, 1], b=[0, 1, 0, 1])
    joint = Margin(("a", "b"), np.array([[10.0, 20.0], [30.0, 40.0]]))
    result = rake(columns, [joint])
    assert result.weights == pytest.approx([10, 20, 30, 40])
    assert result.cells == 4


def test_unconverged_raking_says_so() -> None:
    result = rake(respondent_codes(), case_margins("rake3"), max_iter=1)
    assert not result.converged
    assert result.iterations == 1
    assert result.max_margin_error > 1e-10 * 2400


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e4])
def test_tolerance_is_relative_to_the_cohort_total(scale: float) -> None:
    margins = [Margin(m.variables, m.totals * scale) for m in case_margins("rake3")]
    result = rake(respondent_codes(), margins, tol=1e-12)
    assert result.converged
    assert result.max_margin_error <= 1e-12 * 2400 * scale
    assert result.weights == pytest.approx(weighted_case("rake3").weights * scale, rel=1e-9)


def test_collapse_adjacent_moves_the_target_to_the_nearest_level() -> None:
    columns = codes(a=[0, 0, 2, 3, 3], b=[0, 1, 0, 1, 0])
    margins = [margin("a", 10, 5, 20, 15), margin("b", 25, 25)]
    result = rake(columns, margins, collapse="adjacent")
    merged = rake(columns, [margin("a", 15, 0, 20, 15), margin("b", 25, 25)])
    assert result.collapsed == (Collapse("a", "1", "0"),)  # a tie goes to the earlier level
    assert result.weights == pytest.approx(merged.weights, rel=1e-12)


def test_collapse_skips_over_other_empty_levels() -> None:
    columns = codes(a=[0, 3, 3])
    result = rake(columns, [margin("a", 4, 5, 6, 7)], collapse="adjacent")
    assert result.collapsed == (Collapse("a", "1", "0"), Collapse("a", "2", "3"))
    assert result.weights == pytest.approx([9, 6.5, 6.5])


def _error_cases() -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    two = [margin("a", 5, 5)]
    return [
        ("code beyond levels", {"codes": codes(a=[0, 2, 1]), "margins": two},
         "row 1 has level code 2", {"variable": "a", "level": "2", "row": 1}),
        ("missing code", {"codes": codes(a=[0, 1, -1]), "margins": two},
         "row 2 has no level \\(code -1\\)", {"variable": "a", "level": "missing", "row": 2}),
        ("totals disagree", {"codes": codes(a=[0, 1], b=[0, 1]),
                             "margins": [margin("a", 5, 5), margin("b", 5, 6)]},
         "disagree", {"variable": "b"}),
        ("empty level", {"codes": codes(a=[0, 0]), "margins": two},
         "level '1' has a target of 5 but no respondents", {"variable": "a", "level": "1"}),
        ("respondents in a zero target", {"codes": codes(a=[0, 1]), "margins": [margin("a", 5, 0)]},
         "target of 0", {"variable": "a", "level": "1"}),
        ("no codes for a variable", {"codes": codes(b=[0, 1]), "margins": two},
         "no codes", {"variable": "a"}),
        ("lengths differ", {"codes": codes(a=[0, 1], b=[0]),
                            "margins": [margin("a", 5, 5), margin("b", 10)]},
         "differ in length", {}),
        ("levels differ between margins", {"codes": codes(a=[0, 1]),
                                           "margins": [margin("a", 5, 5), margin("a", 3, 3, 4)]},
         "2 levels in one margin and 3", {"variable": "a"}),
        ("negative target", {"codes": codes(a=[0, 1]), "margins": [margin("a", 5, -1)]},
         "non-negative", {"variable": "a", "level": "1"}),
        ("float codes", {"codes": {"a": np.array([0.0, 1.0])}, "margins": two},
         "integer", {"variable": "a"}),
        ("bad base weight", {"codes": codes(a=[0, 1]), "margins": two,
                             "base_weights": [1.0, 0.0]},
         "row 1", {"row": 1}),
        ("bad bounds", {"codes": codes(a=[0, 1]), "margins": two, "bounds": (1.2, 3.0)},
         "0 <= L < 1 < U", {}),
        ("no margins", {"codes": codes(a=[0, 1]), "margins": []}, "at least one margin", {}),
        ("no respondents", {"codes": codes(a=[]), "margins": two}, "no respondents", {}),
    ]  # fmt: skip


ERRORS = _error_cases()


@pytest.mark.parametrize(
    ("arguments", "message", "attributes"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_bad_input_names_what_and_where(
    arguments: dict[str, Any], message: str, attributes: dict[str, Any]
) -> None:
    arguments = dict(arguments)
    with pytest.raises(WeightingError, match=message) as caught:
        rake(arguments.pop("codes"), arguments.pop("margins"), **arguments)
    for name, value in attributes.items():
        assert getattr(caught.value, name) == value


def test_many_combinations_fold_by_sorting() -> None:
    # 3000 x 3000 possible cells: too many for a dense lookup, so np.unique folds them.
    a_codes, b_codes = [5, 5, 2999, 17], [0, 2999, 0, 1500]
    a_totals, b_totals = np.zeros(3000), np.zeros(3000)
    a_totals[[5, 2999, 17]] = [10, 6, 4]
    b_totals[[0, 2999, 1500]] = [9, 7, 4]
    result = rake(codes(a=a_codes, b=b_codes), [Margin(("a",), a_totals), Margin(("b",), b_totals)])
    compact = rake(
        codes(a=[0, 0, 1, 2], b=[0, 1, 0, 2]), [margin("a", 10, 6, 4), margin("b", 9, 7, 4)]
    )
    assert result.cells == 4
    assert result.weights == pytest.approx(compact.weights, rel=1e-12)


def test_rake_labels_matches_rake_on_codes() -> None:
    reference = load_reference()
    levels = reference["levels"]
    labels = {v: [levels[v][c] for c in reference["respondents"][v]] for v in ("age", "sex", "imd")}
    margins = {
        m.variables[0]: dict(zip(levels[m.variables[0]], m.totals.tolist(), strict=True))
        for m in case_margins("rake3")
    }
    result = rake_labels(labels, margins)
    assert result.weights == pytest.approx(weighted_case("rake3").weights, rel=1e-12)


def test_margin_accepts_plain_sequences() -> None:
    m = Margin(["a"], [[1, 2], [3, 4]])  # type: ignore[arg-type]
    assert m.variables == ("a",)
    assert m.totals.dtype == np.float64
    assert m.totals.shape == (2, 2)
