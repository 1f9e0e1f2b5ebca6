"""Import clinical history: an EHR's FHIR export or spreadsheets, reviewed per patient before anything lands."""

import json
from datetime import date

import streamlit as st
from sqlmodel import select

from desk.demo_ehr import as_bundle, depression_history
from desk.errors import DeskError, ValidationFailed
from desk.fhir.ehr_import import ImportRefused, SourceFile, read_fhir_export
from desk.history.accept import accept_history
from desk.history.facts import SECTION_LABELS, SECTIONS, HistoryImport
from desk.history.provenance import describe_row
from desk.history.review import STATUS_WORDS, PatientReview, match_patient, review_patient
from desk.history.spreadsheet import TEMPLATES, read_spreadsheet, template_csv, template_workbook
from desk.imports import ImportFailed, known_payer_ids
from desk.models import Patient
from desk.reference import ReferenceDataError
from ui.context import get_settings, work
from ui.editing import notify, show_notice
from ui.form_errors import sentences_md
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/history_import.py")

# Only parsed facts live here, in this signed-in user's own session state; never the uploaded files.
PENDING = "history_import_pending"
settings = get_settings()
payers = sorted(known_payer_ids(settings.payers_dir))
today = date.today()

st.title("Import clinical history")
st.caption("Bring trials, rating scales, diagnoses, coverage, stays, psychotherapy, ECT and TMS, allergies and "
           "prescribers from your EHR. Nothing is written until you accept it below, patient by patient.")
show_notice()


def keep(imported: HistoryImport) -> None:
    st.session_state[PENDING] = imported
    st.session_state.pop("history_import_notice", None)


fhir_tab, sheet_tab = st.tabs(["FHIR export", "Spreadsheet"])
with fhir_tab:
    st.caption(f"A FHIR R4 (US Core) Bundle as JSON, or the NDJSON files of a bulk export; up to "
               f"{settings.ehr_import_max_mb:d} MB per file.")
    if settings.demo:
        with work(user.username) as session:
            demo_patient = session.exec(select(Patient).where(Patient.mrn == "DEMO-0001")).first()
        if demo_patient is not None:
            sample = as_bundle(depression_history(key="demo-0001", mrn=demo_patient.mrn, first_name="Synthetic",
                                                  last_name="Export", birth_date=demo_patient.dob, today=today))
            st.download_button("Synthetic export for DEMO-0001 (demo)", json.dumps(sample, indent=1).encode(),
                               file_name="synthetic-ehr-export.json", mime="application/json", on_click="ignore",
                               icon=":material/download:")
    uploads = st.file_uploader("FHIR files", type=["json", "ndjson", "jsonl"], accept_multiple_files=True,
                               key="history_fhir_files")
    if st.button("Read files", type="primary", disabled=not uploads, key="history_fhir_read"):
        try:
            keep(read_fhir_export([SourceFile(u.name, data=u.getvalue()) for u in uploads or []], today=today,
                                  known_payers=payers, max_mb=settings.ehr_import_max_mb))
        except ImportRefused as refused:
            st.error("Nothing was read from these files:")
            st.text(str(refused))  # names a file and resource from the upload: shown as text, never markup
        except ReferenceDataError as broken:
            st.error(f"The reference data is broken, so medications cannot be mapped: {esc(broken)}")

with sheet_tab:
    st.caption("One kind of fact per CSV file, or one sheet per kind in an Excel workbook. Patients are found by "
               "MRN. All or nothing: if any row has a problem, nothing goes to review and every problem is listed.")
    cols = st.columns(len(TEMPLATES) + 1)
    for column, kind in zip(cols, TEMPLATES, strict=False):
        column.download_button(f"{esc(kind)}.csv", template_csv(kind), file_name=f"{kind}-template.csv",
                               mime="text/csv", on_click="ignore", icon=":material/download:")
    cols[-1].download_button("workbook.xlsx", template_workbook(), file_name="clinical-history-template.xlsx",
                             mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             on_click="ignore", icon=":material/download:")
    sheet = st.file_uploader("Spreadsheet", type=["csv", "xlsx"], key="history_sheet_file")
    if st.button("Check file", type="primary", disabled=sheet is None, key="history_sheet_read") and sheet:
        data = sheet.getvalue()
        if len(data) > settings.upload_max_mb * 1024 * 1024:
            st.error(f"The file is larger than {settings.upload_max_mb:d} MB.")
        else:
            try:
                with work(user.username) as session:
                    keep(read_spreadsheet(session, name=sheet.name, data=data, known_payers=payers, today=today))
            except ImportFailed as failed:
                st.error(f"{esc(failed)}. Fix these and try again:")
                st.dataframe([{"row": p.row, "column": p.column, "problem": p.message} for p in failed.problems],
                             hide_index=True, width="stretch")

pending = st.session_state.get(PENDING)
if not isinstance(pending, HistoryImport):
    st.stop()

st.divider()
st.subheader("Review")
st.text(f"Read {pending.resources_read} item(s) from {len(pending.files)} file(s): {len(pending.patients)} "
        f"patient(s), {pending.fact_count} fact(s), {len(pending.problems)} refused.")
