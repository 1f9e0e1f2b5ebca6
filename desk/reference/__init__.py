"""Drug reference data (reference/drugs.yaml): antidepressant classes, dose figures and REMS medication categories.

The file is clinic-editable data. It is validated when loaded; a broken file raises ReferenceDataError naming
the file, the field and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from desk.errors import DeskError

DRUGS_FILE = Path(__file__).resolve().parent / "drugs.yaml"

DrugClass = Literal[
    "SSRI",
    "SNRI",
    "TCA",
    "MAOI",
    "bupropion",
    "mirtazapine",
    "SARI",
    "vortioxetine",
    "vilazodone",
    "SGA",
    "lithium",
    "thyroid_hormone",
    "buspirone",
    "NMDA_antagonist",
]
DRUG_CLASSES: tuple[str, ...] = get_args(DrugClass)
DrugRole = Literal["antidepressant", "augmentation", "both"]
CLASS_LABELS = {
    "SSRI": "SSRI",
    "SNRI": "SNRI",
    "TCA": "Tricyclic (TCA)",
    "MAOI": "MAOI",
    "bupropion": "Bupropion",
    "mirtazapine": "Mirtazapine",
    "SARI": "Trazodone / nefazodone (SARI)",
    "vortioxetine": "Vortioxetine",
    "vilazodone": "Vilazodone",
    "SGA": "Second-generation antipsychotic",
    "lithium": "Lithium",
    "thyroid_hormone": "Thyroid hormone",
    "buspirone": "Buspirone",
    "NMDA_antagonist": "NMDA receptor antagonist (dextromethorphan-bupropion)",
}
# Esketamine is the drug being requested; a prior course is screening history, never an antidepressant trial.
ESKETAMINE_NAMES = frozenset({"esketamine", "spravato"})


class ReferenceDataError(DeskError):
    """The drug reference file is missing or does not match its schema."""


class DoseFigure(BaseModel):
    """A daily dose in mg with where it comes from and whether it was checked against that source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mg: float = Field(gt=0)
    source: str = Field(min_length=3)
    confirmed: bool


class Drug(BaseModel):
    """One antidepressant or augmentation agent."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    generic: str = Field(min_length=2)
    brands: tuple[str, ...] = ()
    drug_class: DrugClass = Field(alias="class")
    role: DrugRole
    min_daily_mg: DoseFigure
    max_daily_mg: DoseFigure
    rxnorm: tuple[str, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Drug:
        if self.min_daily_mg.mg > self.max_daily_mg.mg:
            raise ValueError(
                f"min_daily_mg ({self.min_daily_mg.mg}) must not exceed max_daily_mg ({self.max_daily_mg.mg})"
            )
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return (self.generic, *self.brands)

    @property
    def class_label(self) -> str:
        return CLASS_LABELS[self.drug_class]

    @property
    def counts_as_antidepressant(self) -> bool:
        return self.role in ("antidepressant", "both")

    @property
    def counts_as_augmentation(self) -> bool:
        return self.role in ("augmentation", "both")


class ConcomitantCategory(BaseModel):
    """A medication group the REMS Patient Monitoring Form asks about."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=2)
    source: str = Field(min_length=3)
    members: tuple[str, ...] = Field(min_length=1)


class CodeSource(BaseModel):
    """Where a list of codes comes from and whether it was checked against that source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=3)
    confirmed: bool


class Combination(BaseModel):
    """A combination product: a trial under its brand is a trial of every component."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    brand: str = Field(min_length=2)
    components: tuple[str, ...] = Field(min_length=2)
    counts_as: str
    source: str = Field(min_length=3)


