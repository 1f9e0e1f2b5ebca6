"""Sentences of outgoing documents, written from CaseFacts only.

Every function here states a fact of desk/prior_auth/facts.py or says plainly what it is (an attestation, an
exception request, something not on record). A sentence the facts do not support is not written.
Numbers are written the clinical way: 200 mg, 92 %.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from desk.prior_auth.facts import CaseFacts, CriterionFacts, TrialFacts

STATUS_WORDS = {"met": "Met", "attested": "Attested by the prescriber", "excepted": "Exception requested",
                "not_met": "Not met", "unknown": "Not documented", "attest": "Attestation needed"}
INDICATION_WORDS = {"TRD": "treatment-resistant depression",
                    "MDSI": "major depressive disorder with acute suicidal ideation or behavior"}
# Words of the desk's own screens that must never reach a payer (the claims audit checks every document).
INTERNAL_WORDS = ("Counted", "Not counted", "Cannot tell yet", "(enough)", "(not enough)", "Attested by billing",
                  "rule id", "criterion id", "None", "nan")


def day(value: date | None) -> str:
    return value.strftime("%m/%d/%Y") if value else "not recorded"


def number(value: float) -> str:
    """200.0 -> '200', 12.5 -> '12.5'."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def mg(value: float | None) -> str:
    return f"{number(value)} mg" if value is not None else "dose not recorded"


def pct(value: float | None) -> str:
    return f"{number(value)} %" if value is not None else "not recorded"


_TRAILING_ZERO = re.compile(r"(\d+)\.0(?!\d)")
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_PERCENT = re.compile(r"(\d)%")
_REPEAT = re.compile(r"\b([A-Za-z][\w-]*), \1\b", re.IGNORECASE)
_PREFIXES = (("Counted: ", ""), ("Not counted: ", "Does not qualify: "), ("Cannot tell yet: ", "Not documented: "))


def us_dates(text: str) -> str:
    """Every ISO date in `text` (2026-03-07) written the way the desk writes dates (03/07/2026)."""
    return _ISO_DAY.sub(r"\2/\3/\1", text)


def payer_sentence(text: str) -> str:
    """A criterion's evidence sentence as a payer reads it: clinical numbers, no screen wording, no repeats."""
    for prefix, replacement in _PREFIXES:
        if text.startswith(prefix):
            text = replacement + text[len(prefix):]
    text = text.replace(" (enough)", "").replace(" (not enough)", ", below the required improvement")
    text = us_dates(text)
    text = _TRAILING_ZERO.sub(r"\1", text)
    text = _PERCENT.sub(r"\1 %", text)
    text = _REPEAT.sub(r"\1", text)
    return text[:1].upper() + text[1:]


def criterion_lines(item: CriterionFacts) -> list[str]:
    """What the letter says under a criterion: the record's evidence, or the attestation / exception as such."""
    lines = list(item.evidence) if item.status == "met" else []
    # Under a met criterion, "No X score." lines are alternatives the record does not use.
    positive = [line for line in lines if not line.startswith("No ")]
    lines = positive or lines
    if item.attestation is not None:
        lines.append(f"The prescriber attests (on {day(item.attestation.on)}): {item.attestation.note}")
    if item.exception is not None:
        lines.append(f"An exception is requested because: {item.exception.note}")
    if not lines and item.status == "attest":
        lines = ["The prescriber has not yet attested this."]
    if not lines:
        lines = list(item.evidence) or ["Not documented in the record."]
    return lines


