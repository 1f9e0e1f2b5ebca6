"""Clinical code tables for the EHR import (reference/clinical_codes.yaml): rating-scale LOINC codes, treatment
procedure codes and inpatient encounter classes. Clinic-editable; validated when loaded."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desk.reference import ReferenceDataError, normalize_name
from desk.validation import SCALE_RANGES

CODES_FILE = Path(__file__).resolve().parent / "clinical_codes.yaml"
ProcedureKind = Literal["ECT", "TMS", "psychotherapy"]


class InstrumentCodes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    loinc: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    source: str = Field(min_length=3)
    confirmed: bool


class ProcedureCodes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ProcedureKind
    cpt: tuple[str, ...] = ()
    snomed: tuple[str, ...] = ()
    source: str = Field(min_length=3)
    confirmed: bool


class EncounterClasses(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    codes: tuple[str, ...] = Field(min_length=1)
    source: str = Field(min_length=3)
    confirmed: bool


class ClinicalCodes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    instruments: tuple[InstrumentCodes, ...]
    procedures: tuple[ProcedureCodes, ...]
    inpatient_encounter_classes: EncounterClasses

    def instrument_for(self, *, loinc: str = "", text: str = "") -> str | None:
        """The desk's instrument name for a LOINC code, or for a text naming a total score."""
        for entry in self.instruments:
            if loinc and loinc in entry.loinc:
                return entry.instrument
        wanted = normalize_name(text)
        if wanted:
            for entry in self.instruments:
                if any(normalize_name(name) in wanted for name in entry.names):
                    return entry.instrument
        return None

    def procedure_for(self, *, cpt: str = "", snomed: str = "") -> ProcedureKind | None:
        for entry in self.procedures:
            if (cpt and cpt in entry.cpt) or (snomed and snomed in entry.snomed):
                return entry.kind
        return None


def load_clinical_codes(path: Path | None = None) -> ClinicalCodes:
    path = path or CODES_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        codes = ClinicalCodes.model_validate(raw)
    except OSError as exc:
        raise ReferenceDataError(f"{path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{path}: not valid YAML ({exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ReferenceDataError(f"{path}: {where}: {first['msg']}") from exc
    unknown = [e.instrument for e in codes.instruments if e.instrument not in SCALE_RANGES]
    if unknown:
        raise ReferenceDataError(f"{path}: instrument {unknown[0]!r} is not one the desk records "
                                 f"({', '.join(SCALE_RANGES)})")
    return codes


@lru_cache(maxsize=4)
def clinical_codes(path: Path | None = None) -> ClinicalCodes:
    """The validated code tables (read once per file)."""
    return load_clinical_codes(path)
