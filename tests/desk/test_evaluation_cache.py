"""Evaluations kept per facts version (SQLite and PostgreSQL): a rerun is served from the cache, and every kind of
write an evaluation reads gives the patient a new facts version, so the next evaluation reads the record again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.database import unit_of_work
from desk.evaluation_cache import CACHE, LruCache, clear_evaluation_cache, patient_evaluation
from desk.facts_version import facts_version, wrote_facts
from desk.models import (
    Coverage,
    CurrentMedication,
    Diagnosis,
    FactsVersion,
    ImportedFact,
    InpatientStay,
    MedicationTrial,
    Patient,
    Prescriber,
    PsychotherapyTrial,
    RatingScore,
    RemsEnrollment,
    SessionDevice,
    Site,
    TreatmentCourse,
    TreatmentSession,
)
from desk.models.prior_auth import PaAuthorization, PaSignoff, PriorAuthCase
from desk.policies.builder import build_case_facts
from desk.policies.case import RequestedRegimen
from desk.policies.drugs import default_drugs
from desk.policies.eligibility import coverage_eligibility, every_payer
from desk.policies.evaluator import Evaluation, evaluate
from desk.policies.loader import load_catalog
from desk.prior_auth.checklist import evaluate_case
from tests.desk.policies.conftest import PAYERS
from tests.factories import (
    make_coverage,
    make_diagnosis,
    make_enrollment,
    make_patient,
    make_prescriber,
    make_score,
    make_site,
    make_trial,
)

AS_OF = date(2026, 11, 26)
DRUGS = default_drugs()
CATALOG = load_catalog([PAYERS], drugs=DRUGS)
POLICY = CATALOG.policies["highmark"]  # reads trials, scores, diagnosis, screening, prescriber, REMS and setting


@dataclass
class Record:
    patient_id: int
    other_id: int
    coverage_id: int
    site_id: int
    prescriber_id: int
    case_id: int
    session_id: int


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    clear_evaluation_cache()


@pytest.fixture
def record(engine: Engine) -> Record:
    with unit_of_work(engine, actor="tester") as session:
        site = make_site(session)
        prescriber = make_prescriber(session)
        patient = make_patient(session, site=site, prescriber_id=prescriber.id, pdmp_checked_on=date(2026, 11, 1))
        other = make_patient(session, site=site, prescriber_id=prescriber.id)
        make_diagnosis(session, patient=patient)
        make_trial(session, patient=patient)
        make_score(session, patient=patient, instrument="MADRS", score=34, measured_on=date(2026, 11, 1))
        coverage = make_coverage(session, patient=patient, payer_id="highmark")
        make_enrollment(session, patient=patient)
        case = PriorAuthCase(patient_id=patient.id, coverage_id=coverage.id, payer_id="highmark",
                             plan_type="commercial", indication="TRD", phase="initial")
        session.add(case)
        first = datetime(2026, 10, 5, 15, 0, tzinfo=UTC)
        treatment = TreatmentSession(patient_id=patient.id, site_id=site.id, session_date=first.date(), dose_mg=56,
                                     devices=2, first_device_at=first, discharged_at=first + timedelta(minutes=130))
        session.add(treatment)
        session.flush()
        ids = (patient.id, other.id, coverage.id, site.id, prescriber.id, case.id, treatment.id)
    assert all(i is not None for i in ids)
    return Record(*(int(i or 0) for i in ids))


def _cached(engine: Engine, record: Record, *, patient_id: int | None = None) -> Evaluation:
    with unit_of_work(engine, actor="tester") as session:
        return patient_evaluation(session, patient_id=patient_id or record.patient_id,
                                  coverage_id=record.coverage_id if patient_id is None else None, policy=POLICY,
                                  indication="trd", phase="initial", as_of=AS_OF, drugs=DRUGS)


def _fresh(engine: Engine, record: Record) -> Evaluation:
    with unit_of_work(engine, actor="tester") as session:
        case = build_case_facts(session, patient_id=record.patient_id, coverage_id=record.coverage_id, as_of=AS_OF)
        return evaluate(case, POLICY, indication="trd", phase="initial", as_of=AS_OF, drugs=DRUGS)


def _facts(engine: Engine, record: Record) -> object:
    with unit_of_work(engine, actor="tester") as session:
        return build_case_facts(session, patient_id=record.patient_id, coverage_id=record.coverage_id, as_of=AS_OF)


def _versions(engine: Engine, patient_id: int) -> tuple[int, int]:
    with Session(engine) as session:
        return facts_version(session, patient_id=patient_id)


def _add(row: Callable[[Record], object]) -> Callable[[Session, Record], None]:
    def write(session: Session, record: Record) -> None:
        session.add(row(record))
    return write


def _change(model: type, pick: Callable[[Record], int], **values: object) -> Callable[[Session, Record], None]:
    def write(session: Session, record: Record) -> None:
        row = session.get(model, pick(record))
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
    return write


def _delete_first(model: type) -> Callable[[Session, Record], None]:
    def write(session: Session, record: Record) -> None:
        row = session.exec(select(model).where(model.patient_id == record.patient_id)).first()  # type: ignore[attr-defined]
        assert row is not None
        session.delete(row)
    return write


def _authorization(session: Session, record: Record) -> None:
    case = session.get(PriorAuthCase, record.case_id)
    assert case is not None
    case.status = "approved"
    session.add(case)
    session.add(PaAuthorization(case_id=record.case_id, patient_id=record.patient_id, auth_number="A-1",
                                start_on=date(2026, 1, 1), end_on=date(2026, 6, 30), decided_on=date(2026, 1, 2)))


def _patient(r: Record) -> int:
    return r.patient_id


# One write per table (or column group) the evaluation reads; each must give the patient a new version.
WRITES: dict[str, Callable[[Session, Record], None]] = {
    "patient screening": _change(Patient, _patient, psychosis_history=True),
    "patient PDMP check": _change(Patient, _patient, pdmp_checked_on=date(2026, 11, 20)),
    "patient consultation": _change(Patient, _patient, psychiatric_consult_on=date(2026, 11, 3)),
    "patient prescriber": _change(Patient, _patient, prescriber_id=None),
    "coverage benefit": _change(Coverage, lambda r: r.coverage_id, benefit="pharmacy"),
    "diagnosis added": _add(lambda r: Diagnosis(patient_id=r.patient_id, icd10="F32.2", description="MDD")),
    "diagnosis changed": _change(Diagnosis, _patient, is_current=False),
    "trial added": _add(lambda r: MedicationTrial(patient_id=r.patient_id, drug="bupropion", daily_dose_mg=300,
                                                  start_date=date(2025, 6, 1), end_date=date(2025, 8, 1),
                                                  outcome="non_response", current_episode=True)),
    "trial deleted": _delete_first(MedicationTrial),
    "psychotherapy added": _add(lambda r: PsychotherapyTrial(patient_id=r.patient_id, modality="CBT",
                                                             start_date=date(2025, 5, 1))),
    "score added": _add(lambda r: RatingScore(patient_id=r.patient_id, instrument="PHQ-9", score=20,
                                              measured_on=date(2026, 11, 20))),
    "current medication added": _add(lambda r: CurrentMedication(patient_id=r.patient_id, drug="mirtazapine",
                                                                 started_on=date(2026, 10, 1))),
    "inpatient stay added": _add(lambda r: InpatientStay(patient_id=r.patient_id, admitted_on=date(2026, 10, 1))),
    "REMS enrollment deleted": _delete_first(RemsEnrollment),
    "treatment course added": _add(lambda r: TreatmentCourse(patient_id=r.patient_id, indication="TRD",
                                                             start_date=date(2026, 9, 1))),
    "treatment session changed": _change(TreatmentSession, lambda r: r.session_id, discharged_at=None),
    "session device added": _add(lambda r: SessionDevice(treatment_session_id=r.session_id, sequence=3,
                                                         administered_at=datetime(2026, 10, 5, 15, 10, tzinfo=UTC))),
    "PA authorization granted": _authorization,
    "PA signoff recorded": _add(lambda r: PaSignoff(case_id=r.case_id, criterion_id="trd-age", kind="attestation",
                                                    note="n", by="tester")),
    "imported history": _add(lambda r: ImportedFact(patient_id=r.patient_id, section="trials", row_id=1,
                                                    source_file="f.json", resource_ids="m1",
                                                    imported_on=date(2026, 11, 1))),
    "site certification": _change(Site, lambda r: r.site_id, rems_certified_on=date(2026, 12, 1)),
    "prescriber specialty": _change(Prescriber, lambda r: r.prescriber_id, specialty="other"),
}
SHARED = {"site certification", "prescriber specialty"}


@pytest.mark.parametrize("name", list(WRITES))
def test_each_write_gives_a_new_facts_version_and_a_fresh_evaluation(engine: Engine, record: Record,
                                                                     name: str) -> None:
    before = _cached(engine, record)
    hits = CACHE.hits
    assert _cached(engine, record).as_dict() == before.as_dict()
    assert CACHE.hits == hits + 1  # the rerun came from the cache
    facts = _facts(engine, record)
    versions = _versions(engine, record.patient_id)
    other_versions = _versions(engine, record.other_id)

    with unit_of_work(engine, actor="tester") as session:
        WRITES[name](session, record)

    after = _versions(engine, record.patient_id)
    if name in SHARED:
        assert after[0] == versions[0] and after[1] != versions[1]
        assert _versions(engine, record.other_id)[1] != other_versions[1]  # every patient's facts
    else:
        assert after[0] != versions[0] and after[1] == versions[1]
        assert _versions(engine, record.other_id) == other_versions  # only this patient's
    got = _cached(engine, record)
    assert got.as_dict() == _fresh(engine, record).as_dict()
    if name not in {"session device added", "PA signoff recorded", "imported history"}:
        assert _facts(engine, record) != facts  # the write changed what the evaluation reads


def test_a_rolled_back_write_leaves_the_cache_right(engine: Engine, record: Record) -> None:
    before = _cached(engine, record)
    with pytest.raises(RuntimeError), unit_of_work(engine, actor="tester") as session:
        WRITES["trial deleted"](session, record)
        session.flush()
        assert wrote_facts(session)
        # Read through the writing session: the pending write shows, and nothing is kept.
        inside = patient_evaluation(session, patient_id=record.patient_id, coverage_id=record.coverage_id,
                                    policy=POLICY, indication="trd", phase="initial", as_of=AS_OF, drugs=DRUGS)
        assert inside.as_dict() != before.as_dict()
        raise RuntimeError("roll back")
    assert _cached(engine, record).as_dict() == before.as_dict() == _fresh(engine, record).as_dict()
    # The next real write gets a version no earlier reader could have kept anything under.
    with unit_of_work(engine, actor="tester") as session:
        WRITES["trial deleted"](session, record)
    assert _cached(engine, record).as_dict() == _fresh(engine, record).as_dict() != before.as_dict()


def test_a_writing_session_is_marked_until_commit(engine: Engine, record: Record) -> None:
    with unit_of_work(engine, actor="tester") as session:
        assert not wrote_facts(session)
        WRITES["score added"](session, record)
        session.flush()
        assert wrote_facts(session)
        session.commit()
        assert not wrote_facts(session)


def test_key_holds_date_policy_variant_regimen_and_attestations(engine: Engine, record: Record) -> None:
    with unit_of_work(engine, actor="tester") as session:
        def run(**changes: object) -> Evaluation:
            args: dict[str, object] = {"patient_id": record.patient_id, "coverage_id": record.coverage_id,
                                       "policy": POLICY, "indication": "trd", "phase": "initial", "as_of": AS_OF,
                                       "drugs": DRUGS, **changes}
            return patient_evaluation(session, **args)  # type: ignore[arg-type]

        base = run()
        assert run(as_of=AS_OF - timedelta(days=300)).as_of == AS_OF - timedelta(days=300)
        assert run(phase="continuation").phase == "continuation"
        assert run(policy=CATALOG.policies["uhc"]).payer == "uhc"
        edited = POLICY.model_copy(update={"payer": "Edited payer"})
        assert run(policy=edited).payer_name == "Edited payer"
        regimen = RequestedRegimen(dose_mg=84, sessions_per_week=2, weeks=4)
        assert run(requested=regimen).request_problems == run(requested=regimen).request_problems
        assert run(attestations=["trd-age"]).as_dict() != base.as_dict() or base.criterion("trd-age").status == "met"
        assert run().as_dict() == base.as_dict()


def test_pa_case_checklist_and_eligibility_use_the_cache(engine: Engine, record: Record) -> None:
    with unit_of_work(engine, actor="tester") as session:
        case = session.get(PriorAuthCase, record.case_id)
        assert case is not None
        first, _, _ = evaluate_case(session, case=case, as_of=AS_OF)
        hits = CACHE.hits
        again, _, _ = evaluate_case(session, case=case, as_of=AS_OF)
        assert CACHE.hits == hits + 1 and first is not None and again is not None
        assert again.as_dict() == first.as_dict() and again is not first  # each caller gets its own copy
        again.notes.append("changed by a caller")
        again.criteria[0].evidence.append("changed by a caller")
        assert again.approval is not None
        again.approval.dose_caps.append("changed by a caller")
        third, _, _ = evaluate_case(session, case=case, as_of=AS_OF)
        assert third is not None and third.as_dict() == first.as_dict()
        results = coverage_eligibility(session, patient_id=record.patient_id, catalog=CATALOG, drugs=DRUGS,
                                       indication="trd", phase="initial", as_of=AS_OF)
        side_by_side = every_payer(session, patient_id=record.patient_id, catalog=CATALOG, drugs=DRUGS,
                                   indication="trd", phase="initial", as_of=AS_OF)
        hits = CACHE.hits
        again_results = coverage_eligibility(session, patient_id=record.patient_id, catalog=CATALOG, drugs=DRUGS,
                                             indication="trd", phase="initial", as_of=AS_OF)
        assert again_results[0].evaluation == results[0].evaluation
        assert every_payer(session, patient_id=record.patient_id, catalog=CATALOG, drugs=DRUGS, indication="trd",
                           phase="initial", as_of=AS_OF) == side_by_side
        assert CACHE.hits == hits + 1 + len(side_by_side)


def test_versions_are_read_once_per_transaction(engine: Engine, record: Record) -> None:
    with unit_of_work(engine, actor="tester") as session:
        first = facts_version(session, patient_id=record.patient_id)
        with unit_of_work(engine, actor="tester") as other:  # another user's write, committed meanwhile
            WRITES["score added"](other, record)
        assert facts_version(session, patient_id=record.patient_id) == first  # as of this page's first read
        session.commit()
        assert facts_version(session, patient_id=record.patient_id) != first  # the next transaction sees it


def test_versions_live_in_the_database_for_every_server(engine: Engine, record: Record) -> None:
    with Session(engine) as session:
        scopes = {row.scope for row in session.exec(select(FactsVersion))}
    assert f"patient:{record.patient_id}" in scopes and "shared" in scopes


def test_lru_is_bounded_and_forgets_the_least_recently_used() -> None:
    cache = LruCache(3)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.get("a") == "A"  # now the most recent
    cache.put("d", "D")
    assert len(cache) == 3
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("d") == "D"
    with pytest.raises(ValueError, match="at least 1"):
        LruCache(0)


def test_lru_is_safe_to_share_between_threads() -> None:
    cache = LruCache(50)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                cache.put((n, i % 80), i)
                cache.get((n, (i * 7) % 80))
        except BaseException as exc:  # pragma: no cover - only on a failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(cache) == 50