def rems_sentences(facts: CaseFacts) -> list[str]:
    """The setting's REMS certification on the service date and the patient's enrollment, as recorded."""
    rems = facts.rems
    site = facts.site.name if facts.site else "The treating setting"
    out: list[str] = []
    if rems.setting_certified:
        out.append(f"{site} is certified in the SPRAVATO REMS (setting ID {rems.setting_id}, certified "
                   f"{day(rems.certified_on)}); treatment will be administered and monitored there.")
    elif rems.certified_on is not None and rems.certified_on > rems.service_date:
        out.append(f"{site} is not yet certified in the SPRAVATO REMS on the requested start date "
                   f"{day(rems.service_date)} (certification recorded from {day(rems.certified_on)}); treatment "
                   "will begin only once the setting is certified.")
    elif rems.certified_until is not None and rems.certified_until < rems.service_date:
        out.append(f"The SPRAVATO REMS certification of {site} on record ended {day(rems.certified_until)}; "
                   "treatment will begin only once the setting is certified again.")
    else:
        out.append(f"No SPRAVATO REMS certification of {site} is on record; treatment will begin only once the "
                   "setting is certified.")
    if rems.patient_enrolled:
        confirmation = f", confirmation {rems.enrollment_confirmation}" if rems.enrollment_confirmation else ""
        out.append(f"The patient is enrolled in the SPRAVATO REMS (enrollment submitted {day(rems.patient_enrolled_on)}"
                   f"{confirmation}).")
    elif rems.enrollment_missing:
        out.append("The patient's SPRAVATO REMS enrollment is not complete (" + ", ".join(rems.enrollment_missing)
                   + " not recorded); the patient will be enrolled before the first treatment.")
    else:
        out.append("No SPRAVATO REMS patient enrollment is on record; the patient will be enrolled before the "
                   "first treatment.")
    return out


def request_sentence(facts: CaseFacts) -> str:
    req = facts.request
    return (f"The request is for {mg(req.dose_mg)} ({req.devices_per_session} devices) per session, "
            f"{req.frequency.lower()}, for {req.duration} ({req.sessions} sessions) starting {day(req.start_on)}.")


def schedule_sentences(facts: CaseFacts) -> list[str]:
    """The first dose, and any deviation from the label or the payer's limits with its stated reason."""
    req = facts.request
    out: list[str] = []
    if req.first_session_mg is not None and req.first_session_mg != req.dose_mg:
        out.append(f"The first session is {mg(req.first_session_mg)} as the label directs; later sessions are "
                   f"{mg(req.dose_mg)}.")
    if req.deviations:
        out.append("The requested schedule differs from " + "; ".join(req.deviations) + ".")
        if req.deviation_reason:
            out.append(f"The prescriber's reason: {req.deviation_reason}")
    return out


def billing_sentence(facts: CaseFacts) -> str:
    bill = facts.request.billing
    if bill.route == "session":
        codes = " and ".join(f"{code.system} {code.code} for {count} session{'s' if count != 1 else ''}"
                             for code, count in bill.session_counts())
        return (f"Billing: {codes}, 1 unit per session; the code includes the drug and the observation, so no "
                "separate drug code is billed.")
    line = (f"Billing: {bill.service.system} {bill.service.code}, {bill.service.units_per_session} units "
            f"(1 unit = 1 mg) per session, {bill.total_units} units for {bill.sessions} sessions")
    if bill.observation:
        line += "; observation " + ", ".join(f"{c.system} {c.code}" for c in bill.observation)
    return line + "."


def medication_sentence(facts: CaseFacts) -> str:
    if not facts.current_antidepressants:
        return "No current oral antidepressant is on record."
    names = "; ".join(f"{m.drug} {mg(m.daily_dose_mg)} daily" if m.daily_dose_mg else m.drug
                      for m in facts.current_antidepressants)
    return f"Current oral antidepressant: {names}."


def diagnosis_sentence(facts: CaseFacts) -> str:
    if not facts.diagnoses:
        return "Diagnoses: none on record."
    return "Diagnoses: " + "; ".join(f"{d.code} {d.description}".strip() for d in facts.diagnoses) + "."


def episode_sentence(facts: CaseFacts) -> str:
    if facts.episode_start is None:
        return "The start of the current depressive episode is not recorded."
    return f"The current depressive episode began {day(facts.episode_start)}."


