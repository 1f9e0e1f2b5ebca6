"""Session-log validation: physiologic ranges, time order, device spacing, dose/devices, the 2-hour rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desk.rems.config import RemsSettings
from desk.rems.validation import ReadingInput, SessionInput, validate_session
from tests.desk.rems.conftest import NOW, at, full_session


def errors_of(data: SessionInput, settings: RemsSettings) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in validate_session(data, now=NOW, settings=settings):
        found.setdefault(error.field, []).append(error.message)
    return found


def with_reading(index: int, data: SessionInput, **changes: object) -> SessionInput:
    readings = list(data.readings)
    readings[index] = replace(readings[index], **changes)  # type: ignore[arg-type]
    return replace(data, readings=tuple(readings))


def test_complete_session_is_valid(settings: RemsSettings) -> None:
    assert validate_session(full_session(1, 1), now=NOW, settings=settings) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("systolic", 59, "between 60 and 260 mmHg"),
        ("systolic", 261, "between 60 and 260 mmHg"),
        ("diastolic", 29, "between 30 and 160 mmHg"),
        ("diastolic", 161, "between 30 and 160 mmHg"),
        ("heart_rate", 29, "between 30 and 220 beats per minute"),
        ("heart_rate", 221, "between 30 and 220 beats per minute"),
        ("spo2", 49, "between 50 and 100 %"),
        ("spo2", 101, "between 50 and 100 %"),
    ],
)
def test_physiologic_ranges_name_the_field(settings: RemsSettings, field: str, value: int, message: str) -> None:
    data = with_reading(1, full_session(1, 1), **{field: value})
    assert message in " ".join(errors_of(data, settings)[f"readings[1].{field}"])


@pytest.mark.parametrize(("field", "value"), [("systolic", 60), ("systolic", 260), ("diastolic", 30),
                                              ("spo2", 50), ("spo2", 100), ("heart_rate", 30), ("heart_rate", 220)])
def test_range_limits_are_inclusive(settings: RemsSettings, field: str, value: int) -> None:
    data = with_reading(2, full_session(1, 1), **{field: value})
    if field == "systolic" and value == 60:
        data = with_reading(2, data, diastolic=40)
    assert not [k for k in errors_of(data, settings) if k.startswith("readings[2]")]


def test_systolic_must_exceed_diastolic(settings: RemsSettings) -> None:
    data = with_reading(1, full_session(1, 1), systolic=90, diastolic=90)
    assert errors_of(data, settings)["readings[1].systolic"] == ["systolic must be higher than diastolic"]


def test_half_a_blood_pressure_is_refused(settings: RemsSettings) -> None:
    data = with_reading(1, full_session(1, 1), diastolic=None)
    assert errors_of(data, settings)["readings[1].diastolic"] == ["enter both systolic and diastolic"]


def test_empty_reading_is_refused(settings: RemsSettings) -> None:
    empty = ReadingInput("extra", at(11, 0))
    data = replace(full_session(1, 1), readings=(*full_session(1, 1).readings, empty))
    assert errors_of(data, settings)["readings[3]"] == ["enter a blood pressure, heart rate or SpO2 value"]


def test_times_in_the_future_are_refused(settings: RemsSettings) -> None:
    data = full_session(1, 1, discharged_at=at(15, 30))
    assert "cannot be in the future" in errors_of(data, settings)["discharged_at"]
    late_reading = with_reading(2, full_session(1, 1, discharged_at=None), measured_at=at(16, 0))
    assert "cannot be in the future" in errors_of(late_reading, settings)["readings[2].measured_at"]


def test_device_spacing_at_least_five_minutes(settings: RemsSettings) -> None:
    too_close = full_session(1, 1, device_times=(at(10, 0), at(10, 4)))
    assert errors_of(too_close, settings)["device_times[1]"] == [
        "device 2 is 4 min after device 1; wait at least 5 minutes between devices"
    ]
    assert "device_times[1]" not in errors_of(full_session(1, 1, device_times=(at(10, 0), at(10, 5))), settings)


def test_device_times_in_order(settings: RemsSettings) -> None:
    data = full_session(1, 1, dose_mg=84, device_times=(at(10, 0), at(10, 10), at(10, 5)))
    assert errors_of(data, settings)["device_times[2]"] == ["device 3 must come after device 2"]


def test_dose_must_match_devices_at_discharge(settings: RemsSettings) -> None:
    data = full_session(1, 1, dose_mg=84)
    assert errors_of(data, settings)["device_times"] == ["84 mg is 3 devices; 2 recorded"]
    too_many = full_session(1, 1, device_times=(at(10, 0), at(10, 5), at(10, 10)))
    assert "56 mg is 2 devices; 3 are recorded" in errors_of(too_many, settings)["device_times"]


def test_dose_must_be_a_label_dose(settings: RemsSettings) -> None:
    assert "dose_mg" in errors_of(full_session(1, 1, dose_mg=70), settings)


def test_in_progress_session_may_have_fewer_devices(settings: RemsSettings) -> None:
    data = full_session(1, 1, dose_mg=84, discharged_at=None, ready_to_leave_minutes=None)
    assert validate_session(data, now=NOW, settings=settings) == []


def test_discharge_refused_under_two_hours(settings: RemsSettings) -> None:
    data = full_session(1, 1, discharged_at=at(11, 59), ready_to_leave_minutes=90,
                        readings=(*full_session(1, 1).readings[:2], ReadingInput("discharge", at(11, 50), 120, 80)))
    messages = errors_of(data, settings)["discharged_at"]
    assert messages == ["discharge refused: only 119 min since the first device; the REMS requires at least 120 min "
                        "of monitoring (earliest 12:00)"]


def test_discharge_at_exactly_two_hours_is_allowed(settings: RemsSettings) -> None:
    readings = (*full_session(1, 1).readings[:2], ReadingInput("discharge", at(11, 55), 120, 80, spo2=97))
    data = full_session(1, 1, discharged_at=at(12, 0), readings=readings)
    assert "discharged_at" not in errors_of(data, settings)


def test_two_hour_minimum_is_a_setting(settings: RemsSettings) -> None:
    data = full_session(1, 1)  # 125 minutes
    assert "discharged_at" in errors_of(data, replace(settings, min_monitoring_minutes=130))


def test_prechecks_required_before_first_device(settings: RemsSettings) -> None:
    data = full_session(1, 1, no_food_2h=False, ride_home_confirmed=False)
    found = errors_of(data, settings)
    assert found["no_food_2h"] == ["confirm no food in the 2 hours before dosing before the first device"]
    assert "ride_home_confirmed" in found
    assert validate_session(full_session(1, 1, no_food_2h=False, device_times=(), discharged_at=None,
                                         readings=full_session(1, 1).readings[:1], dissociation=False,
                                         dissociation_resolved_at=None), now=NOW, settings=settings) == []


def test_high_blood_pressure_needs_prescriber_acknowledgement(settings: RemsSettings) -> None:
    data = with_reading(0, full_session(1, 1), systolic=152, diastolic=94)
    assert errors_of(data, settings)["high_bp_acknowledged_by"] == [
        "blood pressure before dosing is 152/94, above 140/90: a prescriber must acknowledge it before dosing; "
        "name the prescriber"
    ]
    acknowledged = replace(data, high_bp_acknowledged_by="Dr. Alex Prescriber", high_bp_acknowledged_at=at(9, 55))
    assert "high_bp_acknowledged_by" not in errors_of(acknowledged, settings)


def test_pre_dose_reading_required_and_before_dosing(settings: RemsSettings) -> None:
    data = full_session(1, 1, readings=full_session(1, 1).readings[1:])
    assert "take the blood pressure before dosing (before the first device)" in errors_of(data, settings)["readings"]
    late = with_reading(0, full_session(1, 1), measured_at=at(10, 2))
    assert errors_of(late, settings)["readings[0].measured_at"] == [
        "the pre-dose reading must be taken before the first device"
    ]


def test_completion_requires_monitoring_facts(settings: RemsSettings) -> None:
    data = full_session(1, 1, lot_number="", vitals_ok_before=None, ready_to_leave_minutes=None,
                        monitoring_hcp_last_name="", readings=full_session(1, 1).readings[:1])
    found = errors_of(data, settings)
    assert found["lot_number"] == ["required for the monitoring form"]
    assert "vitals_ok_before" in found and "ready_to_leave_minutes" in found
    assert "monitoring_hcp_last_name" in found
    assert "take the blood pressure about 40 minutes after dosing" in found["readings"]
    assert "take the blood pressure before discharge" in found["readings"]


def test_pulse_oximetry_required_at_completion(settings: RemsSettings) -> None:
    readings = tuple(replace(r, spo2=None) for r in full_session(1, 1).readings)
    assert "record at least one pulse-oximetry (SpO2) reading" in errors_of(
        full_session(1, 1, readings=readings), settings)["readings"]


def test_observation_resolution_times(settings: RemsSettings) -> None:
    unresolved = full_session(1, 1, sedation=True)
    assert errors_of(unresolved, settings)["sedation_resolved_at"] == [
        "record when the sedation resolved before discharge"
    ]
    after_discharge = full_session(1, 1, sedation=True, sedation_resolved_at=at(12, 30))
    assert errors_of(after_discharge, settings)["sedation_resolved_at"] == ["is after the discharge time"]
    unobserved = full_session(1, 1, respiratory_depression_resolved_at=at(11, 0))
    assert "respiratory_depression_resolved_at" in errors_of(unobserved, settings)


def test_serious_adverse_event_needs_details(settings: RemsSettings) -> None:
    data = full_session(1, 1, serious_adverse_event=True)
    assert errors_of(data, settings)["sae_details"] == ["describe the serious adverse event"]


def test_ready_to_leave_within_monitored_minutes(settings: RemsSettings) -> None:
    data = full_session(1, 1, ready_to_leave_minutes=200)
    assert errors_of(data, settings)["ready_to_leave_minutes"] == ["must be between 0 and the 125 minutes monitored"]


def test_lot_number_shape(settings: RemsSettings) -> None:
    assert "lot_number" in errors_of(full_session(1, 1, lot_number="LOT 45; DROP"), settings)


def test_contact_fields(settings: RemsSettings) -> None:
    found = errors_of(full_session(1, 1, monitoring_hcp_email="rita", monitoring_hcp_phone="555-01"), settings)
    assert found["monitoring_hcp_email"] == ["not an e-mail address"]
    assert found["monitoring_hcp_phone"] == ["a US phone number has 10 digits"]
