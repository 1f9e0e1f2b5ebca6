"""What a session log must satisfy before anything is saved; every error names its field.

Label rules (shared/domain/spravato.md §2): 28 mg per device, 56 mg = 2 devices, 84 mg = 3 devices,
5 minutes between devices; pre-checks before dosing; blood pressure before dosing and about 40 minutes
after; pulse oximetry at every session; observation for at least 2 hours before discharge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from desk.errors import FieldError
from desk.models import INDICATIONS, READING_KINDS
from desk.rems.config import MG_PER_DEVICE, RemsSettings

DOSES_MG = (56, 84)
# A session that stopped after one device still has to be reported; the PMF has an "other" dose box.
OTHER_DOSES_MG = (28,)
SYSTOLIC_RANGE = (60, 260)
DIASTOLIC_RANGE = (30, 160)
HEART_RATE_RANGE = (30, 220)
SPO2_RANGE = (50, 100)
MAX_LOT_LENGTH = 20


@dataclass(frozen=True)
class ReadingInput:
    """One vital-sign reading as entered: blood pressure, heart rate and/or SpO2."""

    kind: str
    measured_at: datetime
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None

    @property
    def has_bp(self) -> bool:
        return self.systolic is not None and self.diastolic is not None


@dataclass(frozen=True)
class SessionInput:
    """Everything the nurse records for one session (times are timezone-aware)."""

    patient_id: int
    site_id: int
    session_date: date
    indication: str
    dose_mg: int
    lot_number: str = ""
    device_times: tuple[datetime, ...] = ()
    no_food_2h: bool = False
    no_liquids_30min: bool = False
    nasal_medication_ok: bool = False
    ride_home_confirmed: bool = False
    readings: tuple[ReadingInput, ...] = ()
    high_bp_acknowledged_by: str = ""
    high_bp_acknowledged_at: datetime | None = None
    vitals_ok_before: bool | None = None
    vitals_ok_before_completion: bool | None = None
    sedation: bool = False
    sedation_resolved_at: datetime | None = None
    dissociation: bool = False
    dissociation_resolved_at: datetime | None = None
    respiratory_depression: bool = False
    respiratory_depression_resolved_at: datetime | None = None
    serious_adverse_event: bool = False
    sae_details: str = ""
    ready_to_leave_minutes: int | None = None
    discharged_at: datetime | None = None
    monitoring_hcp_user_id: int | None = None
    monitoring_hcp_first_name: str = ""
    monitoring_hcp_last_name: str = ""
    monitoring_hcp_phone: str = ""
    monitoring_hcp_email: str = ""
    prescriber_on_site_id: int | None = None

    @property
    def devices_planned(self) -> int:
        return self.dose_mg // MG_PER_DEVICE if self.dose_mg in DOSES_MG + OTHER_DOSES_MG else 0

    @property
    def first_device_at(self) -> datetime | None:
        return min(self.device_times) if self.device_times else None

    def readings_of(self, kind: str) -> list[ReadingInput]:
        return [r for r in self.readings if r.kind == kind]

    @property
    def pre_dose_bp(self) -> ReadingInput | None:
        with_bp = [r for r in self.readings_of("pre") if r.has_bp]
        return max(with_bp, key=lambda r: r.measured_at) if with_bp else None


def bp_above_limit(reading: ReadingInput | None, settings: RemsSettings) -> bool:
    """True when a blood pressure is above the clinic's caution limit (label: about 140/90 mmHg)."""
    if reading is None or not reading.has_bp:
        return False
    assert reading.systolic is not None and reading.diastolic is not None
    return reading.systolic > settings.bp_systolic_limit or reading.diastolic > settings.bp_diastolic_limit


def _range(errors: list[FieldError], name: str, value: int | None, bounds: tuple[int, int], unit: str) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        errors.append(FieldError(name, f"must be between {bounds[0]} and {bounds[1]} {unit}"))


def _moment(errors: list[FieldError], name: str, value: datetime | None, data: SessionInput,
            now: datetime, settings: RemsSettings) -> None:
    if value is None:
        return
    if value.tzinfo is None:
        errors.append(FieldError(name, "time has no time zone"))
        return
    if value > now:
        errors.append(FieldError(name, "cannot be in the future"))
    local_day = value.astimezone(settings.zone).date()
    if local_day not in (data.session_date, data.session_date + timedelta(days=1)):
        errors.append(FieldError(name, "must be on the session date"))


