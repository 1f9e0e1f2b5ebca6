"""Synthetic demo data: two sites, four prescribers, four demo accounts, invented patients and their paperwork.

Everything here is fiction: names come from a fixed list of invented names, MRNs start with DEMO-, phone numbers
use the 555-01xx range reserved for fiction, member ids are made up. Dates are counted back from the day the
data is loaded, so "recent" scores stay recent; everything else is fixed, so two loads on the same day are
identical. The patients are built so that for every payer some meet the usual checklist criteria and some fail
one criterion (too-short trials, doses below the minimum, one drug class, low adherence, trials outside the
current episode, mild scores, exclusions), which is what a clinic trying the desk needs to see. On top of the
records, desk.demo_activity adds REMS enrollments, treatment sessions, prior-authorization cases and savings claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from desk.auth import DEMO_PASSWORD, as_current_user, hash_password
from desk.database import SYSTEM_ACTOR, unit_of_work
from desk.demo_activity import Clock, DemoPatient, load_activity
from desk.models import Prescriber, Site, User, utcnow
from desk.patients import (
    CoverageDetails,
    DiagnosisDetails,
    MedicationDetails,
    PatientDetails,
    PsychotherapyDetails,
    ScoreDetails,
    ScreeningDetails,
    StayDetails,
    TrialDetails,
    add_coverage,
    add_diagnosis,
    add_medication,
    add_psychotherapy,
    add_score,
    add_stay,
    add_trial,
    create_patient,
    update_screening,
)
from desk.rems.config import load_rems_settings
from desk.settings import load_settings
from desk.sites import PrescriberDetails, SiteDetails, create_prescriber, create_site

__all__ = ["DEMO_PASSWORD", "load_demo"]
DEMO_ACCOUNTS = (
    ("admin", "Demo Administrator", ("admin",)),
    ("billing", "Demo Billing", ("billing",)),
    ("nurse", "Demo Nurse", ("nurse",)),
    ("lead", "Demo Lead (billing + nurse)", ("billing", "nurse")),
)

FIRST_NAMES = (
    "Avery", "Brisk", "Calder", "Dovie", "Emberly", "Fennick", "Galen", "Hollis", "Isolde", "Jarrow",
    "Kestrel", "Linnet", "Merrow", "Nolie", "Orrin", "Pellam", "Quenby", "Rook", "Sable", "Tamsin",
)
LAST_NAMES = (
    "Sampleton", "Demoworth", "Mockridge", "Fictel", "Placeholm", "Testwick", "Examplar", "Dummond",
    "Notreal", "Pretendley", "Fauxley", "Madeupson", "Inventory", "Specimen", "Trialby", "Stubbins",
    "Fakenham", "Sandboxer", "Prototon", "Mockingham", "Synthe", "Templeton-Demo",
)


def _npi(body: str) -> str:
    """A 10-digit NPI from nine digits plus the CMS Luhn check digit over '80840' + those digits."""
    total = 0
    for position, char in enumerate(reversed("80840" + body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return body + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Profile:
    """How one demo patient's clinical record is shaped (defaults: a well-documented TRD case)."""

    trials: int = 3
    weeks: int = 9
    low_dose: bool = False
    same_class: bool = False
    adherence: float = 92
    in_episode: bool = True
    years_ago: int = 0
    improvement: float = 15
    augmentation: bool = True
    psychotherapy: bool = True
    severity: str = "severe"
    structured_interview: bool = True
    single_episode: bool = False
    psychosis: bool = False
    substance: str = "none"
    aneurysm: bool = False
    concurrent: tuple[str, ...] = ()
    mdsi: bool = False
    new_antidepressant: bool = True
    prior_esketamine_pct: float | None = None
    extra_medications: tuple[tuple[str, float | None], ...] = ()


@dataclass(frozen=True)
class Spec:
    """One demo patient: coverage, where they live and are treated, who prescribes, and the clinical profile."""

    payer_id: str
    plan_type: str = "commercial"
    state: str = "MA"
    site: int = 0
    prescriber: int = 0
    profile: Profile = field(default_factory=Profile)
    age: int | None = None
    benefit: str = "medical"
    secondary: tuple[str, str] | None = None
    note: str = ""