def trial_groups(facts: CaseFacts) -> list[tuple[str, tuple[TrialFacts, ...]]]:
    """Trials under a heading that matches the episode start: current episode, earlier episodes, or unknown."""
    groups: list[tuple[str, tuple[TrialFacts, ...]]] = []
    for episode, heading in (
        ("current", f"Trials in the current episode (since {day(facts.episode_start)})"),
        ("earlier", f"Trials in earlier episodes (before {day(facts.episode_start)})"),
        ("unknown", "Trials (the episode start is not recorded)"),
    ):
        trials = tuple(t for t in facts.trials if t.episode == episode)
        if trials:
            groups.append((heading, trials))
    return groups


OUTCOME_WORDS = {"non_response": "Non-response", "partial_response": "Partial response", "intolerance": "Intolerance",
                 "contraindicated": "Contraindicated", "response": "Response", "remission": "Remission"}


def trial_outcome(trial: TrialFacts, *, short: bool = False) -> str:
    words = OUTCOME_WORDS.get(trial.outcome, trial.outcome.replace("_", " ").capitalize())
    if trial.improvement_pct is None:
        return words
    return f"{words} ({pct(trial.improvement_pct)}{'' if short else ' improvement'})"


def scores_sentence(facts: CaseFacts) -> str:
    if not facts.scores:
        return ""
    return "Rating-scale results: " + "; ".join(
        f"{s.instrument} {number(s.score)} on {day(s.measured_on)}" for s in facts.scores) + "."


def clinical_summary(facts: CaseFacts) -> str:
    """A short paragraph of the record: diagnosis, episode, trials, scores, current treatment."""
    parts = [diagnosis_sentence(facts), episode_sentence(facts)]
    current = [t for t in facts.trials if t.episode == "current"]
    if facts.episode_start is not None:
        count = {0: "No", 1: "One"}.get(len(current), str(len(current)))
        parts.append(f"{count} antidepressant or augmentation trial{'s' if len(current) != 1 else ''} "
                     f"in the current episode {'is' if len(current) == 1 else 'are'} on record.")
    if facts.scores:
        parts.append(scores_sentence(facts))
    parts.append(medication_sentence(facts))
    return " ".join(parts)


def conclusion_sentence(facts: CaseFacts) -> str:
    """The closing argument, matching what the evaluation found."""
    verb = "the denial be overturned and the request approved" if facts.appeal else "the request be approved"
    if facts.conclusion == "met":
        return f"The documented facts meet the criteria of {facts.policy_title}. I ask that {verb} as submitted."
    if facts.conclusion == "met_by_attestation":
        return (f"The documented facts, with the attestations stated above, meet the criteria of "
                f"{facts.policy_title}. I ask that {verb} as submitted.")
    if facts.conclusion == "met_by_exception":
        return (f"Not every criterion of {facts.policy_title} is documented; for those marked above a clinical "
                f"exception is requested for the reasons given. I ask that {verb} on that basis.")
    return (f"Some criteria of {facts.policy_title} are not yet documented (marked above). I ask that the request "
            "be reviewed with the enclosed records and am available to provide what is missing.")


def fax_message(facts: CaseFacts) -> str:
    if facts.appeal:
        return "Enclosed: appeal of a prior-authorization denial for SPRAVATO with supporting records."
    return ("Enclosed: prior authorization request for SPRAVATO, letter of medical necessity and supporting "
            "records. Please call with any questions.")


