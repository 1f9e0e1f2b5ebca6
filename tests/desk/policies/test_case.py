"""Case files: the JSON Schema, and every bad input rejected with a message naming the field (CLI included)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from desk.errors import ValidationFailed
from desk.policies.case import case_json_schema, read_case
from desk.policies.drugs import ReferenceDrugs
from tests.desk.policies.cases import AS_OF, strong_case
from tests.desk.policies.conftest import ROOT


def _errors(case: object, drugs: ReferenceDrugs, as_of: date = AS_OF) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        read_case(json.dumps(case), as_of=as_of, drugs=drugs)
    return [str(e) for e in info.value.errors]


def test_schema_describes_the_case() -> None:
    schema = case_json_schema()
    assert schema["title"] == "SPRAVATO Paperwork Desk case facts"
    assert {"trials", "scores", "screening", "prescriber", "setting", "rems", "attestations"} <= set(
        schema["properties"])  # type: ignore[arg-type]
    rems = schema["$defs"]["RemsFact"]["properties"]  # type: ignore[index]
    assert {"enrolled_on", "enrollment_confirmation", "enrollment_pending", "monitoring_minimum_minutes",
            "monitored_sessions", "shortest_monitoring_minutes", "sessions_at_uncertified_setting"} == set(rems)


def test_valid_case_reads(drugs: ReferenceDrugs) -> None:
    case = read_case(json.dumps(strong_case()), as_of=AS_OF, drugs=drugs)
    assert len(case.trials) == 6


def test_unknown_drug(drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["trials"][1]["drug"] = "sertralinne"
    case["current_medications"][0]["drug"] = "foo"
    assert _errors(case, drugs) == [
        "trials[1].drug: unknown drug 'sertralinne'; use a generic or brand name from the drug reference data",
        "current_medications[0].drug: unknown drug 'foo'; use a generic or brand name from the drug reference data",
    ]


def test_unknown_scale_and_out_of_range(drugs: ReferenceDrugs) -> None:
    case = strong_case(scores=[{"instrument": "GAD-7", "score": 12, "measured_on": "2026-11-01"},
                               {"instrument": "PHQ-9", "score": 31, "measured_on": "2026-11-01"}])
    assert _errors(case, drugs) == [
        "scores[0].instrument: unknown instrument; expected one of PHQ-9, MADRS, HAM-D17, QIDS-SR16, BDI-II",
        "scores[1].score: PHQ-9 scores run from 0 to 27",
    ]


def test_dates_after_as_of(drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["trials"][0]["end_date"] = "2026-12-01"
    case["scores"][0]["measured_on"] = "2027-01-01"
    assert _errors(case, drugs) == [
        "trials[0].end_date: 2026-12-01 is after the as-of date 2026-11-26",
        "scores[0].measured_on: 2027-01-01 is after the as-of date 2026-11-26",
    ]


def test_rems_block_inconsistencies(drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["rems"] = {"enrolled_on": "2026-12-01", "enrollment_pending": ["the submission date"],
                    "monitored_sessions": 2, "sessions_at_uncertified_setting": 3}
    assert _errors(case, drugs) == [
        "rems.enrolled_on: 2026-12-01 is after the as-of date 2026-11-26",
        "rems.enrollment_pending: an enrolled patient has no pending enrollment steps",
        "rems.sessions_at_uncertified_setting: is more than the 2 monitored sessions",
    ]
    case["rems"] = {"enrollment_confirmation": "ENR-1", "shortest_monitoring_minutes": 130}
    assert _errors(case, drugs) == [
        "rems.enrolled_on: a confirmation number needs the enrollment date",
        "rems.shortest_monitoring_minutes: needs monitored_sessions above 0",
    ]
    case["rems"] = {"monitoring_minimum_minutes": -5, "monitored_sessions": "some"}
    errors = _errors(case, drugs)
    assert errors[0] == "rems.monitoring_minimum_minutes: Input should be greater than or equal to 0 (got -5)"
    assert errors[1].startswith("rems.monitored_sessions: Input should be a valid integer")


def test_wrong_types_and_unknown_fields(drugs: ReferenceDrugs) -> None:
    case = strong_case()
    case["trials"][0]["daily_dose_mg"] = "lots"
    case["favourite_colour"] = "blue"
    errors = _errors(case, drugs)
    assert errors[0].startswith("trials[0].daily_dose_mg: Input should be a valid number")
    assert "favourite_colour: unknown field" in errors


def test_not_json(drugs: ReferenceDrugs) -> None:
    with pytest.raises(ValidationFailed) as info:
        read_case("{trials: }", as_of=AS_OF, drugs=drugs)
    assert str(info.value).startswith("case: not valid JSON: Expecting property name")


def _evaluate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desk", "payers", "evaluate", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_evaluate(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(strong_case(attestations=["trd-psychosis-benefit"])))
    result = _evaluate("--payer", "cigna", "--case", str(path), "--as-of", "2026-11-26")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["payer"], data["indication"], data["phase"], data["decision"]) == ("cigna", "trd", "initial", "meets")
    assert data["approval"]["length"] == "6 months"
    trials = next(c for c in data["criteria"] if c["id"] == "trd-trials")
    assert set(trials) >= {"id", "text", "status", "evidence", "source"}
    mdsi = json.loads(_evaluate("--payer", "cigna", "--case", str(path), "--indication", "mdsi",
                                "--as-of", "2026-11-26").stdout)
    assert mdsi["indication"] == "mdsi" and mdsi["approval"]["length"] == "2 months"


@pytest.mark.parametrize("args,message", [
    (["--payer", "nobody"], "error: --payer: no policy on file for 'nobody'; known: bcbsma, bcbsms"),
    (["--payer", "cigna", "--as-of", "26/11/2026"], "error: --as-of: expected YYYY-MM-DD, got '26/11/2026'"),
    (["--payer", "cigna", "--as-of", "2026-01-01"],
     "error: --case: trials[2].end_date: 2026-01-30 is after the as-of date 2026-01-01; "),
])
def test_cli_evaluate_bad_input(args: list[str], message: str, tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(strong_case()))
    result = _evaluate("--case", str(path), *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_cli_evaluate_unreadable_and_unknown_drug(tmp_path: Path) -> None:
    missing = _evaluate("--payer", "cigna", "--case", str(tmp_path / "none.json"))
    assert missing.returncode == 1 and missing.stderr.startswith("error: --case: cannot read")
    path = tmp_path / "case.json"
    case = strong_case()
    case["trials"][0]["drug"] = "unobtainium"
    path.write_text(json.dumps(case))
    bad = _evaluate("--payer", "cigna", "--case", str(path), "--as-of", "2026-11-26")
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("error: --case: trials[0].drug: unknown drug 'unobtainium'; use a generic or brand "
                                  "name from the drug reference data")


def test_cli_case_schema() -> None:
    result = subprocess.run([sys.executable, "-m", "desk", "payers", "case-schema"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0
    assert json.loads(result.stdout)["properties"]["trials"]["type"] == "array"
