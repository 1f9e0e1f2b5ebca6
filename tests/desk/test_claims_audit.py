"""Claims audit: every outgoing document, read back from the PDF, says only what the record supports.

Each document of every demo case is generated through the real path (record -> facts -> words -> PDF) and of
500+ generated records through facts -> words -> PDF; its text is read back with pdftotext and each checkable
sentence is compared with the record itself (not with the facts the document was written from): the REMS
certification on the start date, "meet the criteria", the episode headings, codes and units, dates, the signer.
No internal word may appear, and no PAS item carries both a drug code and a session code.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from desk.database import make_engine, migrate
from desk.demo import load_demo
from desk.fhir.pas import build_pas_bundle
from desk.models import Coverage, Diagnosis, MedicationTrial, Patient, Prescriber, Site
from desk.models.prior_auth import PaSignoff, PriorAuthCase
from desk.pdf.letters import appeal_letter, medical_necessity_letter
from desk.pdf.sample_data import sample_case_facts
from desk.policies.drugs import default_drugs
from desk.policies.loader import load_catalog
from desk.policies.schema import Policy
from desk.prior_auth.billing import decide_billing
from desk.prior_auth.checklist import case_checklist
from desk.prior_auth.compose import APPEALABLE, trial_episode
from desk.prior_auth.facts import (
    CaseFacts,
    CriterionFacts,
    DenialFacts,
    PrescriberFacts,
    RemsFacts,
    SignoffFacts,
    TrialFacts,
)
from desk.prior_auth.packet import case_facts, generate_packet
from desk.prior_auth.request_schedule import label_request
from desk.prior_auth.wording import payer_sentence
from desk.settings import PROJECT_ROOT
from tests.desk.pdf.pdfkit import pdftotext_raw

TODAY = date(2026, 12, 2)
INTERNAL = ("Counted", "Not counted", "Cannot tell yet", "(enough)", "not enough)", "Attested by billing",
            "Demo Billing", "Needs confirmation")
# Python's empty values, float noise ("200.0 mg") and percent signs glued to the number ("92%").
_NUMBER_NOISE = (re.compile(r"\bNone\b(?! of)"), re.compile(r"\bnan\b"), re.compile(r"\d\.0\b"), re.compile(r"\d%"))
DRUG_CODES, SESSION_CODES = {"J0013", "S0013"}, {"G2082", "G2083"}


def _text(pdf: bytes) -> str:
    return " ".join(pdftotext_raw(pdf).split())


def _day(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def _no_internal_words(text: str, *, extra: tuple[str, ...] = ()) -> None:
    for word in (*INTERNAL, *extra):
        assert word not in text, word
    for pattern in _NUMBER_NOISE:
        assert not pattern.search(text), pattern.search(text)


def _certified(*, setting_id: str, certified_on: date | None, until: date | None, on: date) -> bool:
    return bool(setting_id) and certified_on is not None and certified_on <= on and (until is None or on <= until)


def _expected_codes(*, plan_type: str, policy: Policy | None, on: date) -> set[str]:
    """The codes the request may carry, worked out from the sources without the desk's billing module."""
    listed = [c for c in (policy.billing_codes if policy else [])
              if (c.accepted_from is None or c.accepted_from <= on)
              and (c.accepted_until is None or on <= c.accepted_until)]
    required = {c.code for c in listed if c.required} & SESSION_CODES
    if required:
        return required
    if plan_type == "medicare_part_b":
        return set(SESSION_CODES)
    payer_drug = [c.code for c in listed if c.code in DRUG_CODES]
    return {payer_drug[0]} if payer_drug else {"J0013" if on >= date(2026, 1, 1) else "S0013"}


def _strings(node: object) -> list[dict[str, str]]:
    """Every {"valueString": ...} answer inside a FHIR resource."""
    if isinstance(node, dict):
        own = [node] if "valueString" in node else []
        return own + [found for value in node.values() for found in _strings(value)]
    if isinstance(node, list):
        return [found for value in node for found in _strings(value)]
    return []