STRONG = Profile()
TWO_TRIALS = Profile(trials=2, augmentation=False)
ONE_TRIAL = Profile(trials=1, weeks=7, augmentation=False, psychotherapy=False)
TOO_SHORT = Profile(weeks=4)
LOW_DOSE = Profile(low_dose=True)
SAME_CLASS = Profile(same_class=True, augmentation=False)
LOW_ADHERENCE = Profile(trials=2, adherence=60, augmentation=False)
OUTSIDE_EPISODE = Profile(in_episode=False, years_ago=7)
MILD = Profile(severity="mild")
MODERATE = Profile(trials=2, severity="moderate", augmentation=False)
MDSI = Profile(trials=1, weeks=6, mdsi=True, augmentation=False, psychotherapy=False)
BENZO = (("lorazepam", 1.0),)
OPIOID = (("oxycodone/acetaminophen", 20.0),)

# Prescribers: 0 psychiatrist (site 0), 1 psychiatrist (site 1), 2 psychiatric NP (site 0), 3 family medicine (site 1).
SPECS: tuple[Spec, ...] = (
    # Cigna: psychiatrist required, 2 classes >= 6 weeks in the current episode.
    Spec("cigna", state="MA", profile=STRONG, note="meets criteria"),
    Spec("cigna", state="MI", profile=SAME_CLASS, note="both trials are SSRIs"),
    Spec("cigna", state="RI", prescriber=2, profile=Profile(extra_medications=BENZO), note="prescribed by an NP"),
    Spec("cigna", state="MA", profile=Profile(prior_esketamine_pct=55), note="earlier esketamine responder"),
    # UnitedHealthcare: 3 ADs >= 8 weeks and a new oral AD.
    Spec("uhc", state="MN", profile=STRONG, note="meets criteria"),
    Spec("uhc", state="MN", profile=TWO_TRIALS, note="only two trials"),
    Spec("uhc", state="RI", site=1, prescriber=1, profile=Profile(weeks=6), note="trials shorter than 8 weeks"),
    # CareFirst: 2 classes >= 8 weeks within 5 years plus augmentation or psychotherapy.
    Spec("carefirst", state="MD", profile=STRONG, note="meets criteria"),
    Spec("carefirst", state="MD", profile=OUTSIDE_EPISODE, note="trials 7 years ago"),
    Spec("carefirst", state="MD", profile=Profile(substance="current"), note="untreated substance use"),
    # BCBS North Dakota: 2 different oral ADs, with an oral AD.
    Spec("bcbsnd", state="ND", site=1, prescriber=1, profile=TWO_TRIALS, note="meets criteria"),
    Spec("bcbsnd", state="ND", site=1, prescriber=1, profile=ONE_TRIAL, note="one trial only"),
    Spec("bcbsnd", state="ND", site=1, prescriber=1, profile=MDSI, note="MDSI path"),
    # Highmark: 3 ADs, augmentation, psychiatrist or psychiatric NP.
    Spec("highmark", state="PA", prescriber=2, profile=STRONG, note="meets criteria (NP accepted)"),
    Spec("highmark", state="PA", profile=Profile(augmentation=False), note="no augmentation trial"),
    Spec("highmark", state="PA", site=1, prescriber=3, profile=TWO_TRIALS, note="two trials, family medicine"),
    # BCBS Oklahoma: SCID, moderate or severe, 1 AD >= 6 weeks.
    Spec("bcbsok", state="OK", site=1, prescriber=1, profile=ONE_TRIAL, note="meets criteria"),
    Spec("bcbsok", state="OK", site=1, prescriber=1, profile=Profile(trials=1, weeks=7, structured_interview=False),
         note="no structured interview"),
    Spec("bcbsok", state="OK", site=1, prescriber=1, profile=Profile(substance="current", extra_medications=OPIOID),
         note="current substance use"),
    # Triple-S: SCID, MADRS >= 28 or HAM-D >= 17, 2 classes >= 6 weeks with >= 80 % adherence.
    Spec("triple-s", state="PR", profile=TWO_TRIALS, note="meets criteria"),
    Spec("triple-s", state="PR", profile=LOW_ADHERENCE, note="adherence 60 %"),
    Spec("triple-s", state="PR", profile=Profile(trials=2, severity="mild", augmentation=False), note="mild scores"),
    # BCBS Massachusetts: SCID, severe, 4 agents from 2 classes.
    Spec("bcbsma", state="MA", profile=Profile(trials=4), note="meets criteria"),
    Spec("bcbsma", state="MA", profile=MILD, note="mild scores"),
    Spec("bcbsma", state="MA", profile=TWO_TRIALS, note="only two agents"),
    # Blue Cross NC (pharmacy benefit): 2 ADs of 2 classes with <= 25 % improvement.
    Spec("bcbsnc", state="NC", benefit="pharmacy", profile=TWO_TRIALS, note="meets criteria"),
    Spec("bcbsnc", state="NC", benefit="pharmacy", age=17, profile=TWO_TRIALS, note="under 18"),
    Spec("bcbsnc", state="NC", benefit="pharmacy", profile=Profile(trials=2, improvement=40, augmentation=False),
         note="partial response 40 %"),
    # Medical Mutual: 2 classes >= 6 weeks, psychotherapy tried, no ECT/TMS/VNS/DBS, no contraindication.
    Spec("medical-mutual", state="OH", site=1, prescriber=1, profile=STRONG, note="meets criteria"),
    Spec("medical-mutual", state="OH", site=1, prescriber=1, profile=Profile(concurrent=("TMS",)), note="on TMS"),
    Spec("medical-mutual", state="OH", site=1, prescriber=1, profile=Profile(aneurysm=True), note="contraindication"),
    # A plan without a specific policy file.
    Spec("generic-commercial", state="MI", profile=STRONG, note="meets criteria"),
    Spec("generic-commercial", state="RI", profile=LOW_DOSE, note="doses below the minimum"),
    Spec("generic-commercial", state="MN", profile=TOO_SHORT, note="4-week trials"),
    Spec("generic-commercial", state="MA", profile=Profile(psychosis=True), note="psychosis history"),
    # Government coverage (manufacturer savings never apply, even with a commercial secondary).
    Spec("medicare", plan_type="medicare_part_d", benefit="pharmacy", age=68, state="MA", profile=STRONG,
         note="Medicare Part D"),
    Spec("medicare", plan_type="medicare_part_d", benefit="pharmacy", age=66, state="RI",
         profile=Profile(extra_medications=OPIOID), secondary=("generic-commercial", "commercial"),
         note="government primary, commercial secondary"),
    Spec("medicare", plan_type="medicare_part_b", age=71, state="MA", profile=TOO_SHORT,
         note="Original Medicare (Part B), 4-week trials"),
    Spec("medicaid", plan_type="medicaid_managed", state="MA", profile=MDSI, note="MDSI path"),
    Spec("medicaid", plan_type="medicaid_managed", state="MA", site=1, prescriber=1,
         profile=Profile(extra_medications=BENZO + OPIOID), note="benzodiazepine and opioid"),
)

