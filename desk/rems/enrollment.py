"""Site certification and patient enrollment: an outpatient must be enrolled before the first treatment.

SPRAVATO REMS: an outpatient setting is certified by its Authorized Representative and must enroll each
patient (Patient Enrollment Form signed by patient and prescriber) before the first treatment
(shared/domain/spravato.md §1, [1][2][5]).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from desk.auth import CurrentUser
from desk.errors import FieldError, NotFound, StaleEdit, ValidationFailed
from desk.models import Patient, Prescriber, RemsEnrollment, Site
from desk.records import check_version
from desk.rems.permissions import require_record

REMS_PHONE = "1-855-382-6022"


@dataclass(frozen=True)
class Blocker:
    """Why a session cannot start, and what the staff member should do about it."""

    code: str
    reason: str
    action: str


def get_enrollment(session: Session, *, patient_id: int) -> RemsEnrollment | None:
    return session.exec(select(RemsEnrollment).where(RemsEnrollment.patient_id == patient_id)).first()


def is_enrolled(enrollment: RemsEnrollment | None) -> bool:
    """Enrolled once the form carries both signatures and has been submitted to the REMS."""
    return bool(
        enrollment
        and enrollment.patient_signed_on
        and enrollment.prescriber_signed_on
        and enrollment.submitted_on
    )


def enrollment_blocker(enrollment: RemsEnrollment | None) -> Blocker | None:
    """None when enrolled; otherwise the missing step, phrased for the nurse."""
    if enrollment is None:
        return Blocker(
            "not_enrolled",
            "This patient is not enrolled in the SPRAVATO REMS; an outpatient must be enrolled before the first "
            "treatment.",
            "Have the patient and the prescriber sign the REMS Patient Enrollment Form, submit it at "
            "SPRAVATOrems.com, then record the dates on the REMS enrollment & course page.",
        )
    missing = [
        label
        for label, value in (
            ("the patient's signature", enrollment.patient_signed_on),
            ("the prescriber's signature", enrollment.prescriber_signed_on),
            ("the submission date", enrollment.submitted_on),
        )
        if value is None
    ]
    if missing:
        return Blocker(
            "enrollment_incomplete",
            "The REMS Patient Enrollment Form is not complete: " + ", ".join(missing) + " missing.",
            "Complete and submit the enrollment form, then record the missing dates on the REMS enrollment & course "
            "page.",
        )
    return None


def site_certification_problem(site: Site) -> str | None:
    """A warning when the outpatient setting's REMS certification is not on file."""
    missing = [
        label
        for label, value in (
            ("REMS setting ID", site.rems_setting_id.strip()),
            ("certification date", site.rems_certified_on),
            ("authorized representative", site.authorized_representative.strip()),
        )
        if not value
    ]
    if missing:
        return (
            "REMS certification is not on file for this site (missing: " + ", ".join(missing) + "). "
            "Treatment may only be given in a certified setting; the authorized representative certifies it "
            f"at SPRAVATOrems.com or by calling {REMS_PHONE}."
        )
    return None


def setting_certification_on(site: Site, *, day: date) -> str | None:
    """Why the setting may not treat on `day` (no certification on file, not yet certified, lapsed), with what to do;
    None when it is certified that day."""
    missing = site_certification_problem(site)
    if missing:
        return missing
    assert site.rems_certified_on is not None
    if day < site.rems_certified_on:
        return (f"{site.name} is certified in the SPRAVATO REMS from {site.rems_certified_on:%m/%d/%Y}; a session on "
                f"{day:%m/%d/%Y} is before that. Only a certified setting may treat: check the session date, or "
                "record the correct certification date (Admin → Sites).")
    if site.rems_certified_until is not None and day > site.rems_certified_until:
        return (f"The SPRAVATO REMS certification of {site.name} ended {site.rems_certified_until:%m/%d/%Y}; no "
                f"session may be given there on {day:%m/%d/%Y}. The authorized representative recertifies the "
                f"setting at SPRAVATOrems.com or by calling {REMS_PHONE}; then record the new dates (Admin → Sites).")
    return None