if pending.problems:
    with st.expander(f"Refused ({len(pending.problems)}): listed by file and resource, the rest continues"):
        st.dataframe([{"file": p.source_file, "resource": p.resource_id, "reason": p.reason}
                      for p in pending.problems], hide_index=True, width="stretch")
if st.button("Discard this import", icon=":material/delete:", key="history_discard"):
    st.session_state.pop(PENDING, None)
    st.rerun()


# A record field as the record's forms label it (where an imported fact differs from what is on record).
FIELD_WORDS = {"daily_dose_mg": "daily dose (mg)", "start_date": "start", "end_date": "end",
               "adherence_pct": "adherence %", "improvement_pct": "improvement %", "measured_on": "date",
               "admitted_on": "admitted",
               "discharged_on": "discharged", "episode_start": "current episode began", "diagnosed_on": "diagnosed on",
               "current_episode": "in the current episode", "at_max_tolerated_dose": "at maximum tolerated dose"}


def _value(value: object) -> object:
    if isinstance(value, date):
        return f"{value:%m/%d/%Y}"
    return "not recorded" if value is None else value


def fact_rows(review: PatientReview, section: str) -> list[dict[str, str]]:
    rows = []
    for item in review.section(section):  # type: ignore[arg-type]
        differs = "; ".join(f"{FIELD_WORDS.get(name, name.replace('_', ' '))}: on record {_value(value)}, "
                            f"import {_value(getattr(item.fact.details, name))}" for name, value in item.on_record)
        rows.append({"status": STATUS_WORDS[item.status], "fact": describe_row(section, item.fact.details),
                     "detail": item.problem or differs,
                     "source": ", ".join(p.resource_id for p in item.fact.provenance[:3])
                     + (f" (+{len(item.fact.provenance) - 3})" if len(item.fact.provenance) > 3 else "")})
    return rows


def accept(index: int, review: PatientReview, sections: tuple[str, ...], confirmed: bool) -> None:
    assert review.match.patient_id is not None
    try:
        with work(user.username) as session:
            result = accept_history(session, history=review.history, patient_id=review.match.patient_id,
                                    match=review.match, sections=sections, known_payers=payers,
                                    imported_on=pending.imported_on, kind=pending.kind, confirmed=confirmed,
                                    today=today)
    except ValidationFailed as failed:
        st.error("Nothing was written:  \n" + sentences_md(failed))
        return
    except DeskError as failed:
        st.error(esc(failed))
        return
    if set(sections) >= {s for s in SECTIONS if review.section(s)}:
        pending.patients.pop(index)
    notify(f"Accepted: {result.summary()}." if result.written else "Nothing new: the record already has all of it.")
    st.session_state["history_import_opened"] = review.match.patient_id
    st.rerun()


opened = st.session_state.get("history_import_opened")
if isinstance(opened, int) and st.button("Open the record just updated", icon=":material/person:",
                                         key="history_open_record"):
    st.session_state["patient_id"] = opened
    st.switch_page("pages/patient_record.py")

with work(user.username) as session:
    reviews = []
    for history in pending.patients:
        match = match_patient(session, history.identity)
        if match.patient_id is None:
            reviews.append(PatientReview(history, match, ()))
        else:
            reviews.append(review_patient(session, history=history, patient_id=match.patient_id, match=match,
                                          known_payers=payers, today=today))

for index, review in enumerate(reviews):
    identity = review.history.identity
    with st.container(border=True, key=f"history_patient_{index}"):
        st.text(f"{identity.last_name}, {identity.first_name} · identifiers "
                f"{', '.join(identity.identifiers)} · {identity.resource_id}" if identity.last_name else
                f"{identity.resource_id} · identifiers {', '.join(identity.identifiers)}")
        if review.match.patient_id is None:
            st.warning(esc(review.match.message))
            continue
        st.text(f"Record: {review.match.label} ({review.match.message})")
        confirmed = True
        if review.match.needs_confirmation:
            confirmed = st.checkbox("I checked: this is the same person", key=f"history_confirm_{index}")
        counts = review.counts()
        st.caption(" · ".join(f"{counts[s]:d} {esc(STATUS_WORDS[s])}" for s in STATUS_WORDS if counts[s]) or "no facts")
        for section in SECTIONS:
            rows = fact_rows(review, section)
            if not rows:
                continue
            st.markdown(f"**{SECTION_LABELS[section]}**")
            st.dataframe(rows, hide_index=True, width="stretch", key=f"history_{index}_{section}")
            if review.writable((section,)) and st.button(
                f"Accept only {esc(SECTION_LABELS[section].lower())} ({len(review.writable((section,)))})",
                key=f"history_accept_{index}_{section}", disabled=not confirmed,
            ):
                accept(index, review, (section,), confirmed)
        if review.history.notes:
            with st.expander(f"Read but not imported ({len(review.history.notes)})"):
                st.dataframe([{"note": note} for note in review.history.notes], hide_index=True, width="stretch")
        left, right = st.columns(2)
        writable = review.writable(SECTIONS)
        if left.button(f"Accept all ({len(writable)})", type="primary", key=f"history_accept_all_{index}",
                       disabled=not confirmed or not writable):
            accept(index, review, SECTIONS, confirmed)
        if right.button("Reject this patient", key=f"history_reject_{index}"):
            pending.patients.pop(index)
            st.rerun()
