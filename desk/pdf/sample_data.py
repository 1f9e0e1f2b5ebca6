"""Complete synthetic examples of the data each form and letter is filled from.

These dicts ARE the data contracts (documented in forms/README.md): the REMS session and the PA
workflow build exactly these shapes from real records. Every person, number and identifier here is
made up; NPIs use valid check digits so validation passes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from desk.prior_auth.billing import decide_billing
from desk.prior_auth.facts import (
    CaseFacts,
    CoverageFacts,
    CriterionFacts,
    DenialFacts,
    DiagnosisFacts,
    MedicationFacts,
    PatientFacts,
    PrescriberFacts,
    RemsFacts,
    RequestFacts,
    ScoreFacts,
    SignoffFacts,
    SiteFacts,
    TrialFacts,
)


def sample_rems_session() -> dict[str, Any]:
    """Data for forms/rems_pmf.pdf: one treatment session."""
    return {
        "patient": {
            "first_name": "Jordan",
            "middle_initial": "Q",
            "last_name": "Sample",
            "dob": date(1984, 2, 29),
            "sex": "F",
        },
        "first_treatment": False,
        "rems_enrolled": True,
        "concomitant": {
            "benzodiazepines": True,
            "non_benzo_hypnotics": False,
            "psychostimulants": False,
            "maois": False,
            "opioids": True,
            "none": False,
        },
        "monitoring_hcp": {
            "first_name": "Riley",
            "last_name": "Nurse",
            "phone": "217-555-0142",
            "email": "r.nurse@example.org",
        },
        "site": {
            "name": "Prairie Mind Clinic",
            "address_line": "100 Main St",
            "address_line2": "Suite 4",
            "city": "Springfield",
            "state": "IL",
            "zip_code": "62701",
            "rems_setting_id": "RS000417",
        },
        "session": {
            "date": date(2026, 3, 4),
            "dose_mg": 84,
            "dose_other_mg": None,
            "lot_number": "LOT24B113",
            "devices": 3,
            "total_monitoring_minutes": 125,
            "ready_to_leave_minutes": 95,
            "vitals_ok_before": True,
            "vitals_ok_before_completion": True,
            "bp_pre_systolic": 128,
            "bp_pre_diastolic": 82,
            "bp_40_systolic": 146,
            "bp_40_diastolic": 91,
            "bp_discharge_systolic": 131,
            "bp_discharge_diastolic": 84,
            "sedation": True,
            "dissociation": True,
            "respiratory_depression": False,
            "pulse_oximetry_done": True,
            "spo2_lowest": 96,
            "serious_adverse_event": False,
            "sae_details": "",
        },
    }


def sample_pa_case() -> dict[str, Any]:
    """Data for the PA request form, the fax cover and both letters: one prior-authorization case."""
    return {
        "case_id": "PA-2026-0042",
        "prepared_on": date(2026, 3, 2),
        "patient": {
            "first_name": "Jordan",
            "middle_initial": "Q",
            "last_name": "Sample",
            "dob": date(1984, 2, 29),
            "sex": "F",
            "phone": "217-555-0199",
            "address_line": "12 Elm Court",
            "city": "Springfield",
            "state": "IL",
            "zip_code": "62704",
            "mrn": "MRN000417",
        },
        "coverage": {
            "payer_id": "bcbs-ma",
            "payer_name": "Example Blue Cross Plan",
            "plan_type": "commercial",
            "benefit": "medical",
            "member_id": "XQB123456789",
            "group_number": "GRP-55012",
            "payer_phone": "1-800-555-0134",
            "payer_fax": "1-888-555-0177",
            "payer_department": "Pharmacy Prior Authorization",
        },
        "prescriber": {
            "first_name": "Morgan",
            "last_name": "Example",
            "credentials": "MD",
            "npi": "1234567893",
            "specialty": "Psychiatry",
            "phone": "217-555-0110",
            "fax": "217-555-0111",
            "email": "m.example@example.org",
        },
        "site": {
            "name": "Prairie Mind Clinic",
            "address_line": "100 Main St",
            "address_line2": "Suite 4",
            "city": "Springfield",
            "state": "IL",
            "zip_code": "62701",
            "phone": "217-555-0100",
            "fax": "217-555-0101",
            "npi": "1245319599",
            "tin": "12-3456789",
            "rems_setting_id": "RS000417",
            "rems_certified": True,
            "rems_certified_on": date(2024, 1, 15),
        },
        "request": {
            "urgency": "standard",
            "type": "initial",
            "indication": "TRD",
            "drug": "SPRAVATO (esketamine) nasal spray 28 mg/device",
            "ndc": "50458-028-03",
            "hcpcs": "J0013",
            "dose_mg": 84,
            "devices_per_session": 3,
            "frequency": "Twice weekly (weeks 1-4)",
            "duration": "4 weeks",
            "sessions_requested": 8,
            "start_date": date(2026, 3, 9),
            "place_of_service": "11 (office)",
            "concurrent_oral_ad": True,
            "concurrent_oral_ad_name": "Escitalopram 20 mg daily (started 2026-02-23)",
        },
        "diagnoses": [
            {"code": "F33.2", "description": "Major depressive disorder, recurrent, severe without psychotic features"},
            {"code": "F41.1", "description": "Generalized anxiety disorder"},
        ],
        "trials": [
            {"drug": "Sertraline", "daily_dose_mg": 200, "start_date": date(2025, 4, 1),
             "end_date": date(2025, 6, 10), "weeks": 10, "adherence_pct": 95, "outcome": "No response (8%)"},
            {"drug": "Venlafaxine XR", "daily_dose_mg": 225, "start_date": date(2025, 6, 17),
             "end_date": date(2025, 9, 2), "weeks": 11, "adherence_pct": 90, "outcome": "No response (12%)"},
            {"drug": "Bupropion XL (augmentation)", "daily_dose_mg": 300, "start_date": date(2025, 9, 9),
             "end_date": date(2025, 11, 18), "weeks": 10, "adherence_pct": 92, "outcome": "Partial (20%)"},
        ],
        "scales": [
            {"instrument": "MADRS", "score": 34, "date": date(2026, 2, 23)},
            {"instrument": "PHQ-9", "score": 22, "date": date(2026, 2, 23)},
        ],
        "other_criteria": (
            "Diagnosis confirmed with a structured clinical interview (SCID-5) on 2025-03-10. No history of "
            "psychosis. No aneurysmal vascular disease, AVM or intracerebral hemorrhage. No substance use "
            "disorder. CBT for 14 sessions in the current episode without remission. State PDMP checked "
            "2026-02-23. Treatment in a REMS-certified setting with at least 2 hours of monitoring."
        ),
        "checklist": {
            "policy": "Example Blue Cross Plan medical policy: esketamine nasal spray (2026)",
            "criteria": [
                {"criterion": "Age 18 or older", "status": "met",
                 "evidence": ["Patient is 42 years old on the date of the request."]},
                {"criterion": "Major depressive disorder confirmed by a structured clinical interview",
                 "status": "met",
                 "evidence": ["SCID-5 on 2025-03-10 confirmed recurrent severe MDD (F33.2)."]},
                {"criterion": "Severe symptoms: MADRS 28 or more, or HAM-D 17 or more", "status": "met",
                 "evidence": ["MADRS 34 on 2026-02-23."]},
                {"criterion": "Inadequate response to at least two antidepressants from two classes, "
                              "each at an adequate dose for 6 weeks or more in the current episode",
                 "status": "met",
                 "evidence": ["Sertraline 200 mg daily for 10 weeks: 8% improvement.",
                              "Venlafaxine XR 225 mg daily for 11 weeks: 12% improvement."]},
                {"criterion": "Used together with an oral antidepressant", "status": "met",
                 "evidence": ["Escitalopram 20 mg daily started 2026-02-23."]},
                {"criterion": "Treatment setting certified in the SPRAVATO REMS", "status": "met",
                 "evidence": ["Prairie Mind Clinic, REMS setting RS000417, certified 2024-01-15."]},
            ],
        },
        "denial": {
            "date": date(2026, 3, 12),
            "reference": "DN-88120457",
            "reason": "Documentation does not show two antidepressant trials of adequate duration in the current "
                      "episode.",
        },
        "sender": {
            "name": "Casey Billing",
            "phone": "217-555-0102",
            "fax": "217-555-0101",
            "email": "billing@example.org",
        },
        "fax": {
            "message": "Enclosed: prior authorization request for SPRAVATO, letter of medical necessity and "
                       "supporting chart notes. Please call with any questions.",
            "pages": None,
        },
    }


def sample_case_facts(*, appeal: bool = False) -> CaseFacts:
    """The facts of the same synthetic case, as letters and packets are written from them."""
    start = date(2026, 3, 9)
    doses = (56, *([84] * 7))
    billing = decide_billing(plan_type="commercial", policy=None, dose_mg=84, service_date=start, session_doses=doses)
    episode = date(2025, 3, 1)
    return CaseFacts(
        reference="PA-2026-0042",
        prepared_on=date(2026, 3, 2),
        patient=PatientFacts("Jordan", "Q", "Sample", date(1984, 2, 29), "F", "217-555-0199", "12 Elm Court",
                             "Springfield", "IL", "62704", "MRN000417"),
        coverage=CoverageFacts("bcbs-ma", "Example Blue Cross Plan", "commercial", "commercial", "medical",
                               "XQB123456789", "GRP-55012", "1-888-555-0177", "1-800-555-0134"),
        prescriber=PrescriberFacts("Morgan", "Example", "MD", "1234567893", "Psychiatry", "217-555-0110",
                                   "217-555-0111", "m.example@example.org"),
        site=SiteFacts("Prairie Mind Clinic", "100 Main St", "Springfield", "IL", "62701", "217-555-0100",
                       "217-555-0101", "1245319599", "12-3456789", "Suite 4"),
        rems=RemsFacts(service_date=start, setting_id="RS000417", certified_on=date(2024, 1, 15), certified_until=None,
                       patient_enrolled_on=date(2026, 2, 24), enrollment_confirmation="ENR-55120",
                       enrollment_missing=()),
        request=RequestFacts(indication="TRD", phase="initial", urgency="standard", dose_mg=84,
                             devices_per_session=3, ndc="50458-028-03", sessions=8, start_on=start,
                             frequency="Twice weekly (induction, weeks 1-4)", duration="4 weeks", billing=billing,
                             first_session_mg=56),
        diagnoses=(DiagnosisFacts("F33.2", "Major depressive disorder, recurrent, severe without psychotic features",
                                  episode),
                   DiagnosisFacts("F41.1", "Generalized anxiety disorder", None)),
        episode_start=episode,
        trials=(
            TrialFacts("Citalopram", "antidepressant", 20, date(2019, 5, 1), date(2019, 7, 20), 90, "non_response",
                       5, "earlier"),
            TrialFacts("Sertraline", "antidepressant", 200, date(2025, 4, 1), date(2025, 6, 10), 95, "non_response",
                       8, "current"),
            TrialFacts("Venlafaxine XR", "antidepressant", 225, date(2025, 6, 17), date(2025, 9, 2), 90,
                       "non_response", 12, "current"),
            TrialFacts("Bupropion XL", "augmentation", 300, date(2025, 9, 9), date(2025, 11, 18), 92,
                       "partial_response", 20, "current"),
        ),
        scores=(ScoreFacts("MADRS", 34, date(2026, 2, 23)), ScoreFacts("PHQ-9", 22, date(2026, 2, 23))),
        current_antidepressants=(MedicationFacts("Escitalopram", 20),),
        policy_title="Example Blue Cross Plan medical policy: esketamine nasal spray (2026)",
        criteria=(
            CriterionFacts("Age 18 or older", "met", ("Age 42 on 03/02/2026.",)),
            CriterionFacts("Inadequate response to at least two antidepressants from two classes, each at an "
                           "adequate dose for 6 weeks or more in the current episode", "met",
                           ("Sertraline, SSRI, 200 mg/day, from 04/01/2025 to 06/10/2025, non-response.",
                            "Venlafaxine XR, SNRI, 225 mg/day, from 06/17/2025 to 09/02/2025, non-response.")),
            CriterionFacts("Diagnosed by a mental-health professional", "attested", (),
                           attestation=SignoffFacts("Diagnosis made by the treating psychiatrist.",
                                                    date(2026, 2, 25))),
            CriterionFacts("Treatment setting certified in the SPRAVATO REMS", "met",
                           ("Setting REMS certified on 01/15/2024 (REMS setting ID RS000417).",)),
        ),
        conclusion="met_by_attestation",
        denial=DenialFacts(date(2026, 3, 12), "DN-88120457",
                           "Documentation does not show two antidepressant trials of adequate duration in the "
                           "current episode.") if appeal else None,
    )
