"""The evaluator's view of the drug reference data: class, role and dose figures by drug name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DrugInfo:
    """What a trial check needs to know about one drug."""

    name: str
    drug_class: str
    role: str  # antidepressant, augmentation or both
    min_daily_mg: float | None
    max_daily_mg: float | None

    @property
    def is_antidepressant(self) -> bool:
        return self.role in ("antidepressant", "both")

    @property
    def is_augmentation(self) -> bool:
        return self.role in ("augmentation", "both")


class DrugLookup(Protocol):
    """Find a drug by generic or brand name; list the known classes."""

    classes: frozenset[str]

    def info(self, name: str) -> DrugInfo | None: ...


class ReferenceDrugs:
    """DrugLookup over desk/reference/drugs.yaml (read once, names memoised)."""

    def __init__(self, path: Path | None = None) -> None:
        from desk.reference import DRUG_CLASSES, reference

        self._path = path
        reference(path)  # validate now, so a broken file fails at start-up rather than mid-evaluation
        self.classes = frozenset(DRUG_CLASSES)
        self._memo: dict[str, DrugInfo | None] = {}

    def info(self, name: str) -> DrugInfo | None:
        try:
            return self._memo[name]
        except KeyError:
            pass
        from desk.reference import find_drug

        drug = find_drug(name, path=self._path)
        found = (
            None
            if drug is None
            else DrugInfo(drug.generic, drug.drug_class, drug.role, drug.min_daily_mg.mg, drug.max_daily_mg.mg)
        )
        self._memo[name] = found
        return found


class TableDrugs:
    """DrugLookup over a plain mapping (for callers that bring their own figures)."""

    def __init__(self, drugs: dict[str, DrugInfo]) -> None:
        self._drugs = {name.strip().lower(): info for name, info in drugs.items()}
        self.classes = frozenset(info.drug_class for info in drugs.values())

    def info(self, name: str) -> DrugInfo | None:
        return self._drugs.get(name.strip().lower())


_DEFAULT: ReferenceDrugs | None = None


def default_drugs() -> ReferenceDrugs:
    """The shipped reference data, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ReferenceDrugs()
    return _DEFAULT