def _check_letter(text: str, *, certified: bool, satisfied: bool, excepted: bool, episode_start: date | None,
                  trial_episodes: list[tuple[date, str]], codes: set[str], units: int | None, start: date,
                  signer: str) -> None:
    if certified:
        assert "is certified in the SPRAVATO REMS (setting ID" in text
    else:
        assert "is certified in the SPRAVATO REMS" not in text and "certified" in text
    meets = "meet the criteria of" in text
    assert meets == (satisfied and not excepted), "the conclusion must match the evaluation"
    if satisfied and excepted:
        assert "a clinical exception is requested" in text
    if not satisfied:
        assert "are not yet documented" in text
    current = "Trials in the current episode"
    earlier = "Trials in earlier episodes"
    if episode_start is None:
        assert current not in text and earlier not in text
        assert "The start of the current depressive episode is not recorded." in text
    else:
        assert f"The current depressive episode began {_day(episode_start)}" in text
        kinds = {kind for _start, kind in trial_episodes}
        assert (f"{current} (since {_day(episode_start)})" in text) == ("current" in kinds)
        assert (f"{earlier} (before {_day(episode_start)})" in text) == ("earlier" in kinds)
    codes_row = text[text.index("Codes NDC"):text.index("Episode start")]
    shown = set(re.findall(r"\b(?:J0013|S0013|G2082|G2083)\b", codes_row))
    assert shown and shown <= codes, (shown, codes)
    assert not (shown & DRUG_CODES and shown & SESSION_CODES)
    if units is not None:
        assert f"{units} units for" in text
    assert _day(start) in text
    closing = text[text.rindex("Sincerely,"):]
    assert signer in closing


# ---------------------------------------------------------------- the demo cases, through the real path


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'demo.sqlite3'}"
    migrate(url)
    engine = make_engine(url)
    load_demo(engine, today=TODAY)
    return engine


@pytest.fixture(autouse=True)
def shipped_payers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_PAYERS_DIR", str(PROJECT_ROOT / "payers"))
    monkeypatch.setenv("DESK_TIMEZONE", "America/New_York")