_ADEQUATE = (("sertraline", 200.0), ("venlafaxine", 225.0), ("bupropion", 300.0), ("mirtazapine", 45.0))
_LOW = (("sertraline", 25.0), ("venlafaxine", 37.5), ("bupropion", 150.0), ("mirtazapine", 7.5))
_SSRIS = (("sertraline", 200.0), ("escitalopram", 20.0), ("fluoxetine", 40.0), ("citalopram", 40.0))
_SCORES = {
    "severe": (("MADRS", 34), ("HAM-D17", 25), ("PHQ-9", 22)),
    "moderate": (("MADRS", 26), ("HAM-D17", 16), ("PHQ-9", 16)),
    "mild": (("MADRS", 16), ("HAM-D17", 11), ("PHQ-9", 8)),
}
_ZIP = {"MA": "02110", "MI": "48201", "RI": "02903", "MN": "55401", "MD": "21201", "ND": "58102", "PA": "15222",
        "OK": "73102", "PR": "00901", "NC": "27601", "OH": "44114"}
_PAYER_PREFIX = {
    "cigna": "CGN", "uhc": "UHC", "carefirst": "CFB", "bcbsnd": "BND", "highmark": "HMK", "bcbsok": "BOK",
    "triple-s": "TSS", "bcbsma": "BMA", "bcbsnc": "BNC", "medical-mutual": "MMO", "generic-commercial": "GEN",
    "medicare": "1EG4", "medicaid": "MCD",
}


