"""Opening cases: validation, probable duplicates, notes with optimistic locking."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from desk.audit import install_audit_hook
from desk.database import unit_of_work
from desk.errors import NotFound, StaleEdit, ValidationFailed
from desk.models import AuditEvent
from desk.models.prior_auth import PaStatusChange, PriorAuthCase
from desk.prior_auth.cases import cases_for_patient, get_case, open_case, save_notes, status_history
from desk.prior_auth.lifecycle import cancel
from tests.desk.prior_auth.conftest import NOW, patient_with_coverage
from tests.factories import make_coverage, make_patient


def _count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(PriorAuthCase)).one())


def test_open_case_copies_payer_and_records_history(session: Session) -> None:
    patient, cover = patient_with_coverage(session, plan_type="commercial")
    opened = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD", phase="initial",
                       actor="billing1", now=NOW)
    case = opened.case
    assert (case.status, case.payer_id, case.plan_type, case.created_by) == ("draft", "test-payer", "commercial",
                                                                             "billing1")
    assert opened.duplicates == () and opened.warning == ""
    history = status_history(session, case_id=case.id)
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [("", "draft", "billing1")]
    session.commit()
    audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "pa_case")).all()
    assert [a.action for a in audited] == ["create"]
    assert cases_for_patient(session, patient_id=patient.id)[0].id == case.id


def test_second_open_case_same_patient_payer_indication_is_flagged(session: Session) -> None:
    patient, cover = patient_with_coverage(session)
    first = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD", phase="initial",
                      actor="a").case
    # Another coverage with the same payer, another phase: still the same payer and indication.
    other_cover = make_coverage(session, patient=patient, payer_id="test-payer", priority="secondary")
    second = open_case(session, patient_id=patient.id, coverage_id=other_cover.id, indication="TRD",
                       phase="continuation", actor="a")
    assert [c.id for c in second.duplicates] == [first.id]
    assert second.case.duplicate_of_id == first.id
    assert f"#{first.id}" in second.warning and "Probable duplicate" in second.warning


def test_not_flagged_for_other_indication_payer_or_closed_case(session: Session) -> None:
    patient, cover = patient_with_coverage(session)
    first = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD", phase="initial",
                      actor="a").case
    assert open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="MDSI", phase="initial",
                     actor="a").duplicates == ()
    other_payer = make_coverage(session, patient=patient, payer_id="another-payer")
    assert open_case(session, patient_id=patient.id, coverage_id=other_payer.id, indication="TRD",
                     phase="initial", actor="a").duplicates == ()
    cancel(session, case_id=first.id, expected_version=first.version, actor="a", reason="entered twice")
    assert open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD", phase="initial",
                     actor="a").duplicates == ()
    # Another patient with the same payer is never a duplicate.
    stranger = make_patient(session)
    stranger_cover = make_coverage(session, patient=stranger, payer_id="test-payer")
    assert open_case(session, patient_id=stranger.id, coverage_id=stranger_cover.id, indication="TRD",
                     phase="initial", actor="a").duplicates == ()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"indication": "OCD"}, "indication", "expected one of TRD, MDSI"),
        ({"phase": "renewal"}, "phase", "expected one of initial, continuation"),
        ({"urgency": "asap"}, "urgency", "expected one of standard, expedited"),
        ({"patient_id": 999_999}, "patient_id", "no such patient"),
        ({"coverage_id": 999_999}, "coverage_id", "no such coverage"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(session: Session, change: dict[str, object], field: str,
                                                      message: str) -> None:
    patient, cover = patient_with_coverage(session)
    values: dict[str, object] = {"patient_id": patient.id, "coverage_id": cover.id, "indication": "TRD",
                                 "phase": "initial", "urgency": "standard"}
    values.update(change)
    with pytest.raises(ValidationFailed) as caught:
        open_case(session, actor="a", **values)  # type: ignore[arg-type]
    assert message in caught.value.for_field(field)[0]
    assert _count(session) == 0
    assert session.exec(select(func.count()).select_from(PaStatusChange)).one() == 0


def test_coverage_of_another_patient_is_refused(session: Session) -> None:
    patient, _cover = patient_with_coverage(session)
    _other, other_cover = patient_with_coverage(session)
    with pytest.raises(ValidationFailed) as caught:
        open_case(session, patient_id=patient.id, coverage_id=other_cover.id, indication="TRD", phase="initial",
                  actor="a")
    assert caught.value.for_field("coverage_id") == ["this coverage belongs to another patient"]
    assert _count(session) == 0


def test_unknown_case_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="#424242"):
        get_case(session, case_id=424242)


def test_stale_save_is_refused_and_the_first_save_kept(engine: Engine) -> None:
    with unit_of_work(engine, actor="setup") as session:
        patient, cover = patient_with_coverage(session)
        case = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD", phase="initial",
                         actor="setup").case
        case_id, version = case.id, case.version
    # Two people opened version 1; the first saves, the second is refused.
    with unit_of_work(engine, actor="first") as session:
        save_notes(session, case_id=case_id, expected_version=version, notes="called the payer")
    with pytest.raises(StaleEdit, match="changed by someone else"), unit_of_work(engine, actor="second") as session:
        save_notes(session, case_id=case_id, expected_version=version, notes="other text")
    with Session(engine) as session:
        kept = session.get(PriorAuthCase, case_id)
        assert kept is not None and kept.notes == "called the payer" and kept.version == version + 1


def test_concurrent_commit_detected_by_the_version_column(engine: Engine) -> None:
    with unit_of_work(engine, actor="setup") as session:
        patient, cover = patient_with_coverage(session)
        case_id = open_case(session, patient_id=patient.id, coverage_id=cover.id, indication="TRD",
                            phase="initial", actor="setup").case.id
    first = Session(engine, expire_on_commit=False)
    second = Session(engine, expire_on_commit=False)
    for s, name in ((first, "first"), (second, "second")):
        s.info["actor"] = name
        install_audit_hook(s)
    a = first.get(PriorAuthCase, case_id)
    b = second.get(PriorAuthCase, case_id)
    assert a is not None and b is not None
    save_notes(first, case_id=case_id, expected_version=a.version, notes="first")
    first.commit()
    with pytest.raises(StaleEdit):
        save_notes(second, case_id=case_id, expected_version=b.version, notes="second")
    second.rollback()
    first.close()
    second.close()
    with Session(engine) as check:
        row = check.get(PriorAuthCase, case_id)
        assert row is not None and row.notes == "first"