def validate_session(data: SessionInput, *, now: datetime, settings: RemsSettings) -> list[FieldError]:
    """All problems with `data`; an empty list means it may be saved. A set discharge time means complete."""
    errors: list[FieldError] = []
    today = now.astimezone(settings.zone).date()
    if data.session_date > today:
        errors.append(FieldError("session_date", "cannot be in the future"))
    if data.indication not in INDICATIONS:
        errors.append(FieldError("indication", f"choose one of {', '.join(INDICATIONS)}"))
    if data.dose_mg not in DOSES_MG + OTHER_DOSES_MG:
        errors.append(FieldError("dose_mg", "choose 56 mg (2 devices) or 84 mg (3 devices); 28 mg if only one "
                                            "device was given"))
    lot = data.lot_number.strip()
    if len(lot) > MAX_LOT_LENGTH or (lot and not all(c.isalnum() or c in "-/" for c in lot)):
        errors.append(FieldError("lot_number", f"up to {MAX_LOT_LENGTH} letters, digits or dashes as printed on "
                                               "the carton"))

    _check_devices(errors, data, now, settings)
    _check_readings(errors, data, now, settings)
    _check_prechecks(errors, data, settings)
    _check_observations(errors, data, now, settings)
    _check_hcp(errors, data)
    if data.discharged_at is not None:
        _check_discharge(errors, data, now, settings)
    return errors


