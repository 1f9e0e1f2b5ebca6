"""SPRAVATO facts (reference/spravato.yaml): device strength, kits and NDCs, the label's dose schedule and the
billing codes with their effective dates and what each one includes.

Every module that needs one of these figures reads it here; the file is validated when first read and a
broken file raises ReferenceDataError naming the file and the field.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desk.reference import ReferenceDataError

SPRAVATO_FILE = Path(__file__).resolve().parent / "spravato.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Device(_Strict):
    mg: int = Field(gt=0)
    sprays: int = Field(gt=0)
    minutes_between_devices: int = Field(gt=0)
    ndc: str
    source: str = Field(min_length=3)


class RemsFloors(_Strict):
    monitoring_minutes_min: int = Field(gt=0)
    form_due_days_max: int = Field(gt=0)
    source: str = Field(min_length=3)


class Kit(_Strict):
    dose_mg: int = Field(gt=0)
    devices: int = Field(gt=0)
    ndc: str = Field(pattern=r"^\d{5}-\d{3}-\d{2}$")
    source: str = Field(min_length=3)


class SchedulePhase(_Strict):
    name: str
    weeks: tuple[int, int | None]
    sessions_per_week: int = Field(gt=0)
    doses_mg: tuple[int, ...] = Field(min_length=1)
    wording: str


class IndicationSchedule(_Strict):
    source: str = Field(min_length=3)
    first_session_mg: int
    phases: tuple[SchedulePhase, ...] = Field(min_length=1)


class BillingCodeFact(_Strict):
    code: str
    system: Literal["HCPCS", "CPT"]
    kind: Literal["drug", "session", "observation"]
    unit_mg: int | None = None
    min_mg: int | None = None
    max_mg: int | None = None
    valid_from: date | None = Field(default=None, alias="from")
    valid_until: date | None = Field(default=None, alias="until")
    includes: str = Field(min_length=3)
    source: str = Field(min_length=3)

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until)

    def fits_dose(self, dose_mg: int) -> bool:
        return (self.min_mg is None or dose_mg >= self.min_mg) and (self.max_mg is None or dose_mg <= self.max_mg)


class SpravatoFacts(_Strict):
    schema_version: Literal[1]
    device: Device
    rems: RemsFloors
    kits: tuple[Kit, ...] = Field(min_length=1)
    label_schedule: dict[Literal["TRD", "MDSI"], IndicationSchedule]
    codes: tuple[BillingCodeFact, ...] = Field(min_length=1)

    def kit(self, dose_mg: int) -> Kit | None:
        return next((k for k in self.kits if k.dose_mg == dose_mg), None)

    def devices_for(self, dose_mg: int) -> int:
        return dose_mg // self.device.mg

    def code(self, code: str) -> BillingCodeFact:
        for entry in self.codes:
            if entry.code == code:
                return entry
        raise KeyError(code)

    def codes_of(self, kind: str) -> tuple[BillingCodeFact, ...]:
        return tuple(c for c in self.codes if c.kind == kind)

    @property
    def ndc_by_dose(self) -> dict[int, str]:
        return {k.dose_mg: k.ndc for k in self.kits}


def load_spravato_facts(path: Path | None = None) -> SpravatoFacts:
    """Read and validate the SPRAVATO reference file."""
    path = path or SPRAVATO_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReferenceDataError(f"{path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{path}: not valid YAML ({exc})") from exc
    try:
        return SpravatoFacts.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ReferenceDataError(f"{path}: {problems}") from exc


@lru_cache(maxsize=2)
def spravato(path: Path | None = None) -> SpravatoFacts:
    """The validated SPRAVATO facts (read once)."""
    return load_spravato_facts(path)
