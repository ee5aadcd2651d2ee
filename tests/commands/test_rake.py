import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from app.commands.results import rake_command
from tests.results.conftest import load_reference

COLUMNS = ("age", "sex", "imd", "score", "answered", "positive", "design")


def write_respondents(path: Path, change: dict[tuple[int, str], str] | None = None) -> Path:
    """The reference respondents as labels; `change` overrides cells by (data row, column)."""
    reference = load_reference()
    levels, data = reference["levels"], reference["respondents"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(len(data["age"])):
            row = {c: levels[c][data[c][i]] if c in levels else data[c][i] for c in COLUMNS}
            row = {c: "" if v is None else str(v) for c, v in row.items()}
            for (index, column), value in (change or {}).items():
                if index == i:
                    row[column] = value
            writer.writerow([row[c] for c in COLUMNS])
    return path


def margin_rows(case: str) -> list[list[Any]]:
    reference = load_reference()
    levels = reference["levels"]
    rows: list[list[Any]] = []
    for margin in reference["cases"][case]["margins"]:
        variables = margin["variables"]
        totals = np.asarray(margin["totals"])
        for index in np.ndindex(totals.shape):
            label = "*".join(levels[v][i] for v, i in zip(variables, index, strict=True))
            rows.append(["*".join(variables), label, totals[index]])
    return rows


def write_margins(path: Path, rows: list[list[Any]], header: tuple[str, ...] = ()) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header or ("variable", "level", "count"))
        writer.writerows(rows)
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(rake_command, list(args))


@pytest.fixture
def respondents(tmp_path: Path) -> Path:
    return write_respondents(tmp_path / "respondents.csv")