def _check_devices(errors: list[FieldError], data: SessionInput, now: datetime, settings: RemsSettings) -> None:
    times = data.device_times
    for index, moment in enumerate(times):
        _moment(errors, f"device_times[{index}]", moment, data, now, settings)
    for index in range(1, len(times)):
        if times[index] <= times[index - 1]:
            errors.append(FieldError(f"device_times[{index}]", f"device {index + 1} must come after device {index}"))
        elif times[index] - times[index - 1] < timedelta(minutes=settings.device_spacing_minutes):
            gap = int((times[index] - times[index - 1]).total_seconds() // 60)
            errors.append(
                FieldError(
                    f"device_times[{index}]",
                    f"device {index + 1} is {gap} min after device {index}; wait at least "
                    f"{settings.device_spacing_minutes} minutes between devices",
                )
            )
    planned = data.devices_planned
    if planned and len(times) > planned:
        errors.append(FieldError("device_times", f"{data.dose_mg} mg is {planned} devices; {len(times)} are recorded"))


def _check_readings(errors: list[FieldError], data: SessionInput, now: datetime, settings: RemsSettings) -> None:
    first = data.first_device_at
    for index, reading in enumerate(data.readings):
        name = f"readings[{index}]"
        if reading.kind not in READING_KINDS:
            errors.append(FieldError(f"{name}.kind", f"choose one of {', '.join(READING_KINDS)}"))
        _moment(errors, f"{name}.measured_at", reading.measured_at, data, now, settings)
        values = (reading.systolic, reading.diastolic, reading.heart_rate, reading.spo2)
        if all(v is None for v in values):
            errors.append(FieldError(name, "enter a blood pressure, heart rate or SpO2 value"))
        if (reading.systolic is None) != (reading.diastolic is None):
            missing = "diastolic" if reading.diastolic is None else "systolic"
            errors.append(FieldError(f"{name}.{missing}", "enter both systolic and diastolic"))
        _range(errors, f"{name}.systolic", reading.systolic, SYSTOLIC_RANGE, "mmHg")
        _range(errors, f"{name}.diastolic", reading.diastolic, DIASTOLIC_RANGE, "mmHg")
        _range(errors, f"{name}.heart_rate", reading.heart_rate, HEART_RATE_RANGE, "beats per minute")
        _range(errors, f"{name}.spo2", reading.spo2, SPO2_RANGE, "%")
        if reading.has_bp:
            assert reading.systolic is not None and reading.diastolic is not None
            if reading.systolic <= reading.diastolic:
                errors.append(FieldError(f"{name}.systolic", "systolic must be higher than diastolic"))
        if first is not None and reading.kind == "pre" and reading.measured_at > first:
            errors.append(FieldError(f"{name}.measured_at", "the pre-dose reading must be taken before the first "
                                                            "device"))
        if reading.kind in ("post_40", "discharge"):
            if first is None:
                errors.append(FieldError(f"{name}.measured_at", "record the device times before post-dose readings"))
            elif reading.measured_at <= first:
                errors.append(FieldError(f"{name}.measured_at", "must be after the first device"))
        if data.discharged_at is not None and reading.measured_at > data.discharged_at:
            errors.append(FieldError(f"{name}.measured_at", "is after the discharge time"))


def _check_prechecks(errors: list[FieldError], data: SessionInput, settings: RemsSettings) -> None:
    if not data.device_times:
        return
    for name, label in (
        ("no_food_2h", "no food in the 2 hours before dosing"),
        ("no_liquids_30min", "no liquids in the 30 minutes before dosing"),
        ("nasal_medication_ok", "no nasal corticosteroid or decongestant within 1 hour before dosing"),
        ("ride_home_confirmed", "a ride home (no driving until the next day after restful sleep)"),
    ):
        if not getattr(data, name):
            errors.append(FieldError(name, f"confirm {label} before the first device"))
    pre = data.pre_dose_bp
    if pre is None:
        errors.append(FieldError("readings", "take the blood pressure before dosing (before the first device)"))
    elif bp_above_limit(pre, settings) and not data.high_bp_acknowledged_by.strip():
        errors.append(
            FieldError(
                "high_bp_acknowledged_by",
                f"blood pressure before dosing is {pre.systolic}/{pre.diastolic}, above "
                f"{settings.bp_systolic_limit}/{settings.bp_diastolic_limit}: a prescriber must acknowledge it "
                "before dosing; name the prescriber",
            )
        )


def _check_observations(errors: list[FieldError], data: SessionInput, now: datetime, settings: RemsSettings) -> None:
    first = data.first_device_at
    for flag, label in (
        ("sedation", "sedation"),
        ("dissociation", "dissociation"),
        ("respiratory_depression", "respiratory depression"),
    ):
        resolved: datetime | None = getattr(data, f"{flag}_resolved_at")
        name = f"{flag}_resolved_at"
        if resolved is None:
            if getattr(data, flag) and data.discharged_at is not None:
                errors.append(FieldError(name, f"record when the {label} resolved before discharge"))
            continue
        if not getattr(data, flag):
            errors.append(FieldError(name, f"a resolution time needs {label} to be marked as observed"))
        _moment(errors, name, resolved, data, now, settings)
        if first is not None and resolved <= first:
            errors.append(FieldError(name, "must be after the first device"))
        if data.discharged_at is not None and resolved > data.discharged_at:
            errors.append(FieldError(name, "is after the discharge time"))
    if data.serious_adverse_event and not data.sae_details.strip():
        errors.append(FieldError("sae_details", "describe the serious adverse event"))
    if len(data.sae_details) > 2000:
        errors.append(FieldError("sae_details", "at most 2000 characters"))


def _check_hcp(errors: list[FieldError], data: SessionInput) -> None:
    email = data.monitoring_hcp_email.strip()
    if email and ("@" not in email or " " in email):
        errors.append(FieldError("monitoring_hcp_email", "not an e-mail address"))
    phone_digits = [c for c in data.monitoring_hcp_phone if c.isdigit()]
    if data.monitoring_hcp_phone.strip() and len(phone_digits) not in (10, 11):
        errors.append(FieldError("monitoring_hcp_phone", "a US phone number has 10 digits"))


def _check_discharge(errors: list[FieldError], data: SessionInput, now: datetime, settings: RemsSettings) -> None:
    discharged = data.discharged_at
    assert discharged is not None
    _moment(errors, "discharged_at", discharged, data, now, settings)
    first = data.first_device_at
    if first is None:
        errors.append(FieldError("discharged_at", "no device time is recorded"))
        return
    planned = data.devices_planned
    if planned and len(data.device_times) != planned:
        errors.append(FieldError("device_times", f"{data.dose_mg} mg is {planned} devices; "
                                                 f"{len(data.device_times)} recorded"))
    if discharged < max(data.device_times):
        errors.append(FieldError("discharged_at", "is before the last device"))
    minutes = (discharged - first).total_seconds() / 60
    if minutes < settings.min_monitoring_minutes:
        earliest = first + timedelta(minutes=settings.min_monitoring_minutes)
        errors.append(
            FieldError(
                "discharged_at",
                f"discharge refused: only {int(minutes)} min since the first device; the REMS requires at least "
                f"{settings.min_monitoring_minutes} min of monitoring (earliest "
                f"{earliest.astimezone(settings.zone):%H:%M})",
            )
        )
    if not data.lot_number.strip():
        errors.append(FieldError("lot_number", "required for the monitoring form"))
    if not any(r.has_bp for r in data.readings_of("post_40")):
        errors.append(FieldError("readings", f"take the blood pressure about {settings.post_dose_reading_minutes} "
                                             "minutes after dosing"))
    if not any(r.has_bp for r in data.readings_of("discharge")):
        errors.append(FieldError("readings", "take the blood pressure before discharge"))
    if not any(r.spo2 is not None for r in data.readings):
        errors.append(FieldError("readings", "record at least one pulse-oximetry (SpO2) reading"))
    if data.vitals_ok_before is None:
        errors.append(FieldError("vitals_ok_before", "answer whether vital signs were acceptable before dosing"))
    if data.vitals_ok_before_completion is None:
        errors.append(FieldError("vitals_ok_before_completion",
                                 "answer whether vital signs were acceptable before completion"))
    if data.ready_to_leave_minutes is None:
        errors.append(FieldError("ready_to_leave_minutes", "answer the REMS question: minutes until the patient "
                                                           "would have been ready to leave"))
    elif not 0 <= data.ready_to_leave_minutes <= max(int(minutes), 0):
        errors.append(FieldError("ready_to_leave_minutes", f"must be between 0 and the {int(minutes)} minutes "
                                                           "monitored"))
    for name, label in (("monitoring_hcp_first_name", "first name"), ("monitoring_hcp_last_name", "last name")):
        if not getattr(data, name).strip():
            errors.append(FieldError(name, f"the monitoring HCP's {label} is required"))