@dataclass
class _Clinical:
    diagnoses: list[DiagnosisDetails]
    trials: list[TrialDetails]
    psychotherapy: list[PsychotherapyDetails]
    scores: list[ScoreDetails]
    medications: list[MedicationDetails]
    stays: list[StayDetails]
    screening: ScreeningDetails


def _clinical(profile: Profile, *, today: date, index: int) -> _Clinical:
    days = timedelta(days=1)
    episode_start = today - 420 * days
    trial_base = episode_start - profile.years_ago * 365 * days
    drugs: Sequence[tuple[str, float]] = (
        _LOW if profile.low_dose else _SSRIS if profile.same_class else _ADEQUATE
    )
    trials: list[TrialDetails] = []
    start = trial_base + 30 * days
    for number in range(profile.trials):
        drug, dose = drugs[number % len(drugs)]
        end = start + profile.weeks * 7 * days
        trials.append(
            TrialDetails(
                drug=drug, daily_dose_mg=dose, start_date=start, end_date=end, adherence_pct=profile.adherence,
                outcome="partial_response" if profile.improvement > 25 else "non_response",
                improvement_pct=profile.improvement + (index % 3), current_episode=profile.in_episode,
                at_max_tolerated_dose=not profile.low_dose,
            )
        )
        start = end + 10 * days
    if profile.augmentation and trials:
        last = trials[-1]
        trials.append(
            TrialDetails(
                drug="aripiprazole", role="augmentation", daily_dose_mg=5, start_date=last.start_date + 14 * days,
                end_date=last.end_date, adherence_pct=profile.adherence, improvement_pct=10,
                current_episode=profile.in_episode,
            )
        )
    scores = [ScoreDetails(instrument, score, today - (12 + n) * days)
              for n, (instrument, score) in enumerate(_SCORES[profile.severity])]
    scores.append(ScoreDetails("PHQ-9", min(27, _SCORES[profile.severity][2][1] + 2), episode_start + 20 * days))
    medications = [MedicationDetails(name, dose, today - 60 * days) for name, dose in profile.extra_medications]
    if profile.new_antidepressant:
        medications.append(MedicationDetails("escitalopram", 10, today - 14 * days))
    diagnosis = DiagnosisDetails(
        icd10="F32.2" if profile.single_episode else "F33.2",
        description="Major depressive disorder, "
        + ("single episode" if profile.single_episode else "recurrent")
        + ", severe without psychotic features",
        episode_start=episode_start,
        episode_type="single" if profile.single_episode else "recurrent",
        diagnosis_method="structured_interview" if profile.structured_interview else "clinical_interview",
        psychotic_features=False,
        dsm_edition="DSM-5-TR",
        diagnosed_on=episode_start + 21 * days,
        acute_suicidal_ideation=profile.mdsi,
    )
    stays = (
        [StayDetails(admitted_on=today - 9 * days, discharged_on=today - 3 * days, esketamine_started=False)]
        if profile.mdsi
        else []
    )
    psychotherapy = (
        [PsychotherapyDetails(modality="CBT" if index % 2 else "IPT", start_date=episode_start + 45 * days,
                              end_date=episode_start + 157 * days)]
        if profile.psychotherapy
        else []
    )
    screening = ScreeningDetails(
        aneurysmal_vascular_disease=profile.aneurysm,
        intracerebral_hemorrhage_history=False,
        esketamine_hypersensitivity=False,
        psychosis_history=profile.psychosis,
        substance_use=profile.substance,
        concurrent_therapies=profile.concurrent,
        prior_esketamine=profile.prior_esketamine_pct is not None,
        prior_esketamine_improvement_pct=profile.prior_esketamine_pct,
        pdmp_checked_on=today - 5 * days,
        concurrent_therapies_screened_on=today - 5 * days,
    )
    return _Clinical([diagnosis], trials, psychotherapy, scores, medications, stays, screening)