def test_every_demo_case_document_says_only_what_the_record_supports(demo_engine: Engine) -> None:
    catalog = load_catalog([PROJECT_ROOT / "payers"], drugs=default_drugs())
    checked = 0
    with Session(demo_engine) as session:
        cases = session.exec(select(PriorAuthCase).order_by(col(PriorAuthCase.id))).all()
        for case in cases:
            if case.status in ("cancelled", "expired"):
                continue
            assert case.id is not None
            patient = session.get(Patient, case.patient_id)
            coverage = session.get(Coverage, case.coverage_id)
            assert patient is not None and coverage is not None and patient.prescriber_id is not None
            site = session.get(Site, patient.site_id)
            prescriber = session.get(Prescriber, patient.prescriber_id)
            assert site is not None and prescriber is not None
            start = case.start_on or TODAY
            checklist = case_checklist(session, case=case, as_of=TODAY)
            signoffs = session.exec(select(PaSignoff).where(PaSignoff.case_id == case.id,
                                                            PaSignoff.withdrawn == False)).all()  # noqa: E712
            relied = [i for i in checklist.items if not i.is_group]
            excepted = any(i.effective == "excepted" for i in relied if i.exception is not None) and any(
                s.kind == "exception" for s in signoffs)
            diagnoses = session.exec(select(Diagnosis).where(Diagnosis.patient_id == patient.id,
                                                             Diagnosis.is_current == True)).all()  # noqa: E712
            starts = [d.episode_start for d in diagnoses if d.episode_start]
            episode_start = max(starts) if starts else None
            trials = session.exec(select(MedicationTrial).where(MedicationTrial.patient_id == patient.id)).all()
            episodes = [(t.start_date, "unknown" if episode_start is None else
                         "current" if t.end_date is None or t.end_date >= episode_start else "earlier") for t in trials]
            codes = _expected_codes(plan_type=coverage.plan_type, policy=catalog.get(case.payer_id), on=start)
            facts = case_facts(session, case=case, checklist=checklist, today=TODAY)
            units = facts.request.billing.total_units if codes <= DRUG_CODES else None
            common = dict(certified=_certified(setting_id=site.rems_setting_id, certified_on=site.rems_certified_on,
                                               until=site.rems_certified_until, on=start),
                          satisfied=checklist.ready, excepted=excepted, episode_start=episode_start,
                          trial_episodes=episodes, codes=codes, units=units, start=start,
                          signer=f"{prescriber.first_name} {prescriber.last_name}")
            ids = tuple(i.id for i in checklist.items if "-" in i.id)
            letters = [medical_necessity_letter(facts)]
            if case.status in APPEALABLE:
                letters.append(appeal_letter(facts))
            for pdf in letters:
                text = _text(pdf)
                _check_letter(text, **common)  # type: ignore[arg-type]
                _no_internal_words(text, extra=(*ids, *(f"by {s.by}" for s in signoffs)))
            packet = generate_packet(session, case_id=case.id, actor="billing", today=TODAY)
            packet_text = _text(packet.content)
            _no_internal_words(packet_text, extra=ids)
            policy = catalog.get(case.payer_id)
            faxes = [c.number for c in (policy.submission if policy else []) if c.channel == "fax"]
            cover = packet_text[:packet_text.index("Page 1 of")]
            if faxes:
                assert faxes[0] in cover, "the fax cover's To fax is the payer file's"
            assert f"{prescriber.first_name} {prescriber.last_name}" in cover, "the fax is from the prescriber"
            if coverage.benefit and site.npi:
                bundle = build_pas_bundle(session, case_id=case.id)
                claim = bundle["entry"][0]["resource"]
                item_codes = [c["code"] for item in claim["item"] for c in item["productOrService"]["coding"]]
                for item in claim["item"]:
                    on_item = {c["code"] for c in item["productOrService"]["coding"]}
                    assert not (on_item & DRUG_CODES and on_item & SESSION_CODES)
                assert not (set(item_codes) & DRUG_CODES and set(item_codes) & SESSION_CODES), item_codes
                assert set(item_codes) & (DRUG_CODES | SESSION_CODES) <= codes
                # The DTR response inside the bundle is worded for the payer too.
                answers = [a["valueString"] for e in bundle["entry"]
                           if e["resource"]["resourceType"] == "QuestionnaireResponse"
                           for a in _strings(e["resource"])]
                _no_internal_words(" ".join(answers), extra=tuple(f"by {s.by}" for s in signoffs))
            checked += 1
            session.rollback()
    assert checked >= 12


# ---------------------------------------------------------------- 500+ generated records


CATALOG = load_catalog([PROJECT_ROOT / "payers"], drugs=default_drugs())
PAYERS = (None, *sorted(CATALOG.policies))
PLAN_TYPES = ("commercial", "medicare_part_b", "medicare_advantage", "medicare_part_d", "medicaid_ffs",
              "medicaid_managed", "tricare", "va", "other_government")
# Evidence as the evaluator writes it for staff; documents must say it the payer's way.
EVIDENCE = ("Counted: sertraline, SSRI, 200.0 mg/day, from 2025-04-01 to 2025-06-10, non-response.",
            "Counted: bupropion, bupropion, 300.0 mg/day, from 2025-06-17 (ongoing), partial response (enough).",
            "MADRS 34 on 2026-01-05 → 18 on 2026-03-01: 47% improvement (enough).",
            "Latest PHQ-9 22.0 on 2026-02-23 meets any PHQ-9 score.",
            "Adherence 92.0% over 12 weeks.")
days = st.dates(min_value=date(2018, 1, 1), max_value=date(2027, 6, 30))


