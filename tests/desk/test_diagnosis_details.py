"""Unknown stays unknown: diagnosis details never recorded are 'not recorded', and a criterion needing them is
unknown; the ICD-10 code sets psychotic features where it says so, and a record contradicting its code is flagged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from alembic import command
from sqlmodel import Session

from desk.database import alembic_config, make_engine
from desk.models import Diagnosis
from desk.patients import DiagnosisDetails, add_diagnosis, diagnosis_details, update_diagnosis
from desk.policies.builder import build_case_facts
from desk.policies.drugs import default_drugs
from desk.policies.evaluator import evaluate
from desk.policies.schema import Policy
from tests.factories import make_diagnosis, make_patient

AS_OF = date(2026, 11, 26)
POLICY = Policy.model_validate(yaml.safe_load("""
id: dx-payer
payer: Dx Health
plan_types: [commercial]
benefit: medical
title: Dx policy
source_url: https://example.org/dx
reviewed_on: 2026-11-01
completeness: {status: complete}
sources: {p: {title: Dx policy, url: "https://example.org/dx", kind: primary}}
variants:
  - indication: trd
    phase: initial
    criteria:
      id: dx
      kind: diagnosis
      text: Recurrent MDD without psychotic features per DSM-5-TR
      source: "p: 1"
      icd10_prefixes: [F33]
      episode_types: [recurrent]
      dsm_editions: [DSM-5-TR]
      exclude_psychotic_features: true
"""))


def _status(session: Session, patient_id: int) -> str:
    facts = build_case_facts(session, patient_id=patient_id, as_of=AS_OF)
    evaluation = evaluate(facts, POLICY, indication="trd", phase="initial", as_of=AS_OF, drugs=default_drugs())
    return next(c.status for c in evaluation.criteria if c.id == "dx")


def test_details_never_recorded_leave_the_criterion_unknown(session: Session) -> None:
    patient = make_patient(session)
    row = add_diagnosis(session, patient_id=patient.id or 0, details=DiagnosisDetails(icd10="F33.2"), today=AS_OF)
    assert (row.episode_type, row.psychotic_features, row.dsm_edition, row.diagnosis_method) == (None,) * 4
    assert _status(session, patient.id or 0) == "unknown"
    update_diagnosis(session, diagnosis_id=row.id or 0, expected_version=row.version, today=AS_OF,
                     details=DiagnosisDetails(icd10="F33.2", episode_type="recurrent", psychotic_features=False,
                                              dsm_edition="DSM-5-TR"))
    assert _status(session, patient.id or 0) == "met"


@pytest.mark.parametrize("code", ["F32.3", "F33.3"])
def test_a_code_with_psychotic_features_is_never_without_them(session: Session, code: str) -> None:
    from desk.prior_auth.checklist import diagnosis_contradictions

    patient = make_patient(session)
    make_diagnosis(session, patient=patient, icd10=code, psychotic_features=False)
    facts = build_case_facts(session, patient_id=patient.id or 0, as_of=AS_OF)
    assert facts.diagnoses[0].psychotic_features is True
    if code.startswith("F33"):
        assert _status(session, patient.id or 0) == "not_met"
    [flag] = diagnosis_contradictions(session, patient_id=patient.id or 0)
    assert f"{code} is coded with psychotic features but the record says without" in flag


def test_the_migration_keeps_old_rows_and_marks_their_defaulted_details_not_recorded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "0007")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO site (name, address_line, city, state, zip_code, phone, fax, npi, tin, "
                             "rems_setting_id, authorized_representative, version) VALUES ('S', '', '', '', '', '', "
                             "'', '', '', '', '', 1)"))
        conn.execute(sa.text(
            "INSERT INTO patient (site_id, mrn, first_name, middle_initial, last_name, dob, sex, phone, email, "
            "address_line, city, state, zip_code, substance_use, concurrent_therapies, psychiatric_consultant, "
            "version, created_at) VALUES (1, 'M1', 'A', '', 'B', '1980-01-01', 'F', '', '', '', '', '', "
            "'', 'none', '', '', 1, '2026-01-01 00:00:00')"))
        conn.execute(sa.text(
            "INSERT INTO diagnosis (patient_id, icd10, description, episode_type, psychotic_features, "
            "diagnosis_method, dsm_edition, acute_suicidal_ideation, is_current, version) VALUES "
            "(1, 'F33.2', '', 'recurrent', 0, 'structured_interview', 'DSM-5-TR', 0, 1, 1)"))
    command.upgrade(config, "head")
    with Session(engine) as session:
        row = session.get(Diagnosis, 1)
        assert row is not None
        assert (row.episode_type, row.psychotic_features, row.diagnosis_method, row.dsm_edition) == (
            "recurrent", False, "structured_interview", "DSM-5-TR"), "the row keeps its values"
        details = diagnosis_details(row)
        assert (details.episode_type, details.psychotic_features, details.dsm_edition) == (None, None, None)
        assert details.diagnosis_method == "structured_interview", "not a default: it stays recorded"
    engine.dispose()