def _sites(session: Session, today: date) -> list[Site]:
    # Both demo settings are REMS certified, so sessions can be logged at either; a clinic's own new site
    # shows the certification warning until its administrator records the certification.
    harbor = create_site(
        session,
        today=today,
        details=SiteDetails(
            name="Harbor Street Psychiatry (demo)", address_line="100 Example Wharf", city="Boston", state="MA",
            zip_code="02110", phone="617-555-0100", fax="617-555-0101", npi=_npi("199990001"), tin="99-0000001",
            rems_setting_id="DEMO-RS-000101", rems_certified_on=today - timedelta(days=400),
            authorized_representative="Pat Sampleton-Rep",
        ),
    )
    lakeside = create_site(
        session,
        today=today,
        details=SiteDetails(
            name="Lakeside Mood Clinic (demo)", address_line="200 Placeholder Ave", city="Cleveland", state="OH",
            zip_code="44114", phone="216-555-0100", fax="216-555-0101", npi=_npi("199990002"), tin="99-0000002",
            rems_setting_id="DEMO-RS-000102", rems_certified_on=today - timedelta(days=290),
            authorized_representative="Lee Fictel-Rep",
        ),
    )
    return [harbor, lakeside]


def _prescribers(session: Session, sites: list[Site]) -> list[Prescriber]:
    rows = (
        ("Morgan", "Examplar", "MD", "psychiatrist", 0, "199990101"),
        ("Riley", "Samplewood", "DO", "psychiatrist", 1, "199990102"),
        ("Jordan", "Testfield", "PMHNP-BC", "psychiatric_np", 0, "199990103"),
        ("Casey", "Mockford", "MD", "other", 1, "199990104"),
    )
    return [
        create_prescriber(
            session,
            details=PrescriberDetails(
                first_name=first, last_name=last, credentials=credentials, specialty=specialty,
                npi=_npi(body), site_id=sites[site].id, phone=sites[site].phone, fax=sites[site].fax,
                email=f"{first.lower()}.{last.lower()}@example.invalid",
            ),
        )
        for first, last, credentials, specialty, site, body in rows
    ]


def _users(session: Session) -> list[User]:
    # One argon2id hash for every demo account: hashing costs about 0.2 s each and all share the password.
    shared_hash = hash_password(DEMO_PASSWORD)
    users = [
        User(username=username, display_name=display, roles=",".join(roles), password_hash=shared_hash,
             is_demo=True, email=f"{username}@demo.invalid")
        for username, display, roles in DEMO_ACCOUNTS
    ]
    session.add_all(users)
    session.flush()
    return users


def _birth_date(today: date, age: int | None, index: int) -> date:
    """A birth date making the patient exactly `age` today (or an age from 24 to 69 spread over the list)."""
    years = age if age is not None else 24 + (index * 11) % 46
    last_birthday = date(today.year - years, today.month, min(today.day, 28))
    return last_birthday - timedelta(days=20 + (index * 37) % 300)


COUNTS = ("users", "sites", "prescribers", "patients", "coverages", "diagnoses", "trials", "psychotherapy", "scores",
          "medications", "stays", "rems_enrollments", "courses", "sessions", "prior_auth_cases",
          "savings_enrollments", "savings_claims")


