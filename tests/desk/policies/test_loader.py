"""Policy file validation: every bad input gives a message naming the file, the field and the expectation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from desk.policies.drugs import ReferenceDrugs
from desk.policies.loader import load_catalog, parse_policy
from tests.desk.policies.conftest import PAYERS, ROOT

MINIMAL = """
id: sample
payer: Sample Health
plan_types: [commercial]
benefit: medical
title: Sample policy
reviewed_on: 2026-11-26
source_url: https://example.org/policy
completeness: {status: complete}
sources:
  s: {title: Sample policy, url: https://example.org/policy, kind: primary}
variants:
  - indication: trd
    phase: initial
    criteria:
      kind: all
      id: root
      text: All of the following
      rules:
        - {kind: age, id: adult, text: Patient is 18 or older, min_years: 18, source: "s: 1"}
        - kind: rating_score
          id: severe
          text: MADRS 28 or more
          scores: [{instrument: MADRS, at_least: 28}]
          source: "s: 2"
"""


def _messages(text: str, drugs: ReferenceDrugs, name: str = "sample.yaml") -> list[str]:
    policy, problems = parse_policy(text, file_name=name, drugs=drugs)
    assert policy is None
    return [str(p) for p in problems]


def test_minimal_policy_is_valid(drugs: ReferenceDrugs) -> None:
    policy, problems = parse_policy(MINIMAL, file_name="sample.yaml", drugs=drugs)
    assert problems == []
    assert policy is not None and policy.variant("trd", "initial") is not None


def test_malformed_yaml_names_line_and_column(drugs: ReferenceDrugs) -> None:
    messages = _messages("id: sample\npayer: [unclosed\n", drugs)
    assert len(messages) == 1
    assert messages[0].startswith("sample.yaml: line 3, column 1: not valid YAML")


def test_top_level_must_be_a_mapping(drugs: ReferenceDrugs) -> None:
    assert _messages("- a\n- b\n", drugs) == [
        "sample.yaml: expected a mapping with id, payer, plan_types, ... (see payers/README.md)"
    ]


def test_unknown_rule_kind(drugs: ReferenceDrugs) -> None:
    text = MINIMAL.replace("kind: age", "kind: horoscope")
    [message] = _messages(text, drugs)
    assert message.startswith(
        "sample.yaml: variants[0].criteria.rules[0]: unknown rule kind 'horoscope'; expected one of all, any"
    )


def test_wrong_value_type(drugs: ReferenceDrugs) -> None:
    [message] = _messages(MINIMAL.replace("min_years: 18", "min_years: eighteen"), drugs)
    assert message.startswith("sample.yaml: variants[0].criteria.rules[0].min_years: Input should be a valid integer")
    assert "'eighteen'" in message


def test_threshold_outside_instrument_range(drugs: ReferenceDrugs) -> None:
    [message] = _messages(MINIMAL.replace("at_least: 28", "at_least: 70"), drugs)
    assert message == (
        "sample.yaml: variants[0].criteria.rules[1].scores[0]: MADRS scores run from 0 to 60; 70 is outside"
    )


def test_unknown_instrument(drugs: ReferenceDrugs) -> None:
    [message] = _messages(MINIMAL.replace("instrument: MADRS", "instrument: GAD-7"), drugs)
    assert "unknown instrument 'GAD-7'; expected one of PHQ-9, MADRS" in message


def test_criterion_without_source(drugs: ReferenceDrugs) -> None:
    [message] = _messages(MINIMAL.replace(', source: "s: 1"', ""), drugs)
    assert message == "sample.yaml: variants[0].criteria.rules[0].source: required field is missing"


def test_source_must_name_a_listed_source(drugs: ReferenceDrugs) -> None:
    [message] = _messages(MINIMAL.replace('source: "s: 2"', 'source: "elsewhere: 2"'), drugs)
    assert message == ("sample.yaml: variants[0].criteria.rules[1].source: starts with 'elsewhere', which is not a "
                       "key of sources (expected one of s)")


def test_duplicate_criterion_ids(drugs: ReferenceDrugs) -> None:
    [message] = _messages(MINIMAL.replace("id: severe", "id: adult"), drugs)
    assert message == ("sample.yaml: variants[0].criteria.rules[1].id: duplicate criterion id 'adult' "
                       "(also at variants[0].criteria.rules[0])")


def test_unknown_drug_class(drugs: ReferenceDrugs) -> None:
    text = MINIMAL + """        - kind: trials
          id: trials
          text: Two trials
          count: 2
          allowed_classes: [SSRI, herbal]
          definitions: [{outcomes: [non_response]}]
          source: "s: 3"
"""
    [message] = _messages(text, drugs)
    assert message.startswith("sample.yaml: variants[0].criteria.rules[2].allowed_classes[1]: unknown drug class "
                              "'herbal'; expected one of")


def test_id_must_match_file_name(drugs: ReferenceDrugs) -> None:
    assert _messages(MINIMAL, drugs, name="other.yaml") == [
        "other.yaml: id: must match the file name ('other'), got 'sample'"
    ]


def test_incomplete_policy_must_say_what_is_missing(drugs: ReferenceDrugs) -> None:
    [message] = _messages(MINIMAL.replace("{status: complete}", "{status: incomplete}"), drugs)
    assert message == "sample.yaml: completeness: an incomplete policy must list what is missing"


def test_unknown_field_and_bad_enum(drugs: ReferenceDrugs) -> None:
    text = MINIMAL.replace("benefit: medical", "benefit: dental\nbenifit: medical")
    messages = _messages(text, drugs)
    assert any(m.startswith("sample.yaml: benefit: Input should be 'medical', 'pharmacy' or 'unstated'")
               for m in messages)
    assert "sample.yaml: benifit: unknown field (check the spelling against payers/README.md)" in messages


def test_at_least_n_larger_than_its_rules(drugs: ReferenceDrugs) -> None:
    text = MINIMAL.replace("kind: all\n      id: root", "kind: at_least\n      n: 3\n      id: root")
    [message] = _messages(text, drugs)
    assert message == "sample.yaml: variants[0].criteria: n is 3 but only 2 rules are listed"


def test_broken_file_leaves_valid_ones_loaded(tmp_path: Path, drugs: ReferenceDrugs) -> None:
    (tmp_path / "sample.yaml").write_text(MINIMAL)
    (tmp_path / "broken.yaml").write_text("id: broken\npayer: [\n")
    (tmp_path / "cigna.yaml").write_text((PAYERS / "cigna.yaml").read_text())
    catalog = load_catalog([tmp_path], drugs=drugs)
    assert set(catalog.policies) == {"sample", "cigna"}
    assert catalog.broken_files == ["broken.yaml"]


def test_shipped_policies_round_trip_as_yaml(drugs: ReferenceDrugs) -> None:
    for path in sorted(PAYERS.glob("*.yaml")):
        assert all(isinstance(d, dict) for d in yaml.safe_load_all(path.read_text())), path.name


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desk", "payers", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_cli_check_and_list(tmp_path: Path) -> None:
    ok = _cli("check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout == ""
    listing = json.loads(_cli("list").stdout)
    assert {"id": "cigna", "name": "Cigna", "plan_types": ["commercial"], "benefit": "unstated",
            "incomplete": True} in listing
    assert len(listing) == len(list(PAYERS.glob("*.yaml")))
    broken_sample = MINIMAL.replace("at_least: 28", "at_least: 70").replace(', source: "s: 1"', "")
    (tmp_path / "sample.yaml").write_text(broken_sample)
    (tmp_path / "broken.yaml").write_text("id: [\n")
    bad = _cli("check", str(tmp_path))
    assert bad.returncode == 1
    lines = bad.stdout.strip().splitlines()
    assert lines[0].startswith("broken.yaml: line ")
    assert "sample.yaml: variants[0].criteria.rules[0].source: required field is missing" in lines
    assert "sample.yaml: variants[0].criteria.rules[1].scores[0]: MADRS scores run from 0 to 60; 70 is outside" in lines
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("missing", ["nowhere.yaml"])
def test_cli_check_missing_path(missing: str, tmp_path: Path) -> None:
    result = _cli("check", str(tmp_path / missing))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / missing}: no such file or folder"


def test_cli_diff_and_code_shape_warnings(tmp_path: Path) -> None:
    old = (PAYERS / "qualchoice.yaml").read_text()
    new = old.replace("within_days: 28", "within_days: 30").replace("icd10_prefixes: [F32, F33]\n          source: "
                                                                     '"qc: I.a"', 'icd10_prefixes: [F32, F33, "296"]'
                                                                     '\n          source: "qc: I.a"')
    assert new.count('"296"') == 1
    (tmp_path / "qualchoice.yaml").write_text(new)
    diff = _cli("diff", str(PAYERS / "qualchoice.yaml"), str(tmp_path / "qualchoice.yaml"))
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout.splitlines() == [
        "~ trd/initial trd-diagnosis icd10_prefixes: added 296",
        "~ trd/initial trd-phq9 within_days: 28 → 30",
    ]
    checked = _cli("check", str(tmp_path))
    assert checked.returncode == 0
    assert ("warning: qualchoice.yaml: variants[0].criteria.rules[0].icd10_prefixes[2]: '296' is not shaped like an "
            "ICD-10-CM code (e.g. F33.2 or F332)") in checked.stderr
    missing = _cli("diff", str(tmp_path / "nowhere.yaml"), str(tmp_path / "qualchoice.yaml"))
    assert missing.returncode == 1 and "OLD: nowhere.yaml: cannot be read" in missing.stderr
    assert _cli("check").stderr.count("warning:") == 0  # every shipped code is ICD-10-CM shaped