def form_data(facts: CaseFacts) -> dict[str, Any]:
    """The PA case data handed to fillable forms (forms/README.md; desk/pdf/sample_data.py::sample_pa_case)."""
    p, cov, req, pr, site = facts.patient, facts.coverage, facts.request, facts.prescriber, facts.site
    rems = facts.rems
    attested = [c for c in facts.criteria if c.attestation is not None]
    return {
        "case_id": facts.reference,
        "prepared_on": facts.prepared_on,
        "patient": {"first_name": p.first_name, "middle_initial": p.middle_initial, "last_name": p.last_name,
                    "dob": p.dob, "sex": p.sex, "phone": p.phone, "address_line": p.address_line, "city": p.city,
                    "state": p.state, "zip_code": p.zip_code, "mrn": p.mrn},
        "coverage": {"payer_id": cov.payer_id, "payer_name": cov.payer_name,
                     "plan_type": cov.plan_type.replace("_", " "),
                     "benefit": cov.benefit, "member_id": cov.member_id, "group_number": cov.group_number,
                     "payer_phone": cov.payer_phone, "payer_fax": cov.payer_fax,
                     "payer_department": "Prior Authorization"},
        "prescriber": {"first_name": pr.first_name if pr else "", "last_name": pr.last_name if pr else "",
                       "credentials": pr.credentials if pr else "", "npi": pr.npi if pr else "",
                       "specialty": pr.specialty if pr else "", "phone": pr.phone if pr else "",
                       "fax": pr.fax if pr else "", "email": pr.email if pr else ""},
        "site": {"name": site.name if site else "", "address_line": site.address_line if site else "",
                 "address_line2": site.address_line2 if site else "",
                 "city": site.city if site else "", "state": site.state if site else "",
                 "zip_code": site.zip_code if site else "", "phone": site.phone if site else "",
                 "fax": site.fax if site else "", "npi": site.npi if site else "", "tin": site.tin if site else "",
                 "rems_setting_id": rems.setting_id if rems.setting_certified else "",
                 "rems_certified": rems.setting_certified,
                 "rems_certified_on": rems.certified_on if rems.setting_certified else None},
        "request": {"urgency": req.urgency, "type": req.phase, "indication": req.indication,
                    "drug": "SPRAVATO (esketamine) nasal spray 28 mg/device", "ndc": req.ndc,
                    "hcpcs": req.billing.service.code, "hcpcs_units": req.billing.service.units_per_session,
                    "billing": req.billing.summary(),
                    "dose_mg": req.dose_mg, "devices_per_session": req.devices_per_session,
                    "frequency": req.frequency, "duration": req.duration, "sessions_requested": req.sessions,
                    "start_date": req.start_on, "place_of_service": "11 (office)",
                    "concurrent_oral_ad": bool(facts.current_antidepressants),
                    "concurrent_oral_ad_name": "; ".join(
                        f"{m.drug} {mg(m.daily_dose_mg)} daily" if m.daily_dose_mg else m.drug
                        for m in facts.current_antidepressants)},
        "diagnoses": [{"code": d.code, "description": d.description} for d in facts.diagnoses],
        "trials": [{"drug": t.drug + (" (augmentation)" if t.role == "augmentation" else ""),
                    "daily_dose_mg": number(t.daily_dose_mg), "start_date": t.start_date, "end_date": t.end_date,
                    "weeks": t.weeks, "adherence_pct": number(t.adherence_pct) if t.adherence_pct is not None else None,
                    "outcome": trial_outcome(t, short=True)}
                   # The form's table is headed "trials in the current episode": only those go there.
                   for t in facts.trials if t.episode == "current"],
        "scales": [{"instrument": s.instrument, "score": number(s.score), "date": s.measured_on}
                   for s in facts.scores],
        "other_criteria": " ".join([*rems_sentences(facts),
                                    *(f"{c.text}: the prescriber attests {c.attestation.note}" for c in attested
                                      if c.attestation)]),
        "checklist": {"policy": facts.policy_title,
                      "criteria": [{"criterion": c.text, "status": STATUS_WORDS[c.status],
                                    "evidence": criterion_lines(c)} for c in facts.criteria]},
        "denial": {"date": facts.denial.denied_on if facts.denial else None,
                   "reference": facts.denial.reference if facts.denial else facts.reference,
                   "reason": facts.denial.reason if facts.denial else ""},
        "sender": {"name": pr.name if pr else (site.name if site else ""), "phone": site.phone if site else "",
                   "fax": site.fax if site else "", "email": pr.email if pr else ""},
        "fax": {"message": fax_message(facts), "pages": None},
    }