def load_demo(engine: Engine, *, today: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Load the demo data in one unit of work (all or nothing); returns counts only, never PHI.

    `today` is the clinic's date the data is dated from (default: today in the clinic's time zone); `now` the
    moment of loading (default: the current time, or mid-afternoon of `today` when only `today` is given).
    """
    zone = ZoneInfo(load_settings().timezone)
    if now is None:
        now = utcnow() if today is None else datetime.combine(today, time(15, 0), tzinfo=zone)
    today = today or now.astimezone(zone).date()
    counts: dict[str, int] = dict.fromkeys(COUNTS, 0)
    with unit_of_work(engine, actor=SYSTEM_ACTOR) as session:
        users = _users(session)
        counts["users"] = len(users)
        sites = _sites(session, today)
        prescribers = _prescribers(session, sites)
        counts["sites"], counts["prescribers"] = len(sites), len(prescribers)
        patients = [
            _load_patient(session, spec, index, sites, prescribers, today, counts) for index, spec in enumerate(SPECS)
        ]
        nurse = next(u for u in users if u.username == "nurse")
        load_activity(session, patients=patients, nurse=as_current_user(nurse), clock=Clock(today, now, zone),
                      rems=load_rems_settings(), counts=counts)
    return {"demo": True, **counts}


def _load_patient(
    session: Session,
    spec: Spec,
    index: int,
    sites: list[Site],
    prescribers: list[Prescriber],
    today: date,
    counts: dict[str, int],
) -> DemoPatient:
    site = sites[spec.site]
    assert site.id is not None
    patient = create_patient(
        session,
        today=today,
        details=PatientDetails(
            site_id=site.id,
            mrn=f"DEMO-{index + 1:04d}",
            first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
            last_name=LAST_NAMES[(index * 7) % len(LAST_NAMES)],
            dob=_birth_date(today, spec.age, index),
            sex="F" if index % 2 == 0 else "M",
            address_line=f"{10 + index} Fictional Lane",
            city="Demo City",
            state=spec.state,
            zip_code=_ZIP.get(spec.state, ""),
            phone=f"555-555-01{index % 100:02d}",
            prescriber_id=prescribers[spec.prescriber].id,
        ),
    )
    assert patient.id is not None
    counts["patients"] += 1
    prefix = _PAYER_PREFIX[spec.payer_id]
    coverage_rows = []
    coverages = [(spec.payer_id, spec.plan_type, spec.benefit, "primary")]
    if spec.secondary:
        coverages.append((spec.secondary[0], spec.secondary[1], "medical", "secondary"))
    for payer_id, plan_type, benefit, priority in coverages:
        pharmacy = benefit == "pharmacy"
        coverage_rows.append(add_coverage(
            session,
            patient_id=patient.id,
            today=today,
            details=CoverageDetails(
                payer_id=payer_id, plan_type=plan_type, benefit=benefit, priority=priority,
                member_id=f"{_PAYER_PREFIX[payer_id] if priority == 'secondary' else prefix}{900000 + index * 37}",
                group_number="" if pharmacy else f"GRP-{100 + index}",
                rx_bin="999999" if pharmacy else "", rx_pcn="DEMO" if pharmacy else "",
                rx_group=f"RXDEMO{index}" if pharmacy else "",
                start_date=date(today.year - 1, 1, 1),
            ),
        ))
        counts["coverages"] += 1
    clinical = _clinical(spec.profile, today=today, index=index)
    for diagnosis in clinical.diagnoses:
        add_diagnosis(session, patient_id=patient.id, details=diagnosis, today=today)
    for trial in clinical.trials:
        add_trial(session, patient_id=patient.id, details=trial, today=today)
    for therapy in clinical.psychotherapy:
        add_psychotherapy(session, patient_id=patient.id, details=therapy, today=today)
    for score in clinical.scores:
        add_score(session, patient_id=patient.id, details=score, today=today)
    for medication in clinical.medications:
        add_medication(session, patient_id=patient.id, details=medication, today=today)
    for stay in clinical.stays:
        add_stay(session, patient_id=patient.id, details=stay, today=today)
    update_screening(session, patient_id=patient.id, expected_version=patient.version, details=clinical.screening,
                     today=today)
    counts["diagnoses"] += len(clinical.diagnoses)
    counts["trials"] += len(clinical.trials)
    counts["psychotherapy"] += len(clinical.psychotherapy)
    counts["scores"] += len(clinical.scores)
    counts["medications"] += len(clinical.medications)
    counts["stays"] += len(clinical.stays)
    return DemoPatient(patient, coverage_rows[0])
