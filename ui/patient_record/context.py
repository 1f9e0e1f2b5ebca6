"""What every patient record tab gets (RecordContext) and the labels the tabs share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from desk.auth import CurrentUser
from desk.models import PLAN_TYPE_NAMES, Prescriber, Site
from desk.patients import PatientRecord

NOT_RECORDED = "not recorded"


def _yes_no(value: bool | None) -> str:
    return NOT_RECORDED if value is None else ("yes" if value else "no")

COVERAGE_EDITORS = ("admin", "billing")
PLAN_LABELS = PLAN_TYPE_NAMES
SEX_LABELS = {"F": "Female", "M": "Male", "X": "X (non-binary)", "U": "Unknown"}
SUBSTANCE_LABELS = {None: "Not recorded", "none": "None", "in_remission": "In remission", "current": "Current"}


def _words(values: Sequence[str]) -> dict[str, str]:
    return {v: v.replace("_", " ").capitalize() if v.islower() else v.replace("_", " ") for v in values}


@dataclass(frozen=True)
class RecordContext:
    """What every tab gets: who is looking, the record, choice lists and today's date."""

    user: CurrentUser
    record: PatientRecord
    sites: Sequence[Site]
    prescribers: Sequence[Prescriber]
    known_payers: Sequence[str]
    today: date

    @property
    def patient_id(self) -> int:
        assert self.record.patient.id is not None
        return self.record.patient.id

    @property
    def can_edit_coverage(self) -> bool:
        return self.user.has_any(*COVERAGE_EDITORS)


Change = Callable[[Session, Any], object]
