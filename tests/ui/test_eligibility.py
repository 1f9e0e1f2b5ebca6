"""The patient record's Payer criteria tab: each coverage's payer evaluated, no-policy payers flagged clearly."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from desk.audit import install_audit_hook
from tests.factories import (
    make_coverage,
    make_diagnosis,
    make_enrollment,
    make_patient,
    make_prescriber,
    make_score,
    make_trial,
)
from tests.ui.conftest import ROOT, AppFactory
from tests.ui.screen import every_record_tab_shown, shown


def _patient(engine: Engine) -> int:
    with Session(engine, expire_on_commit=False) as session:
        session.info["actor"] = "tester"
        install_audit_hook(session)
        prescriber = make_prescriber(session)
        patient = make_patient(session, prescriber_id=prescriber.id)
        make_diagnosis(session, patient=patient)
        make_trial(session, patient=patient)
        make_trial(session, patient=patient, drug="bupropion", daily_dose_mg=300, start_date=date(2025, 6, 1),
                   end_date=date(2025, 8, 1))
        make_score(session, patient=patient, measured_on=date(2025, 10, 1))
        make_coverage(session, patient=patient, payer_id="cigna")
        make_coverage(session, patient=patient, payer_id="medicaid", plan_type="medicaid_ffs", priority="secondary")
        session.commit()
        assert patient.id is not None
        return patient.id


def _open(page_app: AppFactory, patient_id: int) -> AppTest:
    """The record opened as billing through the app's navigation (its links need the registered pages)."""
    at = page_app("app.py", roles=("billing",)).run()
    at.session_state["patient_id"] = patient_id
    return every_record_tab_shown(at.switch_page("pages/patient_record.py").run())


def test_payer_criteria_tab(page_app: AppFactory, app_db: Engine) -> None:
    at = _open(page_app, _patient(app_db))
    assert not at.exception
    assert "Payer criteria" in [t.label for t in at.tabs]
    markdown = "\n".join(shown(m.value) for m in at.markdown)
    assert "Primary coverage · Cigna · Commercial" in markdown
    assert "Secondary coverage · Medicaid · Medicaid fee-for-service" in markdown
    assert "Source: [" in markdown
    assert "pw: " not in markdown and "label: " not in markdown
    assert "Needs attestation" in markdown or "Meets criteria" in markdown or "Does not meet" in markdown
    warning = "\n".join(shown(w.value) for w in at.warning)
    assert "No policy on file for this payer (Medicaid)" in warning
    assert any(e.label == "Generic commercial checklist (reference only)" for e in at.expander)
    at.toggle[0].set_value(True).run()
    assert not at.exception
    assert len([e for e in at.expander if "—" in e.label]) == len(list((ROOT / "payers").glob("*.yaml")))


def _highmark_patient(engine: Engine) -> int:
    """A Highmark patient with two failed trials, enrolled in the REMS, with no DSM edition on the diagnosis."""
    with Session(engine, expire_on_commit=False) as session:
        session.info["actor"] = "tester"
        install_audit_hook(session)
        prescriber = make_prescriber(session)
        patient = make_patient(session, prescriber_id=prescriber.id)
        make_diagnosis(session, patient=patient, dsm_edition="")
        make_trial(session, patient=patient)
        make_trial(session, patient=patient, drug="bupropion", daily_dose_mg=300, start_date=date(2025, 6, 1),
                   end_date=date(2025, 8, 1))
        make_enrollment(session, patient=patient, confirmation_number="ENR-0099")
        make_coverage(session, patient=patient, payer_id="highmark")
        session.commit()
        assert patient.id is not None
        return patient.id


def test_still_needed_lists_not_met_unknown_and_attestations(page_app: AppFactory, app_db: Engine) -> None:
    at = _open(page_app, _highmark_patient(app_db))
    assert not at.exception
    summary = next(shown(m.value) for m in at.markdown if shown(m.value).startswith("**Still needed**"))
    not_met, unknown, attest = (summary.index(h) for h in ("**Not met**", "**Unknown: not on record**",
                                                           "**Attestations needed**"))
    assert not_met < unknown < attest  # grouped, in that order
    failed = summary[not_met:unknown]
    assert "Failed at least 3 different antidepressants" in failed
    assert "2 qualifying antidepressant trials of 3 required" in failed  # the evidence why
    assert "Counted: sertraline" not in failed  # what counted stays in the tree below
    assert "Failed at least 1 augmentation trial" in failed and "No augmentation trials recorded." in failed
    assert "No oral antidepressant on the current medication list." in failed
    missing = summary[unknown:attest]
    assert "Treatment-resistant depression diagnosed according to the current DSM" in missing
    assert "needs the DSM edition used (F33.2)" in missing
    signatures = summary[attest:]
    assert "The dispensing pharmacy is REMS certified" in signatures
    assert "The diagnosis was made by a mental-health professional" in signatures
    # REMS enrollment and monitoring come from the record now: met, so not asked for.
    assert "enrolled in the SPRAVATO REMS" not in summary
    assert "monitored for at least 2 hours" not in summary
    tree = "\n".join(shown(m.value) for m in at.markdown)
    assert "Enrolled in the REMS on 01/06/2026 (confirmation ENR-0099)." in tree
    assert "The session log refuses discharge before 120 min from the first device." in tree
