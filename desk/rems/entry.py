"""The session log screen's flat form values <-> SessionInput (clinic-local clock times, fixed reading slots).

Kept out of the page so the conversion and its error messages are tested without Streamlit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from desk.errors import FieldError, ValidationFailed
from desk.rems.validation import ReadingInput, SessionInput

MAX_DEVICES = 3
READING_SLOTS = ("pre", "post_40", "discharge", "extra_1", "extra_2")
SLOT_KIND = {"pre": "pre", "post_40": "post_40", "discharge": "discharge", "extra_1": "extra", "extra_2": "extra"}
SLOT_LABELS = {
    "pre": "Blood pressure before dosing",
    "post_40": "~40 minutes after dosing",
    "discharge": "Before discharge",
    "extra_1": "Extra reading 1",
    "extra_2": "Extra reading 2",
}
READING_VALUES = ("systolic", "diastolic", "heart_rate", "spo2")
OBSERVATIONS = ("sedation", "dissociation", "respiratory_depression")
FLAGS = ("no_food_2h", "no_liquids_30min", "nasal_medication_ok", "ride_home_confirmed", "sedation", "dissociation",
         "respiratory_depression", "serious_adverse_event")
TEXTS = ("lot_number", "high_bp_acknowledged_by", "sae_details", "monitoring_hcp_first_name",
         "monitoring_hcp_last_name", "monitoring_hcp_phone", "monitoring_hcp_email")
LABELS = {
    "session_date": "Session date",
    "indication": "Indication",
    "dose_mg": "Dose",
    "lot_number": "Lot number",
    "device_times": "Devices",
    "no_food_2h": "No food for 2 h",
    "no_liquids_30min": "No liquids for 30 min",
    "nasal_medication_ok": "No nasal steroid/decongestant within 1 h",
    "ride_home_confirmed": "Ride home confirmed",
    "high_bp_acknowledged_by": "Prescriber who acknowledged",
    "readings": "Readings",
    "vitals_ok_before": "Vital signs acceptable before dosing",
    "vitals_ok_before_completion": "Vital signs acceptable before completion of monitoring",
    "sedation_resolved_at": "Sedation resolved at",
    "dissociation_resolved_at": "Dissociation resolved at",
    "respiratory_depression_resolved_at": "Respiratory depression resolved at",
    "sae_details": "Serious adverse event details",
    "ready_to_leave_minutes": "Minutes until ready to leave (REMS question)",
    "discharged_at": "Discharge time",
    "monitoring_hcp_first_name": "Monitoring HCP first name",
    "monitoring_hcp_last_name": "Monitoring HCP last name",
    "monitoring_hcp_phone": "Monitoring HCP phone",
    "monitoring_hcp_email": "Monitoring HCP e-mail",
    "prescriber_on_site_id": "Prescriber on site during the session (REMS)",
    "site_id": "Setting",
    "patient_id": "Patient",
    "pmf_status": "Monitoring form",
    "reason": "Reason for the amendment (kept with the correction)",
    "high_bp_acknowledged_at": "Acknowledged at",
}
VALUE_LABELS = {"systolic": "systolic", "diastolic": "diastolic", "heart_rate": "heart rate", "spo2": "SpO2",
                "measured_at": "time", "time": "time"}


@dataclass(frozen=True)
class FormContext:
    """What the form does not hold itself: who, where, which day and the clinic's time zone."""

    patient_id: int
    site_id: int
    session_date: date
    zone: ZoneInfo


def _moment(ctx: FormContext, value: time | None) -> datetime | None:
    if value is None:
        return None
    return datetime.combine(ctx.session_date, value.replace(second=0, microsecond=0), tzinfo=ctx.zone)


def _clock(value: datetime | None, zone: ZoneInfo) -> time | None:
    return value.astimezone(zone).time().replace(second=0, microsecond=0) if value is not None else None


def blank_form(*, hcp_first_name: str = "", hcp_last_name: str = "", hcp_email: str = "",
               prescriber_on_site_id: int | None = None) -> dict[str, Any]:
    """Form values of a new session (the signed-in nurse as monitoring HCP, the patient's prescriber on site when
    they work at this site)."""
    values: dict[str, Any] = {
        "indication": "TRD", "dose_mg": 56, "vitals_ok_before": None, "vitals_ok_before_completion": None,
        "ready_to_leave_minutes": None, "discharged_at": None, "high_bp_acknowledged_at": None,
    }
    values.update({name: False for name in FLAGS})
    values.update({name: "" for name in TEXTS})
    values.update({f"device_{n}": None for n in range(1, MAX_DEVICES + 1)})
    values.update({f"{name}_resolved_at": None for name in OBSERVATIONS})
    for slot in READING_SLOTS:
        values[f"{slot}.time"] = None
        values.update({f"{slot}.{v}": None for v in READING_VALUES})
    values.update(monitoring_hcp_first_name=hcp_first_name, monitoring_hcp_last_name=hcp_last_name,
                  monitoring_hcp_email=hcp_email, prescriber_on_site_id=prescriber_on_site_id)
    return values


