"""The Payer policies page: every policy with its criteria and gaps; broken files shown, valid ones still listed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ui.conftest import ROOT, AppFactory
from tests.ui.screen import shown


def test_billing_sees_every_policy(page_app: AppFactory) -> None:
    at = page_app("pages/payers.py", roles=("billing",)).run()
    assert not at.exception
    assert shown(at.title[0].value) == "Payer policies"
    labels = [e.label for e in at.expander]
    assert "Technical details" not in labels
    assert len(labels) == len(list((ROOT / "payers").glob("*.yaml")))
    assert any(label.startswith("**Cigna**") and "incomplete" in label for label in labels)
    generic = next(label for label in labels if label.startswith("**Generic commercial payer"))
    assert "incomplete" not in generic
    markdown = "\n".join(shown(m.value) for m in at.markdown)
    assert "Prescribed by a psychiatrist" in markdown
    # Criteria cite their documents by title; rule ids, source keys and the payers folder are for administrators.
    assert "trd-trials" not in markdown and "pw: " not in markdown
    assert "pharmacistwrite coverage summary, Cigna / Spravato — " in markdown
    assert "payers/" not in "\n".join(shown(c.value) for c in at.caption)
    assert not any("**File:**" in m or "**id:**" in m for m in markdown.splitlines())
    assert "https://coverage.pharmacistwrite.com/" in markdown
    assert "fax 1-888-641-5199" in markdown
    warnings = "\n".join(w.value for w in at.warning)
    assert "reauthorization criteria beyond" in warnings
    assert not at.error
    assert ("**Decision clock, Commercial:** 15 calendar days standard, 72 hours expedited :small[(documented default: "
            "employer (ERISA) plans, 29 CFR 2560.503-1(f)(2) (spravato.md §5))]") in markdown
    assert "**Renewal reminder:** 21 days before an authorization ends (clinic setting)" in markdown


def test_admin_finds_rule_ids_and_files_under_technical_details(page_app: AppFactory) -> None:
    at = page_app("pages/payers.py", roles=("admin",)).run()
    assert not at.exception
    cigna = next(e for e in at.expander if e.label.startswith("**Cigna**"))
    technical = [e for e in cigna.expander if e.label == "Technical details"]
    assert technical, "an administrator gets the technical details of each policy"
    ids = [rule_id for x in technical for d in x.dataframe for rule_id in d.value["Rule id"]]
    assert "trd-trials" in ids
    assert any("cigna.yaml" in shown(m.value) for x in technical for m in x.markdown)


def test_broken_file_is_shown_and_others_still_load(page_app: AppFactory, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ROOT / "payers" / "cigna.yaml", tmp_path / "cigna.yaml")
    broken = (ROOT / "payers" / "uhc.yaml").read_text().replace("kind: trials", "kind: vibes")
    (tmp_path / "uhc.yaml").write_text(broken)
    monkeypatch.setenv("DESK_PAYERS_DIR", str(tmp_path))
    at = page_app("pages/payers.py", roles=("admin",)).run()
    assert not at.exception
    assert [e.label.split("**")[1] for e in at.expander if e.label.startswith("**")] == ["Cigna"]
    assert "1 policy file(s) could not be loaded" in shown(at.error[0].value)
    code = "\n".join(c.value for c in at.code)
    assert "unknown rule kind 'vibes'" in code
    assert "variants[1].criteria.rules[4]" in code


def test_nurse_is_refused(page_app: AppFactory) -> None:
    at = page_app("pages/payers.py", roles=("nurse",)).run()
    assert shown(at.error[0].value) == "Your role does not allow this page."
    assert not at.expander


def test_signed_out_sees_only_the_prompt(page_app: AppFactory) -> None:
    at = page_app("pages/payers.py").run()
    assert "Please sign in" in shown(at.info[0].value)
    assert not at.title


def test_clocks_per_plan_type_and_renewal_lead_from_the_file(page_app: AppFactory, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "payers" / "cigna.yaml").read_text().replace(
        "plan_types: [commercial]", "plan_types: [commercial, medicare_part_d, tricare]")
    text += """
decision_clocks:
  commercial:
    standard: {amount: 5, unit: business_days}
    expedited: {amount: 48, unit: hours}
    source: "policy: utilization review timeframes"
renewal_lead_days: 30
"""
    (tmp_path / "cigna.yaml").write_text(text)
    monkeypatch.setenv("DESK_PAYERS_DIR", str(tmp_path))
    monkeypatch.setenv("DESK_RENEWAL_LEAD_DAYS", "14")
    at = page_app("pages/payers.py", roles=("billing",)).run()
    assert not at.exception and not at.error
    markdown = "\n".join(shown(m.value) for m in at.markdown)
    assert ("**Decision clock, Commercial:** 5 business days standard, 48 hours expedited :small[(payer file: "
            "policy: utilization review timeframes)]") in markdown
    assert ("**Decision clock, Medicare Part D:** 72 hours standard, 24 hours expedited :small[(documented default: "
            "Medicare Part D, 42 CFR 423.568 and 423.572 (spravato.md §5))]") in markdown
    assert ("**Decision clock, TRICARE:** :orange[no decision clock known — set one in the payer file]"
            in markdown)
    assert "**Renewal reminder:** 30 days before an authorization ends (payer file)" in markdown
