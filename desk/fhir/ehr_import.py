"""Reading an EHR's FHIR R4 (US Core) export into clinical history facts for review.

Input: Bundle JSON files, or NDJSON files as a bulk export writes them (one resource per line, read line by
line so memory holds only the compact facts, never the file). Each resource is checked with the R4B models
of `fhir.resources` (R4B left every resource read here unchanged from R4). A resource that does not validate,
dates in the future, or points at a patient the import does not hold is listed with its id and the reason,
and the rest continues. A file that is not FHIR R4 JSON at all (not JSON, a top level other than a Bundle,
R5 or STU3 content, too large) is refused as a whole.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, NamedTuple

from desk.errors import DeskError
from desk.fhir.codes import ICD10CM
from desk.fhir.validate import FhirInvalid, ResourceValidator
from desk.history.ehr_details import AllergyDetails, NeuromodulationDetails, PrescriberDetails, is_esketamine_allergy
from desk.history.facts import Fact, HistoryImport, PatientHistory, PatientIdentity, Provenance, ResourceProblem
from desk.history.trials import DEFAULT_GAP_DAYS, MedicationEvent, assemble_trials
from desk.patients import CoverageDetails, DiagnosisDetails, PsychotherapyDetails, ScoreDetails, StayDetails
from desk.reference import Drug, find_drug_by_rxnorm, find_drug_mentioned, is_esketamine
from desk.reference.clinical import ClinicalCodes, clinical_codes

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
SOPT = "urn:oid:2.16.840.1.113883.3.221.5"  # Source of Payment Typology (US Core Coverage.type)
MR_TYPE = "MR"  # v2-0203 medical record number
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
# Code systems US Core names for AllergyIntolerance.code (RxNorm, SNOMED CT, NDF-RT/MED-RT, UNII).
_ALLERGY_SYSTEMS = ((RXNORM, "RxNorm"), (SNOMED, "SNOMED CT"), ("http://hl7.org/fhir/ndfrt", "NDF-RT"),
                    ("http://fdasis.nlm.nih.gov", "UNII"))
DEFAULT_MAX_MB = 50
MAX_DAYS_SUPPLY = 365  # a longer supply in one dispense is a data error, not a year of treatment
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
READ_TYPES = frozenset({
    "Patient", "Coverage", "Organization", "Practitioner", "PractitionerRole", "Condition", "Medication",
    "MedicationRequest", "MedicationStatement", "MedicationDispense", "Observation", "Procedure", "Encounter",
    "AllergyIntolerance",
})
# Elements that exist in another FHIR version but not in R4, so their presence names the version a file is in.
# Sources: FHIR R5 and STU3 resource definitions (hl7.org/fhir/R5, hl7.org/fhir/STU3), their R4 differences.
VERSION_MARKERS: dict[str, dict[str, str]] = {
    "MedicationRequest": {"medication": "R5", "definition": "STU3", "context": "STU3"},
    "MedicationStatement": {"medication": "R5", "taken": "STU3", "adherence": "R5", "context": "STU3"},
    "MedicationDispense": {"medication": "R5", "notPerformedReason": "STU3", "notDone": "STU3"},
    "Condition": {"participant": "R5", "assertedDate": "STU3", "context": "STU3"},
    "Observation": {"context": "STU3", "triggeredBy": "R5", "instantiatesCanonical": "R5"},
    "Encounter": {"actualPeriod": "R5", "virtualService": "R5", "incomingReferral": "STU3", "plannedStartDate": "R5"},
    "Procedure": {"occurrenceDateTime": "R5", "occurrencePeriod": "R5", "notDone": "STU3", "context": "STU3"},
    "Patient": {"animal": "STU3"},
    "Coverage": {"kind": "R5", "paymentBy": "R5", "grouping": "STU3", "sequence": "STU3"},
    "AllergyIntolerance": {"assertedDate": "STU3", "participant": "R5"},
}
R5_ONLY_TYPES = frozenset({"MedicationUsage", "ArtifactAssessment", "InventoryItem", "Transport", "Requirements",
                           "ActorDefinition", "FormularyItem", "Permission", "SubscriptionTopic"})
STU3_ONLY_TYPES = frozenset({"ProcedureRequest", "ReferralRequest", "DeviceComponent", "EligibilityRequest",
                             "EligibilityResponse", "ProcessRequest", "ProcessResponse", "DataElement"})
_TIMING_PER_DAY = {"QD": 1, "QAM": 1, "QPM": 1, "QHS": 1, "BID": 2, "TID": 3, "QID": 4}
_PERIOD_DAYS = {"h": 1 / 24, "d": 1, "wk": 7, "mo": 30}
_MG_PER_UNIT = {"mg": 1.0, "g": 1000.0, "ug": 0.001, "mcg": 0.001, "microgram": 0.001, "milligram": 1.0}
_COUNT_UNITS = {"tablet", "tab", "tbl", "{tbl}", "capsule", "cap", "{cap}", "{tablet}", "{capsule}", "1"}
_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*MG\b", re.IGNORECASE)
_ICD10_MDD = re.compile(r"^F3[23]")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class ImportRefused(DeskError):
    """A file that cannot be read as FHIR R4 JSON; nothing from the import was taken."""


@dataclass(frozen=True)
class SourceFile:
    """One file to read: its name as shown to staff, and its bytes or its path on disk."""

    name: str
    data: bytes | None = None
    path: Path | None = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def open(self) -> IO[bytes]:
        if self.data is not None:
            import io

            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")


class _MedRecord(NamedTuple):
    kind: str
    code: str
    label: str
    ref: str
    start: date
    end: date | None
    ongoing: bool
    days_supply: int | None
    quantity: float | None
    dosage: str
    source: Provenance


@dataclass
class _PatientFacts:
    identity: PatientIdentity | None = None
    facts: list[Fact] = field(default_factory=list)
    medications: list[_MedRecord] = field(default_factory=list)
    sessions: list[tuple[date, Provenance]] = field(default_factory=list)
    neuromodulation: list[tuple[str, date, date | None, Provenance]] = field(default_factory=list)
    requesters: list[tuple[str, Provenance]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _code(concept: Any, system: str) -> str:
    for coding in _codings(concept):
        if coding.get("system") == system and coding.get("code"):
            return str(coding["code"]).strip()
    return ""


def _text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in _codings(concept):
        if coding.get("display"):
            return str(coding["display"])
    return ""


def _ref(value: Any) -> str:
    return str(value.get("reference") or "") if isinstance(value, dict) else ""


def _first(items: Any) -> dict[str, Any]:
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def _icd10(code: str) -> str:
    code = code.strip().upper()
    return code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _unit_mg(quantity: dict[str, Any]) -> float | None:
    unit = str(quantity.get("code") or quantity.get("unit") or "").strip().lower()
    return _MG_PER_UNIT.get(unit)


def _is_count(quantity: dict[str, Any]) -> bool:
    unit = str(quantity.get("code") or quantity.get("unit") or "").strip().lower()
    return unit in _COUNT_UNITS


def _strength_mg(label: str) -> float | None:
    found = _STRENGTH.findall(label)
    return float(found[0]) if len(found) == 1 else None


def daily_dose(dosage: dict[str, Any], *, label: str) -> tuple[float | None, str]:
    """Daily mg from one FHIR Dosage: dose x times per day; a dose in tablets uses the strength in the label."""
    dose = _first(dosage.get("doseAndRate")).get("doseQuantity")
    if not isinstance(dose, dict) or not isinstance(dose.get("value"), int | float) or not dose["value"] > 0:
        return None, ""
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    per_day: float | None = None
    if (isinstance(repeat.get("frequency"), int) and repeat["frequency"] > 0
            and isinstance(repeat.get("period"), int | float) and repeat["period"] > 0
            and repeat.get("periodUnit") in _PERIOD_DAYS):
        per_day = float(repeat["frequency"]) / (float(repeat["period"]) * _PERIOD_DAYS[repeat["periodUnit"]])
    else:
        code = _first(_codings((dosage.get("timing") or {}).get("code"))).get("code")
        per_day = _TIMING_PER_DAY.get(str(code or "").upper())
    if per_day is None:
        return None, ""
    factor = _unit_mg(dose)
    if factor is not None:
        return float(dose["value"]) * factor * per_day, "from the dosage instructions"
    strength = _strength_mg(label) if _is_count(dose) else None
    if strength is not None:
        return float(dose["value"]) * strength * per_day, "from the dosage in tablets and the strength in the drug name"
    return None, ""


class _Reader:
    """Collects compact facts per patient reference while resources stream past."""

    def __init__(self, *, today: date, known_payers: Collection[str], codes: ClinicalCodes) -> None:
        self.today = today
        self.known_payers = known_payers
        self.codes = codes
        self.patients: dict[str, _PatientFacts] = defaultdict(_PatientFacts)
        self.aliases: dict[str, str] = {}
        self.medications: dict[str, dict[str, Any]] = {}
        self.organizations: dict[str, str] = {}
        self.practitioners: dict[str, tuple[str, str, str]] = {}  # id: name, NPI, qualification
        self.roles: dict[str, tuple[str, str]] = {}  # id: practitioner reference, role
        self.problems: list[ResourceProblem] = []
        self.read = 0
        self.validator = ResourceValidator()

    # --- one resource ------------------------------------------------------------------------------------

    def resource(self, data: Any, *, file: str, where: str, full_url: str = "") -> None:
        self.read += 1
        if not isinstance(data, dict):
            self.problems.append(ResourceProblem(file, where, "not a JSON object"))
            return
        kind = data.get("resourceType")
        if not isinstance(kind, str) or not kind:
            self.problems.append(ResourceProblem(file, where, "resourceType is missing: not a FHIR resource"))
            return
        rid = f"{kind}/{data.get('id')}" if isinstance(data.get("id"), str) and data["id"] else f"{kind} at {where}"
        if kind in R5_ONLY_TYPES:
            raise ImportRefused(f"{file}: {rid} is a FHIR R5 resource; export FHIR R4 (US Core)")
        if kind in STU3_ONLY_TYPES:
            raise ImportRefused(f"{file}: {rid} is a FHIR STU3 resource; export FHIR R4 (US Core)")
        for element, version in VERSION_MARKERS.get(str(kind), {}).items():
            if element in data:
                raise ImportRefused(f"{file}: {rid} has {kind}.{element}, which is FHIR {version}, not R4; "
                                    "export FHIR R4 (US Core)")
        if kind not in READ_TYPES:
            return
        try:
            self.validator.validate(data)
        except FhirInvalid as exc:
            self.problems.append(ResourceProblem(file, rid, f"not valid FHIR R4: {exc}"))
            return
        if data.get("status") == "entered-in-error":
            return
        if full_url:
            self.aliases[full_url] = rid
        source = Provenance(file, rid)
        handler = getattr(self, f"_{str(kind).lower()}")
        try:
            handler(data, source)
        except _Refused as refused:
            self.problems.append(ResourceProblem(file, rid, refused.reason))

    def _past(self, value: date | None, what: str) -> date | None:
        if value is not None and value > self.today:
            raise _Refused(f"{what} is in the future")
        return value

    def _subject(self, data: dict[str, Any], element: str = "subject") -> _PatientFacts:
        ref = _ref(data.get(element))
        if not ref:
            raise _Refused(f"{element} is missing: the resource names no patient")
        return self.patients[ref]

    def _patient(self, data: dict[str, Any], source: Provenance) -> None:
        identifiers = tuple(str(i["value"]).strip() for i in data.get("identifier") or []
                            if isinstance(i, dict) and str(i.get("value") or "").strip())
        if not identifiers:
            raise _Refused("the Patient has no identifier (MRN), so it cannot be matched to a record")
        mrns = [str(i["value"]).strip() for i in data.get("identifier") or []
                if isinstance(i, dict) and i.get("value") and any(c.get("code") == MR_TYPE
                                                                  for c in _codings(i.get("type")))]
        name = _first(data.get("name"))
        dob = self._past(_date(data.get("birthDate")), "birthDate")
        ordered = tuple(dict.fromkeys([*mrns, *identifiers]))
        self.patients[source.resource_id].identity = PatientIdentity(
            resource_id=source.resource_id, identifiers=ordered,
            first_name=" ".join(str(g) for g in name.get("given") or [])[:100].split(" ")[0],
            last_name=str(name.get("family") or "")[:100], dob=dob,
        )

    def _organization(self, data: dict[str, Any], source: Provenance) -> None:
        self.organizations[source.resource_id] = str(data.get("name") or "")

    def _medication(self, data: dict[str, Any], source: Provenance) -> None:
        self.medications[source.resource_id] = data.get("code") or {}

    def _practitioner(self, data: dict[str, Any], source: Provenance) -> None:
        name = _first(data.get("name"))
        text = str(name.get("text") or "").strip() or " ".join(
            [*(str(p) for p in name.get("prefix") or []), *(str(g) for g in name.get("given") or []),
             str(name.get("family") or ""), *(str(s) for s in name.get("suffix") or [])]).strip()
        npi = next((str(i.get("value") or "").strip() for i in data.get("identifier") or []
                    if isinstance(i, dict) and i.get("system") == NPI_SYSTEM), "")
        qualification = _text(_first(data.get("qualification")).get("code"))
        self.practitioners[source.resource_id] = (" ".join(text.split())[:200], npi, qualification[:200])

    def _practitionerrole(self, data: dict[str, Any], source: Provenance) -> None:
        role = ", ".join(t for t in (_text(c) for c in data.get("code") or []) if t)
        specialty = ", ".join(t for t in (_text(c) for c in data.get("specialty") or []) if t)
        self.roles[source.resource_id] = (_ref(data.get("practitioner")),
                                          "; ".join(r for r in (role, specialty) if r)[:200])

    def _allergyintolerance(self, data: dict[str, Any], source: Provenance) -> None:
        target = self._subject(data, "patient")
        verification = _first(_codings(data.get("verificationStatus"))).get("code")
        if verification in ("refuted", "entered-in-error"):
            return
        label = _text(data.get("code"))
        if not label:
            raise _Refused("the allergy names no substance (code)")
        code = next((f"{name} {_code(data.get('code'), system)}" for system, name in _ALLERGY_SYSTEMS
                     if _code(data.get("code"), system)), "")
        status = str(_first(_codings(data.get("clinicalStatus"))).get("code") or "active")
        reactions = [t for r in data.get("reaction") or [] if isinstance(r, dict)
                     for t in (_text(m) for m in r.get("manifestation") or []) if t]
        onset = data.get("onsetDateTime") or (data.get("onsetPeriod") or {}).get("start")
        details = AllergyDetails(
            substance=" ".join(label.split())[:200], code=code[:80],
            criticality=str(data.get("criticality") or ""), reaction="; ".join(dict.fromkeys(reactions))[:200],
            status=status if status in ("active", "inactive", "resolved") else "active",
            onset=self._past(_date(onset), "onset"),
        )
        target.facts.append(Fact("allergies", details, ("substance", "code", "criticality", "reaction", "status",
                                                        "onset"), (source,)))
        if is_esketamine_allergy(label):
            target.notes.append(f"{source.resource_id}: allergy or intolerance to {label}; payer criteria read it as "
                                "esketamine hypersensitivity until the screening answer is recorded")

    def _condition(self, data: dict[str, Any], source: Provenance) -> None:
        target = self._subject(data)
        verification = _first(_codings(data.get("verificationStatus"))).get("code")
        if verification in ("refuted", "entered-in-error"):
            return
        icd = _code(data.get("code"), ICD10CM)
        label = _text(data.get("code"))
        if not icd:
            if _code(data.get("code"), SNOMED):
                target.notes.append(f"{source.resource_id}: diagnosis coded in SNOMED CT only ({label}); "
                                    "enter its ICD-10-CM code on the record")
            return
        icd = _icd10(icd)
        if not _ICD10_MDD.match(icd):
            return
        onset = data.get("onsetDateTime") or (data.get("onsetPeriod") or {}).get("start")
        abated = data.get("abatementDateTime") or (data.get("abatementPeriod") or {}).get("end")
        clinical = _first(_codings(data.get("clinicalStatus"))).get("code")
        details = DiagnosisDetails(
            icd10=icd, description=label[:200],
            episode_start=self._past(_date(onset), "onset"),
            episode_type="recurrent" if icd.startswith("F33") else "single",
            psychotic_features=icd in ("F32.3", "F33.3"),
            diagnosis_method="other",
            diagnosed_on=self._past(_date(data.get("recordedDate")), "recordedDate"),
            is_current=not abated and clinical not in ("inactive", "resolved", "remission"),
        )
        self._past(_date(abated), "abatement")
        target.facts.append(Fact("diagnoses", details, ("icd10", "description", "episode_start", "episode_type",
                                                        "psychotic_features", "diagnosed_on", "is_current"),
                                 (source,)))

    def _observation(self, data: dict[str, Any], source: Provenance) -> None:
        if data.get("status") not in ("final", "amended", "corrected"):
            return
        instrument = self.codes.instrument_for(loinc=_code(data.get("code"), LOINC), text=_text(data.get("code")))
        if instrument is None:
            return
        target = self._subject(data)
        raw: Any = (data.get("valueQuantity") or {}).get("value")
        if raw is None:
            raw = data.get("valueInteger")
        if raw is None and isinstance(data.get("valueString"), str):
            raw = data["valueString"].strip()
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise _Refused(f"{instrument} total has no numeric value") from None
        if value != int(value):
            raise _Refused(f"{instrument} total is not a whole number")
        measured = _date(data.get("effectiveDateTime")) or _date((data.get("effectivePeriod") or {}).get("start"))
        if measured is None:
            raise _Refused(f"{instrument} total has no date (effectiveDateTime)")
        details = ScoreDetails(instrument=instrument, score=int(value), measured_on=self._past(measured, "effective")
                               or measured)
        target.facts.append(Fact("scores", details, ("instrument", "score", "measured_on"), (source,)))

    def _procedure(self, data: dict[str, Any], source: Provenance) -> None:
        if data.get("status") not in ("completed", "in-progress"):
            return
        kind = self.codes.procedure_for(cpt=_code(data.get("code"), CPT), snomed=_code(data.get("code"), SNOMED))
        if kind is None:
            return
        target = self._subject(data)
        period = data.get("performedPeriod") or {}
        when = _date(data.get("performedDateTime")) or _date(period.get("start"))
        if when is None:
            raise _Refused(f"{kind} procedure has no date (performed)")
        self._past(when, "performed")
        if kind == "psychotherapy":
            target.sessions.append((when, source))
            return
        # A course given as one Procedure with a period; a Procedure still in progress has no end yet.
        end = None if data.get("status") == "in-progress" else (self._past(_date(period.get("end")), "performed end")
                                                                 or when)
        if end is not None and end < when:
            raise _Refused(f"{kind} procedure ends before it starts")
        target.neuromodulation.append((kind, when, end, source))

    def _encounter(self, data: dict[str, Any], source: Provenance) -> None:
        if data.get("status") in ("cancelled", "planned"):
            return
        klass = data.get("class") or {}
        if not isinstance(klass, dict) or klass.get("code") not in self.codes.inpatient_encounter_classes.codes:
            return
        target = self._subject(data)
        period = data.get("period") or {}
        admitted = _date(period.get("start"))
        if admitted is None:
            raise _Refused("inpatient encounter has no start date (period.start)")
        reasons = [_icd10(_code(r, ICD10CM)) for r in data.get("reasonCode") or [] if _code(r, ICD10CM)]
        reason = "other"
        if any(r.startswith("R45.851") for r in reasons):
            reason = "suicidality"
        elif any(_ICD10_MDD.match(r) for r in reasons):
            reason = "depression"
        details = StayDetails(admitted_on=self._past(admitted, "period.start") or admitted,
                              discharged_on=self._past(_date(period.get("end")), "period.end"), reason=reason)
        target.facts.append(Fact("stays", details, ("admitted_on", "discharged_on", "reason"), (source,)))

    def _coverage(self, data: dict[str, Any], source: Provenance) -> None:
        if data.get("status") != "active":
            return
        target = self._subject(data, "beneficiary")
        payor = _first(data.get("payor"))
        name = str(payor.get("display") or "") or self.organizations.get(_ref(payor), "")
        payer_id = self._payer_id(name, _ref(payor))
        member = str(data.get("subscriberId") or _first(data.get("identifier")).get("value") or "").strip()
        sopt = _code(data.get("type"), SOPT)
        if payer_id is None:
            target.notes.append(f"{source.resource_id}: coverage by a payer the desk has no policy file for; "
                                "add it on the record if needed")
            return
        if not sopt.startswith("5"):
            target.notes.append(f"{source.resource_id}: coverage plan type not given as private insurance "
                                "(Source of Payment Typology 5); add it on the record with its plan type")
            return
        period = data.get("period") or {}
        details = CoverageDetails(payer_id=payer_id, plan_type="commercial", member_id=member,
                                  start_date=_date(period.get("start")), end_date=_date(period.get("end")))
        target.facts.append(Fact("coverages", details, ("payer_id", "plan_type", "member_id", "start_date",
                                                        "end_date"), (source,)))

    def _payer_id(self, name: str, ref: str) -> str | None:
        words = set(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())
        found = [p for p in self.known_payers if p in words or p.replace("-", " ") in name.lower()]
        return found[0] if len(found) == 1 else None

    def _medicationrequest(self, data: dict[str, Any], source: Provenance) -> None:
        if data.get("intent") in ("proposal", "plan") or data.get("status") in ("draft", "cancelled"):
            return
        target = self._subject(data)
        target.medications.append(self._med_record(data, source, "request"))
        requester = _ref(data.get("requester"))
        if requester.startswith(("Practitioner/", "PractitionerRole/")) or "/Practitioner" in requester:
            target.requesters.append((requester, source))

    def _medicationstatement(self, data: dict[str, Any], source: Provenance) -> None:
        if data.get("status") in ("not-taken", "intended"):
            return
        self._subject(data).medications.append(self._med_record(data, source, "statement"))

    def _medicationdispense(self, data: dict[str, Any], source: Provenance) -> None:
        if data.get("status") not in ("completed", None):
            return
        self._subject(data).medications.append(self._med_record(data, source, "dispense"))

    # --- after the last resource -------------------------------------------------------------------------

    def _medication_concept(self, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The medication's code as given inline (or contained), or the reference to resolve at the end."""
        if data.get("medicationCodeableConcept"):
            return dict(data["medicationCodeableConcept"]), ""
        ref = _ref(data.get("medicationReference"))
        if ref.startswith("#"):
            for contained in data.get("contained") or []:
                if isinstance(contained, dict) and contained.get("id") == ref[1:]:
                    return dict(contained.get("code") or {}), ""
        return {}, ref

    def _med_record(self, data: dict[str, Any], source: Provenance, kind: str) -> _MedRecord:
        """The few values a medication resource contributes, kept instead of the resource (memory stays small)."""
        concept, ref = self._medication_concept(data)
        dosages = data.get("dosageInstruction") or data.get("dosage") or []
        days_supply = quantity = None
        if kind == "dispense":
            start = _date(data.get("whenHandedOver")) or _date(data.get("whenPrepared"))
            supply = (data.get("daysSupply") or {}).get("value")
            days_supply = int(supply) if isinstance(supply, int | float) and supply >= 1 else None
            if days_supply is not None and days_supply > MAX_DAYS_SUPPLY:
                raise _Refused(f"days' supply above {MAX_DAYS_SUPPLY} days")
            amount = (data.get("quantity") or {}).get("value")
            quantity = float(amount) if isinstance(amount, int | float) else None
            end = None
            ongoing = False
        elif kind == "statement":
            period = data.get("effectivePeriod") or {}
            start = _date(period.get("start")) or _date(data.get("effectiveDateTime"))
            end = _date(period.get("end"))
            ongoing = data.get("status") == "active" and end is None
        else:
            bounds = (((_first(dosages).get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {})
            start = _date(bounds.get("start")) or _date(data.get("authoredOn"))
            end = _date(bounds.get("end"))
            ongoing = data.get("status") == "active" and end is None
        if start is None:
            raise _Refused("no date for the medication (authoredOn, effective or whenHandedOver)")
        self._past(start, "the medication date")
        if end is not None and end < start:
            raise _Refused("the medication period ends before it starts")
        if end is not None and end > self.today:
            end, ongoing = None, True  # a planned end still ahead: the trial is ongoing
        return _MedRecord(kind, _code(concept, RXNORM), _text(concept), ref, start, end, ongoing, days_supply,
                          quantity, json.dumps(_first(dosages)) if dosages else "", source)

    def _event(self, record: _MedRecord, target: _PatientFacts) -> MedicationEvent | None:
        code, label = record.code, record.label
        if record.ref:
            concept = self.medications.get(self.aliases.get(record.ref, record.ref), {})
            code, label = _code(concept, RXNORM), _text(concept)
        source = record.source
        drug: Drug | None = find_drug_by_rxnorm(code) if code else None
        drug = drug or find_drug_mentioned(label)
        if drug is None:
            if is_esketamine(label) or "esketamine" in label.lower():
                target.notes.append(f"{source.resource_id}: esketamine is the drug being requested, not a prior "
                                    "trial; record prior esketamine under screening")
                return None
            what = f"RxNorm {code}" if code else "a medication without an RxNorm code"
            target.notes.append(f"{source.resource_id}: {what} ({label or 'no name'}) is not in the drug "
                                "reference; not imported")
            return None
        dose, method = daily_dose(json.loads(record.dosage), label=label) if record.dosage else (None, "")
        strength = _strength_mg(label)
        if dose is None and record.days_supply and record.quantity and strength:
            dose = record.quantity * strength / record.days_supply
            method = "from the dispensed quantity, strength and days' supply"
        return MedicationEvent(drug=drug.generic, kind=record.kind,  # type: ignore[arg-type]
                               start=record.start, end=record.end, ongoing=record.ongoing, daily_mg=dose,
                               dose_method=method, days_supply=record.days_supply, provenance=source)

    def _prescribers(self, requesters: list[tuple[str, Provenance]]) -> list[Fact]:
        """The clinicians who wrote the patient's prescriptions (a PractitionerRole adds the role)."""
        found: dict[tuple[str, str], tuple[PrescriberDetails, list[Provenance]]] = {}
        for ref, source in requesters:
            ref = self.aliases.get(ref, ref)
            role = ""
            if "PractitionerRole/" in ref:
                practitioner_ref, role = self.roles.get(_tail(ref, "PractitionerRole"), ("", ""))
                ref = self.aliases.get(practitioner_ref, practitioner_ref)
            person = self.practitioners.get(_tail(ref, "Practitioner"))
            if person is None or not person[0]:
                continue
            name, npi, qualification = person
            details = PrescriberDetails(name=name, npi=npi, role=role or qualification)
            key = (npi, name)
            if key in found:
                known, sources = found[key]
                found[key] = (known if known.role else details, [*sources, source])
            else:
                found[key] = (details, [source])
        return [Fact("prescribers", details, ("name", "npi", "role"), tuple(sources))
                for details, sources in found.values()]

    def _canonical(self, ref: str) -> str:
        if ref in self.aliases:
            return self.aliases[ref]
        match = re.search(r"(Patient/[^/]+)$", ref)
        return match[1] if match else ref

    def finish(self, *, gap_days: int) -> list[PatientHistory]:
        merged: dict[str, _PatientFacts] = defaultdict(_PatientFacts)
        for ref, collected in self.patients.items():
            target = merged[self._canonical(ref)]
            target.identity = target.identity or collected.identity
            target.facts += collected.facts
            target.medications += collected.medications
            target.sessions += collected.sessions
            target.neuromodulation += collected.neuromodulation
            target.requesters += collected.requesters
            target.notes += collected.notes
        histories: list[PatientHistory] = []
        for collected in merged.values():
            if collected.identity is None:
                sources = [s for f in collected.facts for s in f.provenance]
                sources += [m.source for m in collected.medications] + [s for _w, s in collected.sessions]
                sources += [s for *_c, s in collected.neuromodulation]
                self.problems += [ResourceProblem(s.source_file, s.resource_id, "its patient reference does not "
                                                  "resolve to a Patient in this import") for s in sources]
                continue
            history = PatientHistory(identity=collected.identity, facts=list(collected.facts))
            events = []
            for record in collected.medications:
                event = self._event(record, collected)
                if event is not None:
                    events.append(event)
            episode_starts = [f.details.episode_start for f in history.facts
                              if isinstance(f.details, DiagnosisDetails) and f.details.is_current
                              and f.details.episode_start is not None]
            trials, notes = assemble_trials(events, episode_start=max(episode_starts) if episode_starts else None,
                                            gap_days=gap_days)
            history.facts += trials
            history.notes = collected.notes + notes
            history.facts += _psychotherapy(collected.sessions, gap_days=max(gap_days, 60))
            history.facts += _neuromodulation(collected.neuromodulation, gap_days=max(gap_days, 60))
            history.facts += self._prescribers(collected.requesters)
            history.facts = _dedupe(history.facts)
            histories.append(history)
        return histories


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _psychotherapy(sessions: list[tuple[date, Provenance]], *, gap_days: int) -> list[Fact]:
    """Psychotherapy sessions closer than `gap_days` apart form one course (modality is not in the codes)."""
    facts: list[Fact] = []
    course: list[tuple[date, Provenance]] = []
    for when, source in [*sorted(sessions, key=lambda s: s[0]), (date.max, Provenance("", ""))]:
        if course and (when - course[-1][0]).days > gap_days:
            details = PsychotherapyDetails(modality="other", start_date=course[0][0], end_date=course[-1][0])
            facts.append(Fact("psychotherapy", details, ("modality", "start_date", "end_date"),
                              tuple(s for _, s in course)))
            course = []
        course.append((when, source))
    return facts


def _tail(ref: str, kind: str) -> str:
    """'Practitioner/x' from a relative or absolute reference to a resource of `kind`."""
    match = re.search(rf"({kind}/[^/]+)$", ref)
    return match[1] if match else ref


def _neuromodulation(procedures: list[tuple[str, date, date | None, Provenance]], *, gap_days: int) -> list[Fact]:
    """Per therapy, sessions (or periods) closer than `gap_days` apart form one course; one still in progress
    leaves the course without an end."""
    facts: list[Fact] = []
    for therapy in sorted({p[0] for p in procedures}):
        items = sorted((p for p in procedures if p[0] == therapy), key=lambda p: p[1])
        courses: list[list[tuple[str, date, date | None, Provenance]]] = []
        last: date | None = None
        for item in items:
            if courses and last is not None and (item[1] - last).days <= gap_days:
                courses[-1].append(item)
            else:
                courses.append([item])
            last = date.max if item[2] is None else max(last or item[2], item[2])
        for course in courses:
            ongoing = any(p[2] is None for p in course)
            details = NeuromodulationDetails(
                therapy=therapy, start_date=course[0][1],
                end_date=None if ongoing else max(p[2] or p[1] for p in course), sessions=len(course),
            )
            facts.append(Fact("neuromodulation", details, ("therapy", "start_date", "end_date", "sessions"),
                              tuple(p[3] for p in course)))
    return facts


def _dedupe(facts: list[Fact]) -> list[Fact]:
    """The same fact twice (a bundle and an NDJSON file of one export): keep one, with both sources."""
    seen: dict[tuple[Any, ...], Fact] = {}
    for fact in facts:
        key = (fact.section, *fact.key)
        if key in seen and seen[key].details == fact.details:
            old = seen[key]
            seen[key] = Fact(old.section, old.details, old.fields, old.provenance + fact.provenance)
        elif key not in seen:
            seen[key] = fact
        else:
            seen[(*key, len(seen))] = fact
    return list(seen.values())


def _bundle_entries(data: dict[str, Any], name: str) -> Iterator[tuple[Any, str, str]]:
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise ImportRefused(f"{name}: Bundle.entry is not a list of entries")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            yield entry, f"entry[{index}]", ""
            continue
        full_url = entry.get("fullUrl")
        yield entry.get("resource"), f"entry[{index}]", full_url if isinstance(full_url, str) else ""


def _read_file(source: SourceFile, reader: _Reader, *, max_bytes: int) -> None:
    if source.size > max_bytes:
        raise ImportRefused(f"{source.name}: the file is larger than {max_bytes // (1024 * 1024)} MB "
                            "(setting DESK_EHR_IMPORT_MAX_MB)")
    with source.open() as handle:
        head = handle.read(1)
        while head and head.isspace():
            head = handle.read(1)
        if head != b"{":
            raise ImportRefused(f"{source.name}: not FHIR JSON (a Bundle or NDJSON resources were expected)")
        handle.seek(0)
        if source.name.lower().endswith(NDJSON_SUFFIXES):
            _read_ndjson(source.name, handle, reader)
            return
        try:
            data = json.load(handle)
        except json.JSONDecodeError as exc:
            if "Extra data" in str(exc):
                handle.seek(0)
                _read_ndjson(source.name, handle, reader)
                return
            raise ImportRefused(f"{source.name}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
        except UnicodeDecodeError:
            raise ImportRefused(f"{source.name}: not UTF-8 text") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, dict) else None
        raise ImportRefused(f"{source.name}: resourceType is {found!r}; expected a FHIR R4 'Bundle' "
                            "(or NDJSON files from a bulk export)")
    meta = data.get("meta")
    fhir_version = str(meta.get("fhirVersion") or "") if isinstance(meta, dict) else ""
    if fhir_version and not fhir_version.startswith("4.0"):
        raise ImportRefused(f"{source.name}: the Bundle declares FHIR {fhir_version}; export FHIR R4 (4.0.1)")
    for resource, where, full_url in _bundle_entries(data, source.name):
        reader.resource(resource, file=source.name, where=where, full_url=full_url)


def _read_ndjson(name: str, handle: IO[bytes], reader: _Reader) -> None:
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ImportRefused(f"{name}: line {number} is not valid JSON; each NDJSON line holds one resource") \
                from None
        if isinstance(data, dict) and data.get("resourceType") == "Bundle":
            raise ImportRefused(f"{name}: line {number} is a Bundle; NDJSON lines hold single resources")
        reader.resource(data, file=name, where=f"line {number}")


def read_fhir_export(
    sources: Sequence[SourceFile],
    *,
    today: date,
    known_payers: Collection[str],
    max_mb: int = DEFAULT_MAX_MB,
    gap_days: int = DEFAULT_GAP_DAYS,
) -> HistoryImport:
    """Read every file into per-patient facts for review; raises ImportRefused when a file cannot be read."""
    if not sources:
        raise ImportRefused("choose at least one file")
    reader = _Reader(today=today, known_payers=known_payers, codes=clinical_codes())
    for source in sources:
        _read_file(source, reader, max_bytes=max_mb * 1024 * 1024)
    patients = reader.finish(gap_days=gap_days)
    if not patients and not reader.problems:
        raise ImportRefused("the files hold no Patient with an identifier; nothing to review")
    return HistoryImport(kind="fhir", files=tuple(s.name for s in sources), imported_on=today, patients=patients,
                         problems=sorted(reader.problems), resources_read=reader.read)