@st.composite
def trials(draw: st.DrawFn) -> tuple[date, date | None, float, float | None]:
    start = draw(days)
    end = draw(st.one_of(st.none(), st.integers(min_value=7, max_value=400).map(lambda n: start + timedelta(days=n))))
    dose = draw(st.sampled_from([200.0, 37.5, 225.0, 5.0, 300.0, 12.5]))
    adherence = draw(st.one_of(st.none(), st.sampled_from([92.0, 60.0, 100.0, 87.5])))
    return start, end, dose, adherence


@st.composite
def records(draw: st.DrawFn) -> dict[str, object]:
    start = draw(st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 6, 30)))
    certified_on = draw(st.one_of(st.none(), st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 6, 30))))
    until = draw(st.one_of(st.none(), st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))))
    statuses = draw(st.lists(st.sampled_from(["met", "attested", "excepted", "not_met", "unknown", "attest"]),
                             min_size=1, max_size=6))
    return {
        "start": start, "plan_type": draw(st.sampled_from(PLAN_TYPES)), "payer": draw(st.sampled_from(PAYERS)),
        "setting_id": draw(st.sampled_from(["", "RS-0001"])), "certified_on": certified_on, "until": until,
        "enrolled_on": draw(st.one_of(st.none(), days)), "episode_start": draw(st.one_of(st.none(), days)),
        "trials": draw(st.lists(trials(), max_size=5)), "statuses": statuses,
        "evidence": draw(st.lists(st.sampled_from(EVIDENCE), min_size=1, max_size=3)),
        "dose": draw(st.sampled_from([56, 84])), "indication": draw(st.sampled_from(["TRD", "MDSI"])),
        "phase": draw(st.sampled_from(["initial", "continuation"])),
        "sessions": draw(st.integers(min_value=1, max_value=24)), "appeal": draw(st.booleans()),
        "signer": draw(st.sampled_from([("Morgan", "Example"), ("Riley", "Placeholder")])),
    }


def _facts_of(record: dict[str, object]) -> CaseFacts:
    """The generated record written as the desk's compose step would: the same helpers, none of the documents."""
    base = sample_case_facts()
    start = record["start"]
    assert isinstance(start, date)
    policy = CATALOG.get(record["payer"]) if record["payer"] else None  # type: ignore[arg-type]
    planned = label_request(indication=str(record["indication"]), phase=str(record["phase"]),
                            dose_mg=int(record["dose"]), sessions=int(record["sessions"]), start=start)  # type: ignore[call-overload]
    billing = decide_billing(plan_type=str(record["plan_type"]), policy=policy, dose_mg=int(record["dose"]),  # type: ignore[call-overload]
                             service_date=start, session_doses=tuple(d.mg for d in planned.doses))
    episode_start = record["episode_start"]
    assert episode_start is None or isinstance(episode_start, date)
    statuses = list(record["statuses"])  # type: ignore[call-overload]
    evidence = tuple(payer_sentence(e) for e in record["evidence"])  # type: ignore[attr-defined]
    criteria = tuple(
        CriterionFacts(f"Criterion {n + 1}", status, evidence if status in ("met", "not_met", "unknown") else (),
                       attestation=SignoffFacts("Confirmed in the chart note.", TODAY) if status == "attested"
                       else None,
                       exception=SignoffFacts("A further trial would delay care.", TODAY) if status == "excepted"
                       else None)
        for n, status in enumerate(statuses))
    satisfied = all(s in ("met", "attested", "excepted") for s in statuses)
    conclusion = ("open" if not satisfied else "met_by_exception" if "excepted" in statuses
                  else "met_by_attestation" if "attested" in statuses else "met")
    first, last = record["signer"]  # type: ignore[misc]
    return replace(
        base,
        coverage=replace(base.coverage, plan_type=str(record["plan_type"])),
        prescriber=PrescriberFacts(first, last, "MD", "1234567893", "Psychiatry", "217-555-0110", "217-555-0111",
                                   "x@example.org"),
        rems=RemsFacts(service_date=start, setting_id=str(record["setting_id"]),
                       certified_on=record["certified_on"], certified_until=record["until"],  # type: ignore[arg-type]
                       patient_enrolled_on=record["enrolled_on"], enrollment_confirmation="",  # type: ignore[arg-type]
                       enrollment_missing=()),
        request=replace(base.request, indication=str(record["indication"]), phase=str(record["phase"]),
                        dose_mg=int(record["dose"]), devices_per_session=int(record["dose"]) // 28,  # type: ignore[call-overload]
                        sessions=planned.sessions, start_on=start, frequency=planned.frequency,
                        duration=planned.duration, billing=billing, first_session_mg=planned.doses[0].mg),
        episode_start=episode_start,
        diagnoses=tuple(replace(d, episode_start=episode_start) for d in base.diagnoses[:1]),
        trials=tuple(TrialFacts("Sertraline", "antidepressant", dose, s, e, adherence, "non_response", 12.0,
                                trial_episode(start=s, end=e, episode_start=episode_start))
                     for s, e, dose, adherence in record["trials"]),  # type: ignore[attr-defined]
        criteria=criteria, conclusion=conclusion,  # type: ignore[arg-type]
        denial=DenialFacts(TODAY, "DN-1", "Not medically necessary.") if record["appeal"] else None,
    )


