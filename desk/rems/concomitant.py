"""Concomitant medications for the monitoring form, classified from the patient's current medications.

The PMF asks about benzodiazepines, non-benzodiazepine sedative hypnotics, psychostimulants, MAOIs and
(current version) opioids (shared/domain/spravato.md §1 [3][8]); the member lists live in
desk/reference/drugs.yaml so a clinic can extend them.
"""

from __future__ import annotations

from sqlmodel import Session, select

from desk.models import CurrentMedication
from desk.reference import concomitant_categories

# PMF data key -> category id in desk/reference/drugs.yaml.
PMF_CATEGORY_KEYS = {
    "benzodiazepines": "benzodiazepines",
    "non_benzo_hypnotics": "sedative_hypnotics",
    "psychostimulants": "psychostimulants",
    "maois": "maois",
    "opioids": "opioids",
}


def concomitant_medications(session: Session, *, patient_id: int) -> dict[str, list[str]]:
    """Category id -> the patient's current medications in it (only categories with a match)."""
    names = session.exec(select(CurrentMedication.drug).where(CurrentMedication.patient_id == patient_id)).all()
    found = concomitant_categories(names)
    return {category: found[category] for category in PMF_CATEGORY_KEYS.values() if category in found}


def concomitant_classes(session: Session, *, patient_id: int) -> list[str]:
    """The category ids that apply to the patient now, in form order."""
    return list(concomitant_medications(session, patient_id=patient_id))
