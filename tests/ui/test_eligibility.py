"""The patient record's Payer criteria tab: each coverage's payer evaluated, no-policy payers flagged clearly."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session

from desk.audit import install_audit_hook
from tests.factories import make_coverage, make_diagnosis, make_patient, make_prescriber, make_score, make_trial
from tests.ui.conftest import AppFactory


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


def test_payer_criteria_tab(page_app: AppFactory, app_db: Engine) -> None:
    patient_id = _patient(app_db)
    at = page_app("pages/patient_record.py", roles=("billing",))
    at.session_state["patient_id"] = patient_id
    at.run()
    assert not at.exception
    assert "Payer criteria" in [t.label for t in at.tabs]
    markdown = "\n".join(m.value for m in at.markdown)
    assert "Primary coverage · `cigna` · commercial" in markdown
    assert "Secondary coverage · `medicaid` · medicaid_ffs" in markdown
    assert "Needs attestation" in markdown or "Meets criteria" in markdown or "Does not meet" in markdown
    warning = "\n".join(w.value for w in at.warning)
    assert "No policy on file for this payer (medicaid)" in warning
    assert any(e.label == "Generic commercial checklist (reference only)" for e in at.expander)
    at.toggle[0].set_value(True).run()
    assert not at.exception
    assert len([e for e in at.expander if "—" in e.label]) == 11