@settings(max_examples=520, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_generated_records_documents_say_only_what_the_record_supports(record: dict[str, object]) -> None:
    facts = _facts_of(record)
    start = record["start"]
    assert isinstance(start, date)
    episode_start = record["episode_start"]
    statuses = list(record["statuses"])  # type: ignore[call-overload]
    satisfied = all(s in ("met", "attested", "excepted") for s in statuses)
    policy = CATALOG.get(record["payer"]) if record["payer"] else None  # type: ignore[arg-type]
    codes = _expected_codes(plan_type=str(record["plan_type"]), policy=policy, on=start)
    episodes = [(s, "unknown" if episode_start is None else "current" if e is None or e >= episode_start  # type: ignore[operator]
                 else "earlier") for s, e, _d, _a in record["trials"]]  # type: ignore[attr-defined]
    pdf = appeal_letter(facts) if facts.appeal else medical_necessity_letter(facts)
    text = _text(pdf)
    _check_letter(text, certified=_certified(setting_id=str(record["setting_id"]),
                                             certified_on=record["certified_on"],  # type: ignore[arg-type]
                                             until=record["until"], on=start),  # type: ignore[arg-type]
                  satisfied=satisfied, excepted="excepted" in statuses, episode_start=episode_start,  # type: ignore[arg-type]
                  trial_episodes=episodes, codes=codes,
                  units=facts.request.billing.total_units if codes <= DRUG_CODES else None, start=start,
                  signer=" ".join(record["signer"]))  # type: ignore[arg-type]
    _no_internal_words(text)
    assert not (set(facts.request.billing.codes) & DRUG_CODES and set(facts.request.billing.codes) & SESSION_CODES)
    if record["enrolled_on"] is None:
        assert "No SPRAVATO REMS patient enrollment is on record" in text


def test_the_audit_catches_a_false_sentence() -> None:
    """The checks can fail: a letter claiming certification for an uncertified setting is caught."""
    facts = sample_case_facts()
    honest = _text(medical_necessity_letter(replace(facts, rems=replace(facts.rems, certified_on=None))))
    with pytest.raises(AssertionError):
        _check_letter(honest.replace("No SPRAVATO REMS certification of Prairie Mind Clinic is on record",
                                     "Prairie Mind Clinic is certified in the SPRAVATO REMS (setting ID RS1"),
                      certified=False, satisfied=True, excepted=False, episode_start=facts.episode_start,
                      trial_episodes=[(t.start_date, t.episode) for t in facts.trials], codes={"J0013"},
                      units=None, start=facts.request.start_on, signer="Morgan Example")
    with pytest.raises(AssertionError):
        _no_internal_words("Counted: sertraline 200.0 mg")

