"""The session log form: round trip with SessionInput, missing times, error keys and labels."""

from __future__ import annotations

from datetime import time

import pytest

from desk.errors import ValidationFailed
from desk.rems.entry import (
    FormContext,
    blank_form,
    field_label,
    form_from_input,
    form_key,
    input_from_form,
    read_form,
)
from tests.desk.rems.conftest import DAY, ZONE, full_session


def test_round_trip_keeps_every_value() -> None:
    data = full_session(7, 3)
    values = form_from_input(data, zone=ZONE)
    assert values["device_2"] == time(10, 5) and values["post_40.systolic"] == 136
    back, slots = input_from_form(values, ctx=FormContext(7, 3, DAY, ZONE))
    assert back == data
    assert slots == ["pre", "post_40", "discharge"]


def test_reading_without_time_names_the_slot() -> None:
    values = blank_form()
    values["post_40.systolic"] = 130
    values["post_40.diastolic"] = 80
    with pytest.raises(ValidationFailed) as caught:
        input_from_form(values, ctx=FormContext(1, 1, DAY, ZONE))
    assert caught.value.for_field("post_40.time") == ["enter the time of this reading"]


def test_devices_entered_in_order() -> None:
    values = blank_form()
    values["device_2"] = time(10, 5)
    with pytest.raises(ValidationFailed) as caught:
        input_from_form(values, ctx=FormContext(1, 1, DAY, ZONE))
    assert caught.value.for_field("device_1") == ["enter the devices in order"]


def test_service_errors_map_to_form_keys_and_labels() -> None:
    slots = ["pre", "post_40"]
    assert form_key("readings[1].systolic", slots) == "post_40.systolic"
    assert form_key("readings[0].measured_at", slots) == "pre.time"
    assert form_key("device_times[1]", slots) == "device_2"
    assert form_key("discharged_at", slots) == "discharged_at"
    assert field_label("post_40.systolic") == "~40 minutes after dosing · systolic"
    assert field_label("device_2") == "Device 2"
    assert field_label("discharged_at") == "Discharge time"


def test_read_form_returns_the_form_problems_with_what_it_could_read() -> None:
    values = blank_form()
    values["device_2"] = time(10, 5)
    values["post_40.systolic"] = 130
    data, slots, problems = read_form(values, ctx=FormContext(1, 1, DAY, ZONE))
    assert {p.field for p in problems} == {"device_1", "post_40.time"}
    assert slots == [] and data.readings == () and len(data.device_times) == 1