def form_from_input(data: SessionInput, *, zone: ZoneInfo) -> dict[str, Any]:
    """Form values showing a stored session (readings beyond the fixed slots go to the extra slots)."""
    values = blank_form()
    for name in ("indication", "dose_mg", "vitals_ok_before", "vitals_ok_before_completion", "ready_to_leave_minutes",
                 "prescriber_on_site_id", *FLAGS, *TEXTS):
        values[name] = getattr(data, name)
    values["discharged_at"] = _clock(data.discharged_at, zone)
    values["high_bp_acknowledged_at"] = _clock(data.high_bp_acknowledged_at, zone)
    for index, moment in enumerate(sorted(data.device_times)[:MAX_DEVICES], start=1):
        values[f"device_{index}"] = _clock(moment, zone)
    for name in OBSERVATIONS:
        values[f"{name}_resolved_at"] = _clock(getattr(data, f"{name}_resolved_at"), zone)
    free = ["extra_1", "extra_2"]
    for reading in data.readings:
        slot = reading.kind if reading.kind in ("pre", "post_40", "discharge") else None
        if slot is None or values[f"{slot}.time"] is not None:
            if not free:
                continue
            slot = free.pop(0)
        values[f"{slot}.time"] = _clock(reading.measured_at, zone)
        for v in READING_VALUES:
            values[f"{slot}.{v}"] = getattr(reading, v)
    return values


def read_form(values: Mapping[str, Any], *, ctx: FormContext) -> tuple[SessionInput, list[str], list[FieldError]]:
    """The SessionInput the form describes, the reading slot behind each reading index, and what the form itself
    gets wrong, named by form key (a reading with values but no time is left out, a skipped device time noted), so
    a save can report these together with the service's own refusals."""
    errors: list[FieldError] = []
    devices = [values.get(f"device_{n}") for n in range(1, MAX_DEVICES + 1)]
    given = [d for d in devices if d is not None]
    last_given = max((i for i, d in enumerate(devices) if d is not None), default=-1)
    for index in range(last_given):
        if devices[index] is None:
            errors.append(FieldError(f"device_{index + 1}", "enter the devices in order"))
    readings: list[ReadingInput] = []
    slots: list[str] = []
    for slot in READING_SLOTS:
        numbers = {v: _int(values.get(f"{slot}.{v}")) for v in READING_VALUES}
        clock = values.get(f"{slot}.time")
        if all(n is None for n in numbers.values()):
            continue
        if clock is None:
            errors.append(FieldError(f"{slot}.time", "enter the time of this reading"))
            continue
        moment = _moment(ctx, clock)
        assert moment is not None
        readings.append(ReadingInput(SLOT_KIND[slot], moment, **numbers))
        slots.append(slot)
    named: dict[str, Any] = {name: bool(values.get(name)) for name in FLAGS}
    named.update({name: str(values.get(name) or "") for name in TEXTS})
    named.update({f"{name}_resolved_at": _moment(ctx, values.get(f"{name}_resolved_at")) for name in OBSERVATIONS})
    data = SessionInput(
        patient_id=ctx.patient_id,
        site_id=ctx.site_id,
        session_date=ctx.session_date,
        indication=str(values.get("indication", "TRD")),
        dose_mg=int(values.get("dose_mg") or 0),
        device_times=tuple(m for m in (_moment(ctx, d) for d in given) if m is not None),
        readings=tuple(readings),
        vitals_ok_before=values.get("vitals_ok_before"),
        vitals_ok_before_completion=values.get("vitals_ok_before_completion"),
        ready_to_leave_minutes=_int(values.get("ready_to_leave_minutes")),
        discharged_at=_moment(ctx, values.get("discharged_at")),
        high_bp_acknowledged_at=_moment(ctx, values.get("high_bp_acknowledged_at")),
        prescriber_on_site_id=_int(values.get("prescriber_on_site_id")),
        **named,
    )
    return data, slots, errors


def input_from_form(values: Mapping[str, Any], *, ctx: FormContext) -> tuple[SessionInput, list[str]]:
    """The SessionInput the form describes, and the reading slot behind each reading index.

    Raises ValidationFailed naming the form key when a reading has values but no time, or a device time is
    skipped.
    """
    data, slots, errors = read_form(values, ctx=ctx)
    if errors:
        raise ValidationFailed(errors)
    return data, slots


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


_READING_FIELD = re.compile(r"^readings\[(\d+)\](?:\.(\w+))?$")
_DEVICE_FIELD = re.compile(r"^device_times\[(\d+)\]$")


def form_key(field: str, slots: list[str]) -> str:
    """The form key a service error belongs to (readings[1].systolic -> post_40.systolic)."""
    match = _READING_FIELD.match(field)
    if match:
        index = int(match.group(1))
        slot = slots[index] if index < len(slots) else "readings"
        value = match.group(2) or "time"
        return f"{slot}.{'time' if value == 'measured_at' else value}"
    device = _DEVICE_FIELD.match(field)
    if device:
        return f"device_{int(device.group(1)) + 1}"
    return field


def field_label(key: str) -> str:
    """A person's name for a form key (post_40.systolic -> '~40 minutes after dosing · systolic')."""
    if "." in key:
        slot, value = key.split(".", 1)
        return f"{SLOT_LABELS.get(slot, slot)} · {VALUE_LABELS.get(value, value)}"
    if key.startswith("device_") and key[7:].isdigit():
        return f"Device {key[7:]}"
    return LABELS.get(key, key.replace("_", " ").capitalize())
