"""From medication history to trials: the periods a drug was prescribed, taken or dispensed become trials.

Per drug, every event covers a span of days: a prescription or statement its period (or its one date), a
dispense its date plus its days' supply. Spans closer than `gap_days` apart join into one trial; a longer
gap starts a new trial. Dose is the highest daily dose the dosage instructions give in that trial. Adherence is
the proportion of days covered (PDC) by dispenses between the first and the last dispense of the trial, each
day counted once however many supplies overlap it; with fewer than two dispenses it is not estimated. The
outcome is never derived: it stays "not recorded" until staff set it. How each figure was found is written in
the trial's notes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from desk.history.facts import OUTCOME_NOT_RECORDED, Fact, Provenance
from desk.patients import TrialDetails
from desk.reference import find_drug

DEFAULT_GAP_DAYS = 30
# What the export says about a trial; the outcome and the other judgements stay with staff on a later import.
TRIAL_FIELDS = ("drug", "role", "daily_dose_mg", "start_date", "end_date", "adherence_pct")


@dataclass(frozen=True)
class MedicationEvent:
    """One prescription, statement or dispense of a drug known to the reference."""

    drug: str
    kind: Literal["request", "statement", "dispense"]
    start: date
    end: date | None
    ongoing: bool
    daily_mg: float | None
    dose_method: str
    days_supply: int | None
    provenance: Provenance

    @property
    def last_day(self) -> date:
        if self.end is not None:
            return self.end
        if self.days_supply:
            return self.start + timedelta(days=self.days_supply - 1)
        return self.start


def _groups(events: list[MedicationEvent], gap_days: int) -> list[list[MedicationEvent]]:
    groups: list[list[MedicationEvent]] = []
    last: date | None = None
    for event in sorted(events, key=lambda e: (e.start, e.last_day)):
        if last is None or event.start > last + timedelta(days=gap_days):
            groups.append([event])
            last = event.last_day
        else:
            groups[-1].append(event)
            last = max(last, event.last_day)
    return groups


def proportion_of_days_covered(dispenses: Iterable[MedicationEvent]) -> float | None:
    """PDC between the first and the last dispense (the last one's own supply is outside the window)."""
    fills = sorted((d for d in dispenses if d.days_supply), key=lambda d: d.start)
    if len(fills) < 2 or fills[-1].start <= fills[0].start:
        return None
    window_start, window_end = fills[0].start, fills[-1].start - timedelta(days=1)
    covered: set[date] = set()
    for fill in fills[:-1]:
        day = fill.start
        for _ in range(fill.days_supply or 0):
            if day > window_end:
                break
            covered.add(day)
            day += timedelta(days=1)
    window_days = (window_end - window_start).days + 1
    return round(100 * len(covered) / window_days, 1)


def assemble_trials(
    events: Iterable[MedicationEvent], *, episode_start: date | None, gap_days: int = DEFAULT_GAP_DAYS
) -> tuple[list[Fact], list[str]]:
    """Trials from the events, and notes on periods that could not become a trial (no dose recorded)."""
    by_drug: dict[str, list[MedicationEvent]] = defaultdict(list)
    for event in events:
        by_drug[event.drug].append(event)
    spans: list[tuple[str, list[MedicationEvent]]] = [
        (drug, group) for drug, drug_events in sorted(by_drug.items()) for group in _groups(drug_events, gap_days)
    ]
    antidepressant_spans = []
    for drug_name, group in spans:
        drug = find_drug(drug_name)
        if drug is not None and drug.role == "antidepressant":
            antidepressant_spans.append((min(e.start for e in group), max(e.last_day for e in group)))
    facts: list[Fact] = []
    notes: list[str] = []
    for drug_name, group in spans:
        drug = find_drug(drug_name)
        start = min(e.start for e in group)
        ongoing = any(e.ongoing for e in group)
        end = None if ongoing else max(e.last_day for e in group)
        sources = tuple(e.provenance for e in group)
        dosed = [e for e in group if e.daily_mg]
        if not dosed:
            ids = ", ".join(p.resource_id for p in sources)
            notes.append(f"{drug_name} from {start.isoformat()}: no dose in the dosage or dispenses ({ids}); "
                         "not imported as a trial, enter it on the record with its dose")
            continue
        top = max(dosed, key=lambda e: e.daily_mg or 0)
        dispenses = [e for e in group if e.kind == "dispense"]
        adherence = proportion_of_days_covered(dispenses)
        role = "antidepressant"
        if drug is not None and drug.role == "augmentation":
            role = "augmentation"
        elif drug is not None and drug.role == "both":
            last = end or max(e.last_day for e in group)
            if any(s <= last and start <= e for s, e in antidepressant_spans):
                role = "augmentation"
        method = [f"Imported from the EHR: {len(group)} record(s) "
                  f"({', '.join(sorted({e.kind for e in group}))}); dates from their periods and days' supply, "
                  f"gaps up to {gap_days} days joined",
                  f"dose: highest daily dose, {top.dose_method}"]
        if adherence is not None:
            method.append(f"adherence: proportion of days covered between the first and last of "
                          f"{len(dispenses)} dispenses")
        else:
            method.append("adherence: not estimated (fewer than two dispenses)")
        method.append("outcome: not recorded in the export")
        details = TrialDetails(
            drug=drug_name, daily_dose_mg=round(top.daily_mg or 0, 3), start_date=start, end_date=end, role=role,
            adherence_pct=adherence, outcome=OUTCOME_NOT_RECORDED,
            current_episode=episode_start is None or (end or date.max) >= episode_start,
            notes="; ".join(method) + ".",
        )
        facts.append(Fact("trials", details, TRIAL_FIELDS, sources))
    return facts, notes