def start_blockers(session: Session, *, patient_id: int, site_id: int) -> list[Blocker]:
    """Everything that prevents starting a session for this patient at this site (empty: may start)."""
    blockers: list[Blocker] = []
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    problem = site_certification_problem(site)
    if problem:
        blockers.append(Blocker("site_not_certified", problem, "Ask an administrator to record the certification."))
    blocker = enrollment_blocker(get_enrollment(session, patient_id=patient_id))
    if blocker:
        blockers.append(blocker)
    return blockers


def save_enrollment(
    session: Session,
    *,
    user: CurrentUser,
    patient_id: int,
    prescriber_id: int | None,
    patient_signed_on: date | None,
    prescriber_signed_on: date | None,
    submitted_on: date | None,
    confirmation_number: str,
    today: date,
    expected_version: int | None = None,
) -> RemsEnrollment:
    """Create or update a patient's REMS enrollment; raises ValidationFailed naming each bad field."""
    require_record(user)
    if session.get(Patient, patient_id) is None:
        raise NotFound("No such patient.")
    errors: list[FieldError] = []
    for name, value in (
        ("patient_signed_on", patient_signed_on),
        ("prescriber_signed_on", prescriber_signed_on),
        ("submitted_on", submitted_on),
    ):
        if value is not None and value > today:
            errors.append(FieldError(name, "cannot be in the future"))
    if prescriber_id is not None and session.get(Prescriber, prescriber_id) is None:
        errors.append(FieldError("prescriber_id", "no such prescriber"))
    if submitted_on is not None:
        if patient_signed_on is None:
            errors.append(FieldError("patient_signed_on", "the form cannot be submitted before the patient signs it"))
        elif submitted_on < patient_signed_on:
            errors.append(FieldError("submitted_on", "is before the patient's signature"))
        if prescriber_signed_on is None:
            errors.append(
                FieldError("prescriber_signed_on", "the form cannot be submitted before the prescriber signs it")
            )
        elif submitted_on < prescriber_signed_on:
            errors.append(FieldError("submitted_on", "is before the prescriber's signature"))
    confirmation = confirmation_number.strip()
    if confirmation and submitted_on is None:
        errors.append(FieldError("submitted_on", "a confirmation number needs the submission date"))
    if len(confirmation) > 40:
        errors.append(FieldError("confirmation_number", "at most 40 characters"))
    if errors:
        raise ValidationFailed(errors)
    enrollment = get_enrollment(session, patient_id=patient_id)
    if enrollment is None:
        if expected_version is not None:
            raise StaleEdit("REMS enrollment")
        enrollment = RemsEnrollment(patient_id=patient_id)
    else:
        check_version(enrollment, expected_version=expected_version, entity="REMS enrollment")
    enrollment.prescriber_id = prescriber_id
    enrollment.patient_signed_on = patient_signed_on
    enrollment.prescriber_signed_on = prescriber_signed_on
    enrollment.submitted_on = submitted_on
    enrollment.confirmation_number = confirmation
    session.add(enrollment)
    session.flush()
    return enrollment


# Label (shared/domain/spravato.md §2 [15][16]): contraindications, and cautions that call for closer monitoring.
_CONTRAINDICATIONS = (
    ("aneurysmal_vascular_disease", "aneurysmal vascular disease (aorta, intracranial or peripheral arteries) or "
                                    "arteriovenous malformation"),
    ("intracerebral_hemorrhage_history", "history of intracerebral hemorrhage"),
    ("esketamine_hypersensitivity", "hypersensitivity to esketamine, ketamine or an excipient"),
)


@dataclass(frozen=True)
class ScreeningFinding:
    """A contraindication or caution from the patient's screening, shown before a session starts."""

    kind: str  # "contraindication" | "caution"
    text: str


def screening_findings(patient: Patient) -> list[ScreeningFinding]:
    """Contraindications recorded yes, and screening answers never recorded (which cannot be ruled out)."""
    findings: list[ScreeningFinding] = []
    for name, words in _CONTRAINDICATIONS:
        value = getattr(patient, name)
        if value:
            findings.append(ScreeningFinding("contraindication", f"Contraindication on the screening: {words}."))
        elif value is None:
            findings.append(ScreeningFinding("caution", f"Not recorded on the screening: {words}."))
    if patient.psychosis_history:
        findings.append(ScreeningFinding("caution", "History of psychosis on the screening."))
    if patient.substance_use == "current":
        findings.append(ScreeningFinding("caution", "Current substance use on the screening."))
    return findings