class DrugReference(BaseModel):
    """The whole reference file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    rxnorm_source: CodeSource | None = None
    drugs: tuple[Drug, ...] = Field(min_length=1)
    combinations: tuple[Combination, ...] = ()
    concomitant_categories: tuple[ConcomitantCategory, ...] = ()

    @model_validator(mode="after")
    def _names_unique(self) -> DrugReference:
        seen: dict[str, str] = {}
        for drug in self.drugs:
            for name in drug.names:
                key = normalize_name(name)
                if key in seen:
                    raise ValueError(f"the name {name!r} is used by both {seen[key]!r} and {drug.generic!r}")
                seen[key] = drug.generic
        codes: dict[str, str] = {}
        for drug in self.drugs:
            for code in drug.rxnorm:
                if code in codes:
                    raise ValueError(f"the RxNorm code {code!r} is used by both {codes[code]!r} and {drug.generic!r}")
                codes[code] = drug.generic
        generics = {normalize_name(d.generic) for d in self.drugs}
        for combination in self.combinations:
            if normalize_name(combination.brand) in seen:
                raise ValueError(f"the combination {combination.brand!r} is also listed as a drug name")
            unknown = [c for c in combination.components if normalize_name(c) not in generics]
            if unknown:
                raise ValueError(f"combination {combination.brand!r}: component {unknown[0]!r} is not a listed drug")
            if combination.counts_as not in combination.components:
                raise ValueError(f"combination {combination.brand!r}: counts_as must be one of its components")
        ids = [c.id for c in self.concomitant_categories]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"concomitant category id {duplicates[0]!r} appears more than once")
        return self

    def lookup(self) -> dict[str, Drug]:
        by_name = {normalize_name(name): drug for drug in self.drugs for name in drug.names}
        for combination in self.combinations:
            by_name[normalize_name(combination.brand)] = by_name[normalize_name(combination.counts_as)]
        return by_name

    def rxnorm_lookup(self) -> dict[str, Drug]:
        return {code: drug for drug in self.drugs for code in drug.rxnorm}


def normalize_name(name: str) -> str:
    """Lower case, trademark signs dropped, runs of blanks collapsed."""
    cleaned = re.sub(r"[®™]", "", name or "").strip().lower()
    return re.sub(r"\s+", " ", cleaned)


def _describe(error_loc: tuple[int | str, ...], raw: object) -> str:
    parts: list[str] = []
    node = raw
    for item in error_loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
            label = node[item].get("generic") if isinstance(node, list) and isinstance(node[item], dict) else None
            if label:
                parts.append(f" ({label})")
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(("." if parts else "") + item)
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def load_reference(path: Path | None = None) -> DrugReference:
    """Read and validate the reference file (default: the one shipped in this package)."""
    path = path or DRUGS_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReferenceDataError(f"{path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise ReferenceDataError(f"{path}: expected a mapping with schema_version, drugs, concomitant_categories")
    try:
        return DrugReference.model_validate(raw)
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            where = _describe(tuple(error["loc"]), raw) or "(file)"
            if error["type"] == "value_error":
                messages.append(f"{path}: {where}: {error['msg'].removeprefix('Value error, ')}")
            else:
                messages.append(f"{path}: {where}: {error['msg']} (got {error.get('input')!r})")
        raise ReferenceDataError("; ".join(messages)) from exc


@lru_cache(maxsize=4)
def _cached(path: Path) -> tuple[DrugReference, dict[str, Drug], dict[str, tuple[str, ...]]]:
    reference = load_reference(path)
    members = {c.id: tuple(normalize_name(m) for m in c.members) for c in reference.concomitant_categories}
    return reference, reference.lookup(), members


def reference(path: Path | None = None) -> DrugReference:
    """The validated reference data (read once per file)."""
    return _cached(path or DRUGS_FILE)[0]


def _candidates(name: str) -> list[str]:
    """The full name, then shorter prefixes ("sertraline 100 mg tablet" -> ... -> "sertraline")."""
    words = normalize_name(name).replace("/", " / ").split()
    return [" ".join(words[:n]) for n in range(len(words), 0, -1)]


def find_drug(name: str, *, path: Path | None = None) -> Drug | None:
    """The drug with this generic or brand name (case-insensitive; a trailing dose or form is ignored)."""
    lookup = _cached(path or DRUGS_FILE)[1]
    for candidate in _candidates(name):
        if candidate in lookup:
            return lookup[candidate]
    return None


def find_drug_by_rxnorm(code: str, *, path: Path | None = None) -> Drug | None:
    """The drug listing this RxNorm code, or None."""
    return _rxnorm(path or DRUGS_FILE).get(code.strip())


@lru_cache(maxsize=4)
def _rxnorm(path: Path) -> dict[str, Drug]:
    return _cached(path)[0].rxnorm_lookup()


def find_drug_mentioned(text: str, *, path: Path | None = None) -> Drug | None:
    """The one drug whose name appears in `text` as whole words ("24 HR venlafaxine 75 MG ..."); None when none
    or more than one (a combination product is not guessed)."""
    lookup = _cached(path or DRUGS_FILE)[1]
    words = normalize_name(text).replace("/", " ").replace("-", " ").replace(",", " ").split()
    found: dict[str, Drug] = {}
    for start in range(len(words)):
        for end in range(len(words), start, -1):
            drug = lookup.get(" ".join(words[start:end]))
            if drug is not None:
                found[drug.generic] = drug
                break
    return next(iter(found.values())) if len(found) == 1 else None


def combination_components(name: str, *, path: Path | None = None) -> tuple[str, ...]:
    """The components of a combination product named `name` (empty for a single drug)."""
    for candidate in _candidates(name):
        for combination in reference(path).combinations:
            if normalize_name(combination.brand) == candidate:
                return combination.components
    return ()


def drug_class(name: str, *, path: Path | None = None) -> str | None:
    """The class id of a known drug, or None for an unknown one."""
    drug = find_drug(name, path=path)
    return drug.drug_class if drug else None


def is_esketamine(name: str) -> bool:
    return any(candidate in ESKETAMINE_NAMES for candidate in _candidates(name))


def concomitant_categories(drug_names: Iterable[str], *, path: Path | None = None) -> dict[str, list[str]]:
    """Category id -> the given names that belong to it, for the REMS form's concomitant-medication questions.

    A name matches when one of a category's members appears in it as whole words ("Oxycodone/APAP" -> opioids).
    Categories with no match are left out.
    """
    members = _cached(path or DRUGS_FILE)[2]
    found: dict[str, list[str]] = {}
    for name in drug_names:
        words = f" {' '.join(normalize_name(name).replace('/', ' ').replace('-', ' ').split())} "
        for category_id, names in members.items():
            if any(f" {member} " in words for member in names) and name not in found.get(category_id, []):
                found.setdefault(category_id, []).append(name)
    return found


def category_labels(*, path: Path | None = None) -> dict[str, str]:
    """Category id -> label, in file order."""
    return {c.id: c.label for c in reference(path).concomitant_categories}