@pytest.mark.parametrize(
    ("case", "options", "ci"),
    [
        ("joint", [], "logit"),
        ("bounded", ["--weight-col", "design", "--bounds", "0.55,2"], "beta"),
        ("poststratify", ["--weight-col", "design"], "wilson"),
    ],
)
def test_json_matches_r(
    tmp_path: Path, respondents: Path, case: str, options: list[str], ci: str
) -> None:
    margins = write_margins(tmp_path / "margins.csv", margin_rows(case))
    estimates = ["--estimate", "score", "--estimate", "answered", "--estimate", "positive"]
    result = run(
        str(respondents), "--margins", str(margins), *options, *estimates, "--ci", ci, "--json"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    expected = load_reference()["cases"][case]
    for key in ("weights_sum", "weights_min", "weights_max", "kish_deff"):
        assert summary[key] == pytest.approx(expected[key], rel=1e-6)
    assert summary["n"] == expected["n"]
    assert summary["converged"] is True
    assert summary["max_margin_error"] < 1e-6
    assert summary["ess"] == pytest.approx(expected["n"] / expected["kish_deff"], rel=1e-6)
    positive = summary["estimates"]["positive"]
    reference = expected["estimates"]["positive"]
    assert positive["ci_method"] == ci
    assert positive["ci_low"] == pytest.approx(reference[f"{ci}_low"], rel=1e-6)
    assert positive["ci_high"] == pytest.approx(reference[f"{ci}_high"], rel=1e-6)
    for name in ("score", "answered"):
        shaped, reference = summary["estimates"][name], expected["estimates"][name]
        assert shaped["ci_method"] == "wald"
        for ours, theirs in (("estimate", "mean"), ("se", "se"), ("design_deff", "deff"),
                             ("ci_low", "t_low"), ("ci_high", "t_high"),
                             ("unweighted", "unweighted")):  # fmt: skip
            assert shaped[ours] == pytest.approx(reference[theirs], rel=1e-6)


def test_trimmed_weights_written_out_match_r(tmp_path: Path, respondents: Path) -> None:
    expected = load_reference()["cases"]["trimmed"]
    margins = write_margins(tmp_path / "margins.csv", margin_rows("trimmed"))
    out = tmp_path / "weights.csv"
    upper = str(expected["trim_upper"])
    result = run(str(respondents), "--margins", str(margins), "--trim-upper", upper,
                 "--weights-out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["row"]) for r in rows] == list(range(2, expected["n"] + 2))
    weights = np.array([float(r["weight"]) for r in rows])
    assert weights == pytest.approx(np.asarray(expected["weights"]), rel=1e-6)
    assert "weights trimmed" in result.stdout


def test_table_lists_each_outcome(tmp_path: Path, respondents: Path) -> None:
    margins = write_margins(tmp_path / "margins.csv", margin_rows("rake3"))
    result = run(str(respondents), "--margins", str(margins), "--estimate", "positive",
                 "--estimate", "score")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("respondents 884, weights add up to 2400")
    assert any(line.startswith("positive") and " logit " in line for line in lines)
    assert any(line.startswith("score") and " wald " in line for line in lines)


def test_collapse_adjacent_reports_the_merge(tmp_path: Path, respondents: Path) -> None:
    rows = [*margin_rows("rake3"), ["imd", "6", 10.0]]
    rows[-2][2] -= 10  # keep the imd total equal to the others
    margins = write_margins(tmp_path / "margins.csv", rows)
    result = run(str(respondents), "--margins", str(margins), "--collapse", "adjacent", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["collapsed"] == [
        {"variable": "imd", "level": "6", "into": "5"}
    ]


def _error_cases() -> list[
    tuple[str, dict[tuple[int, str], str], list[list[Any]] | None, list[str], str]
]:
    base = margin_rows("rake3")
    uneven = [*base[:-1], [base[-1][0], base[-1][1], base[-1][2] + 5]]
    empty = [*base[:-1], [base[-1][0], base[-1][1], base[-1][2] - 10], ["imd", "6", 10.0]]
    return [
        ("unknown level", {(3, "age"): "90+"}, None, [],
         "respondents.csv row 5: variable 'age' level '90+' is not in margins.csv"),
        ("missing level", {(6, "sex"): ""}, None, [],
         "respondents.csv row 8: variable 'sex' has no level"),
        ("bad weight", {(2, "design"): "-1"}, None, ["--weight-col", "design"],
         "respondents.csv row 4: column 'design' must be a positive number"),
        ("bad outcome", {(9, "score"): "07700 900123"}, None, ["--estimate", "score"],
         "respondents.csv row 11: column 'score' must be a number or blank"),
        ("no such column", {}, None, ["--estimate", "wait"], "respondents.csv: no column 'wait'"),
        ("never answered", {(i, "answered"): "" for i in range(884)}, None,
         ["--estimate", "answered"], "column 'answered': no respondent answered"),
        ("count not a number", {}, [*base, ["sex", "X", "lots"]], [],
         "margins.csv row 14: variable 'sex' level 'X': count 'lots' is not"),
        ("duplicate margin row", {}, [*base, base[0]], [],
         "margins.csv row 14: variable 'age' level '16-24' appears twice"),
        ("blank margin level", {}, [*base, ["age", "", 3]], [],
         "margins.csv row 14: variable and level must not be blank"),
        ("totals disagree", {}, uneven, [], "margins.csv: margin totals disagree"),
        ("empty level", {}, empty, [],
         "margins.csv: margin 'imd' level '6' has a target of 10 but no respondents"),
        ("bounds format", {}, None, ["--bounds", "0.5"], "--bounds: expected L,U"),
        ("bounds order", {}, None, ["--bounds", "2,3"], "--bounds: need 0 <= L < 1 < U"),
        ("bounds unmet", {}, None, ["--bounds", "0.95,1.05"], "bounds (0.95, 1.05) cannot be met"),
        ("trim too low", {}, None, ["--trim-upper", "2"], "cannot trim 884 weights"),
    ]  # fmt: skip


ERRORS = _error_cases()


@pytest.mark.parametrize(
    ("change", "margins", "options", "message"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_errors_are_one_line_with_status_2(
    tmp_path: Path,
    change: dict[tuple[int, str], str],
    margins: list[list[Any]] | None,
    options: list[str],
    message: str,
) -> None:
    respondents = write_respondents(tmp_path / "respondents.csv", change)
    margins_path = write_margins(tmp_path / "margins.csv", margins or margin_rows("rake3"))
    result = run(str(respondents), "--margins", str(margins_path), *options)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "07700" not in result.stderr  # a stray cell's content is never echoed


def test_margins_file_needs_its_columns(tmp_path: Path, respondents: Path) -> None:
    margins = write_margins(tmp_path / "m.csv", [["age", "16-24", 3]], ("variable", "level", "n"))
    result = run(str(respondents), "--margins", str(margins))
    assert result.exit_code == 2
    assert "m.csv: no column 'count'" in result.stderr


def test_estimates_can_be_listed_with_commas(tmp_path: Path, respondents: Path) -> None:
    margins = write_margins(tmp_path / "margins.csv", margin_rows("rake3"))
    result = run(str(respondents), "--margins", str(margins), "--estimate", "positive, score",
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["estimates"]) == ["positive", "score"]


def test_unknown_level_takes_blank_labels(tmp_path: Path) -> None:
    respondents = write_respondents(tmp_path / "respondents.csv", {(6, "sex"): ""})
    rows = margin_rows("rake3")
    female = next(row for row in rows if row[:2] == ["sex", "F"])
    female[2] -= 1
    rows.append(["sex", "Not known", 1])
    margins = write_margins(tmp_path / "margins.csv", rows)
    out = tmp_path / "weights.csv"
    result = run(str(respondents), "--margins", str(margins), "--unknown-level", "Not known",
                 "--weights-out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open() as handle:
        weights = {int(r["row"]): float(r["weight"]) for r in csv.DictReader(handle)}
    assert weights[8] == pytest.approx(1.0)  # alone in a level whose target is 1
