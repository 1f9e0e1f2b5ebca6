"""REMS session log: one tablet screen per treatment session, with the monitoring clock running."""

import json
from datetime import date, datetime, time
from typing import Any

import streamlit as st

from desk.errors import FieldError, StaleEdit, ValidationFailed
from desk.models import PMF_CHANNELS, Patient, TreatmentSession, utcnow
from desk.rems.amendments import amend_session, amendments_of
from desk.rems.concomitant import concomitant_medications
from desk.rems.config import load_rems_settings
from desk.rems.coverage import start_outlook
from desk.rems.dashboard import next_session_date, patient_choices
from desk.rems.enrollment import screening_findings, site_certification_problem, start_blockers
from desk.rems.entry import (
    MAX_DEVICES,
    OBSERVATIONS,
    SLOT_LABELS,
    FormContext,
    blank_form,
    field_label,
    form_from_input,
    form_key,
    input_from_form,
)
from desk.rems.permissions import can_record
from desk.rems.pmf import mark_submitted, pmf_due_date
from desk.rems.pmf_pdf import download_pmf, pmf_file_name
from desk.rems.sessions import (
    first_dose_warning,
    get_session,
    record_session,
    session_clock,
    session_input,
    sessions_on,
)
from desk.rems.validation import ReadingInput, bp_above_limit
from desk.sites import list_prescribers, list_sites
from desk.today import due_in_words, session_to_open
from ui.context import work
from ui.downloads import document_download
from ui.editing import notify, show_notice
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/rems_sessions.py")

PREFIX = "rems_f_"
OPEN = "rems_open"  # {"id": session id or None, "patient_id", "site_id", "date", "version"}
ERRORS = "rems_errors"
CLOCK_SECONDS = 30

settings = load_rems_settings()
zone = settings.zone
may_record = can_record(user)
now = utcnow()
today = now.astimezone(zone).date()

st.title("Session log")
show_notice()
if not may_record:
    st.info("Your role can read session logs and download monitoring forms, but not record sessions.",
            icon=":material/visibility:")


def _local(moment: datetime | None) -> str:
    return f"{moment.astimezone(zone):%H:%M}" if moment else "—"


def _open(ts: TreatmentSession | None, *, patient_id: int, site_id: int, values: dict[str, Any]) -> None:
    """Put a session (or a new one) on the screen: remember which, and load its values into the widgets."""
    st.session_state[OPEN] = {
        "id": ts.id if ts else None, "patient_id": patient_id, "site_id": site_id,
        "date": ts.session_date if ts else today, "version": ts.version if ts else None,
    }
    for key, value in values.items():
        st.session_state[PREFIX + key] = value
    st.session_state.pop(ERRORS, None)


def _start_new(patient_id: int, site_id: int) -> None:
    """Put a blank log for `patient_id` on the screen and empty the picker, which would otherwise reopen the
    session chosen (or preselected) there over the new one."""
    first, _, last = user.display_name.partition(" ")
    _open(None, patient_id=patient_id, site_id=site_id, values=blank_form(hcp_first_name=first, hcp_last_name=last))
    st.session_state["rems_pick"] = None


# ---- which session -------------------------------------------------------------------------------------------
with work(user.username) as session:
    todays = list(sessions_on(session, day=today))
    patients = {p.id: p for p in patient_choices(session)}
    sites = {s.id: s for s in list_sites(session)}

labels = {ts.id: f"{_local(ts.first_device_at)} · {patients[ts.patient_id].display_name} · "
                 f"{ts.pmf_status}" for ts in todays if ts.patient_id in patients}
requested = st.query_params.get("session")
if requested and requested.isdigit() and st.session_state.get(OPEN, {}).get("id") != int(requested):
    with work(user.username) as session:
        ts = session.get(TreatmentSession, int(requested))
        if ts is not None and ts.id is not None:
            _open(ts, patient_id=ts.patient_id, site_id=ts.site_id,
                  values=form_from_input(session_input(session, session_id=ts.id), zone=zone))
            # The picker shows the linked session (or nothing), so it does not reopen an earlier choice over it.
            st.session_state["rems_pick"] = ts.id if ts.id in labels else None
    st.query_params.clear()

if labels and not st.session_state.get(OPEN) and "rems_pick" not in st.session_state:
    # Nothing on screen yet: show the session most likely wanted instead of an empty page.
    st.session_state["rems_pick"] = session_to_open([ts for ts in todays if ts.id in labels])

picker, start_col = st.columns([3, 2], vertical_alignment="bottom")
choice = picker.selectbox("Today's sessions", options=[None, *labels], index=None,
                          format_func=lambda i: "— choose —" if i is None else labels[i], key="rems_pick",
                          placeholder=f"{len(labels)} session(s) today")
if choice is not None and st.session_state.get(OPEN, {}).get("id") != choice:
    with work(user.username) as session:
        ts = get_session(session, session_id=choice)
        _open(ts, patient_id=ts.patient_id, site_id=ts.site_id,
              values=form_from_input(session_input(session, session_id=choice), zone=zone))

if may_record:
    with start_col.popover("Start a new session", icon=":material/add:", width="stretch"):
        new_patient = st.selectbox("Patient", options=list(patients), index=None, key="rems_new_patient",
                                   format_func=lambda i: f"{patients[i].display_name} · {patients[i].mrn}")
        if new_patient is not None:
            patient = patients[new_patient]
            with work(user.username) as session:
                blockers = start_blockers(session, patient_id=new_patient, site_id=patient.site_id)
            # Only a certified setting may treat: an uncertified site blocks the start like a missing enrollment.
            enrollment_problems = blockers
            if enrollment_problems:
                for blocker in enrollment_problems:
                    st.error(f"**Cannot start.** {esc(blocker.reason)}", icon=":material/block:")
                    st.info(f"**What to do:** {esc(blocker.action)}", icon=":material/assignment:")
                st.page_link("pages/rems_patients.py", label="Record the enrollment", icon=":material/how_to_reg:",
                             query_params={"patient": str(new_patient)})
            else:
                with work(user.username) as session:
                    record = session.get(Patient, new_patient)
                    findings = screening_findings(record) if record is not None else []
                    _day, per_session = next_session_date(session, patient_id=new_patient, today=today)
                    outlook = start_outlook(session, patient_id=new_patient, on=today,
                                            devices_per_session=per_session)
                if outlook.covered:
                    st.caption(esc(outlook.message))
                else:
                    st.warning(esc(outlook.message), icon=":material/request_quote:")
                for finding in findings:
                    if finding.kind == "contraindication":
                        st.error(esc(finding.text), icon=":material/report:")
                    else:
                        st.warning(esc(finding.text), icon=":material/warning:")
                acknowledged = not findings or st.checkbox(
                    "I have reviewed these with the prescriber before dosing", key="rems_screening_ack")
                st.button("Open the log", type="primary", key="rems_start", on_click=_start_new,
                          args=(new_patient, patient.site_id), disabled=not acknowledged)

opened = st.session_state.get(OPEN)
if not opened:
    st.caption("Choose one of today's sessions, or start a new one.")
    st.stop()

patient = patients.get(opened["patient_id"])
site = sites.get(opened["site_id"])
if patient is None or site is None:
    st.error("This session's patient or site no longer exists.")
    st.stop()
session_date: date = opened["date"]
submitted = False
stored: TreatmentSession | None = None
if opened["id"] is not None:
    with work(user.username) as session:
        stored = get_session(session, session_id=opened["id"])
    submitted = stored.pmf_status == "submitted"

with work(user.username) as session:
    concomitant = concomitant_medications(session, patient_id=opened["patient_id"])

header = st.container(border=True)
name_col, info_col = header.columns([3, 2])
name_col.subheader(f"{esc(patient.display_name)}  ·  MRN {esc(patient.mrn)}")
name_col.caption(f"{esc(site.name)} · session of {session_date:%m/%d/%Y}"
                 + (f" · monitoring form **{esc(stored.pmf_status)}**" if stored else " · not saved yet"))
if concomitant:
    info_col.warning("Concomitant medications: " + "; ".join(f"{esc(category.replace('_', ' '))}: "
                                                              f"{esc(', '.join(names))}"
                                                              for category, names in concomitant.items()),
                     icon=":material/medication:")
else:
    info_col.caption("No benzodiazepine, hypnotic, psychostimulant, MAOI or opioid on the medication list.")
certification = site_certification_problem(site)
if certification:
    st.warning(esc(certification), icon=":material/verified_user:")
with work(user.username) as session:
    dose_warning = first_dose_warning(session, patient_id=opened["patient_id"],
                                      indication=str(st.session_state.get(PREFIX + "indication") or "TRD"),
                                      dose_mg=int(st.session_state.get(PREFIX + "dose_mg") or 56),
                                      session_date=session_date, session_id=opened["id"])
if dose_warning:
    st.warning(esc(dose_warning), icon=":material/medication:")


def _value(key: str) -> Any:
    return st.session_state.get(PREFIX + key)


def _at(clock: time | None) -> datetime | None:
    return datetime.combine(session_date, clock, tzinfo=zone) if clock else None


@st.fragment(run_every=CLOCK_SECONDS)
def running_clock() -> None:
    """Minutes since the first device and the reminders; refreshes on its own while the screen is open."""
    first = _at(_value("device_1"))
    readings = [ReadingInput("post_40", _at(_value("post_40.time")) or utcnow(), _value("post_40.systolic"),
                             _value("post_40.diastolic"))] if _value("post_40.systolic") else []
    clock = session_clock(first_device_at=first, readings=readings, discharged_at=_at(_value("discharged_at")),
                          now=utcnow(), settings=settings)
    box = st.container(border=True)
    elapsed, reading, discharge = box.columns(3)
    elapsed.metric("Since first device", "—" if clock.minutes_since_first_device is None
                   else f"{clock.minutes_since_first_device} min")
    reading.metric(f"~{settings.post_dose_reading_minutes:d}-min BP", "taken" if clock.post_dose_reading_done
                   else _local(clock.post_dose_reading_due_at))
    discharge.metric("Earliest discharge", _local(clock.discharge_allowed_at))
    for reminder in clock.reminders:
        if "due now" in reminder or "was reached" in reminder:
            box.warning(esc(reminder), icon=":material/alarm:")
        else:
            box.info(esc(reminder), icon=":material/schedule:")


running_clock()

errors: dict[str, str] = st.session_state.get(ERRORS, {})
if errors:
    st.error("Nothing was saved. Please correct:\n\n" + "\n".join(f"- **{esc(field_label(k))}**: {esc(m)}"
                                                                  for k, m in errors.items()))
locked = not may_record or (submitted and not st.session_state.get("rems_amending"))


def _error(key: str) -> None:
    if key in errors:
        st.markdown(f":red[{esc(errors[key])}]")


def _now_button(key: str, label_md: str = ":material/schedule:") -> None:
    def stamp() -> None:
        st.session_state[PREFIX + key] = utcnow().astimezone(zone).time().replace(second=0, microsecond=0)

    st.button(label_md, key=f"now_{key}", on_click=stamp, disabled=locked, width="stretch",
              help="Set to the current time")


def _time(label_md: str, key: str, container: Any = st) -> None:
    # Labels here are written in code; Streamlit also reads a label as the field's accessible name.
    container.time_input(label_md, key=PREFIX + key, step=60, disabled=locked)


def _number(label_md: str, key: str, container: Any = st) -> None:
    container.number_input(label_md, key=PREFIX + key, step=1, min_value=None, disabled=locked, placeholder="—")


def _reading(slot: str) -> None:
    st.markdown(f"**{SLOT_LABELS[slot]}**")
    cols = st.columns([2.2, 0.9, 1.7, 1.7, 1.7, 1.7], vertical_alignment="bottom")
    _time("Time", f"{slot}.time", cols[0])
    with cols[1]:
        _now_button(f"{slot}.time")
    _number("Systolic", f"{slot}.systolic", cols[2])
    _number("Diastolic", f"{slot}.diastolic", cols[3])
    _number("Heart rate", f"{slot}.heart_rate", cols[4])
    _number("SpO2 %", f"{slot}.spo2", cols[5])
    for value in ("time", "systolic", "diastolic", "heart_rate", "spo2"):
        _error(f"{slot}.{value}")


# Keyed: after recording, the log stays on the step the nurse was working in.
before, dosing, monitoring, discharge_tab, form_tab = st.tabs(
    ["1 · Before dosing", "2 · Dosing", "3 · Monitoring", "4 · Discharge", "Monitoring form"], key="session_tab",
    on_change="rerun",
)
with before:
    checks = st.columns(4)
    for col, (key, label_md) in zip(checks, (
        ("no_food_2h", "No food for 2 h"), ("no_liquids_30min", "No liquids for 30 min"),
        ("nasal_medication_ok", "No nasal steroid/decongestant within 1 h"),
        ("ride_home_confirmed", "Ride home confirmed"),
    ), strict=True):
        col.toggle(label_md, key=PREFIX + key, disabled=locked)
        with col:
            _error(key)
    _reading("pre")
    pre_systolic, pre_diastolic = _value("pre.systolic"), _value("pre.diastolic")
    if pre_systolic and pre_diastolic and bp_above_limit(
        ReadingInput("pre", now, int(pre_systolic), int(pre_diastolic)), settings
    ):
        st.warning(f"Blood pressure {esc(pre_systolic)}/{esc(pre_diastolic)} is above {settings.bp_systolic_limit:d}/"
                   f"{settings.bp_diastolic_limit:d}: dosing needs a prescriber's acknowledgement (risk vs benefit).",
                   icon=":material/warning:")
        ack_name, ack_time = st.columns([3, 2])
        ack_name.text_input("Prescriber who acknowledged", key=PREFIX + "high_bp_acknowledged_by", disabled=locked)
        _time("Acknowledged at", "high_bp_acknowledged_at", ack_time)
    _error("high_bp_acknowledged_by")
    _error("readings")
    st.radio("Vital signs acceptable before dosing?", options=[True, False], horizontal=True, index=None,
             format_func=lambda v: "Yes" if v else "No", key=PREFIX + "vitals_ok_before", disabled=locked)
    _error("vitals_ok_before")

with dosing:
    dose_col, indication_col, lot_col = st.columns(3)
    dose_col.radio("Dose", options=[56, 84, 28], horizontal=True, key=PREFIX + "dose_mg", disabled=locked,
                   format_func=lambda mg: f"{mg:d} mg ({mg // 28:d} device{'s' if mg > 28 else ''})")
    indication_col.radio("Indication", options=["TRD", "MDSI"], horizontal=True, key=PREFIX + "indication",
                         disabled=locked)
    lot_col.text_input("Lot number", key=PREFIX + "lot_number", disabled=locked)
    for key in ("dose_mg", "lot_number", "device_times"):
        _error(key)
    devices_needed = int(_value("dose_mg") or 56) // 28
    st.caption(f"{devices_needed:d} devices, at least {settings.device_spacing_minutes:d} minutes apart; the patient "
               "self-administers under direct supervision.")
    device_cols = st.columns(MAX_DEVICES)
    for n in range(1, MAX_DEVICES + 1):
        with device_cols[n - 1]:
            if n <= devices_needed:
                _time(f"Device {n}", f"device_{n}")
                _now_button(f"device_{n}", f"Device {n} given now")
                _error(f"device_{n}")

with monitoring:
    _reading("post_40")
    _reading("extra_1")
    _reading("extra_2")
    st.markdown("**Observed**")
    obs_cols = st.columns(3)
    for col, name in zip(obs_cols, OBSERVATIONS, strict=True):
        with col:
            st.toggle(esc(name.replace("_", " ").capitalize()), key=PREFIX + name, disabled=locked)
            if _value(name):
                _time("Resolved at", f"{name}_resolved_at")
            _error(f"{name}_resolved_at")
    st.toggle("Serious adverse event", key=PREFIX + "serious_adverse_event", disabled=locked)
    if _value("serious_adverse_event"):
        st.text_area("What happened (no names)", key=PREFIX + "sae_details", disabled=locked)
    _error("sae_details")

with discharge_tab:
    _reading("discharge")
    st.radio("Vital signs acceptable before completion of monitoring?", options=[True, False], horizontal=True,
             index=None, format_func=lambda v: "Yes" if v else "No", key=PREFIX + "vitals_ok_before_completion",
             disabled=locked)
    _error("vitals_ok_before_completion")
    st.number_input("REMS question: without the 2-hour minimum, after how many minutes from the first device would "
                    "the patient have been ready to leave?", key=PREFIX + "ready_to_leave_minutes", step=1,
                    min_value=None, disabled=locked, placeholder="minutes")
    _error("ready_to_leave_minutes")
    with work(user.username) as session:
        on_site = {p.id: f"{p.first_name} {p.last_name}"
                   for p in list_prescribers(session, site_id=site.id, include_inactive=False)}
    st.selectbox("Prescriber on site during the session (REMS)", options=list(on_site), index=None,
                 format_func=lambda i: on_site.get(i, "—"), key=PREFIX + "prescriber_on_site_id", disabled=locked,
                 placeholder="Choose the prescriber who was on site")
    _error("prescriber_on_site_id")
    hcp = st.columns(4)
    for col, (key, label_md) in zip(hcp, (("monitoring_hcp_first_name", "HCP first name"),
                                       ("monitoring_hcp_last_name", "HCP last name"),
                                       ("monitoring_hcp_phone", "HCP phone"),
                                       ("monitoring_hcp_email", "HCP e-mail")), strict=True):
        col.text_input(label_md, key=PREFIX + key, disabled=locked)
        with col:
            _error(key)
    discharge_time, discharge_now = st.columns([3, 1], vertical_alignment="bottom")
    _time("Discharge time", "discharged_at", discharge_time)
    with discharge_now:
        _now_button("discharged_at", "Discharge now")
    _error("discharged_at")

if submitted and may_record:
    if st.session_state.get("rems_amending"):
        st.text_input("Reason for the amendment (kept with the correction)", key="rems_amend_reason")
        _error("reason")
    elif st.button("Correct this session (amendment)", icon=":material/edit_note:"):
        st.session_state["rems_amending"] = True
        st.rerun()


def _save() -> None:
    values = {key: st.session_state.get(PREFIX + key) for key in blank_form()}
    for n in range(int(values.get("dose_mg") or 56) // 28 + 1, MAX_DEVICES + 1):
        values[f"device_{n}"] = None
    context = FormContext(opened["patient_id"], opened["site_id"], session_date, zone)
    slots: list[str] = []
    try:
        data, slots = input_from_form(values, ctx=context)
        with work(user.username) as session:
            if submitted:
                amend_session(session, user=user, session_id=opened["id"], expected_version=opened["version"],
                              data=data, reason=str(st.session_state.get("rems_amend_reason") or ""))
                ts = get_session(session, session_id=opened["id"])
            else:
                ts = record_session(session, user=user, data=data, session_id=opened["id"],
                                    expected_version=opened["version"])
    except ValidationFailed as exc:
        st.session_state[ERRORS] = _mapped(exc.errors, slots)
    except StaleEdit as exc:
        st.session_state[ERRORS] = {"session": str(exc)}
    else:
        st.session_state.pop(ERRORS, None)
        st.session_state.pop("rems_amending", None)
        opened.update(id=ts.id, version=ts.version)
        notify("Amendment saved." if submitted else f"Session saved · monitoring form {ts.pmf_status}.")


def _mapped(found: list[FieldError], slots: list[str]) -> dict[str, str]:
    mapped: dict[str, str] = {}
    for error in found:
        key = form_key(error.field, slots)
        mapped[key] = f"{mapped[key]}; {error.message}" if key in mapped else error.message
    return mapped


if not locked:
    st.button("Save amendment" if submitted else "Save session", type="primary", icon=":material/save:",
              on_click=_save, width="stretch", key="rems_save")

with form_tab:
    if stored is None or stored.id is None:
        st.caption("Save the session to prepare its monitoring form.")
    else:
        due = pmf_due_date(stored.session_date, settings=settings)
        days_left = (due - today).days
        status_md = f"Status **{esc(stored.pmf_status)}** · due {due:%m/%d/%Y}"
        if stored.pmf_status == "submitted":
            st.success(f"Submitted {stored.pmf_submitted_on:%m/%d/%Y} by {esc(stored.pmf_channel)}"
                       + (f" · confirmation {esc(stored.pmf_confirmation)}" if stored.pmf_confirmation else ""))
        elif days_left < 0:
            st.error(f"{status_md} · **{esc(due_in_words(days_left))}**")
        else:
            st.info(f"{status_md} · {esc(due_in_words(days_left))}")
        if stored.pmf_status in ("ready", "submitted"):
            with work(user.username) as session:
                pdf = download_pmf(session, user=user, session_id=stored.id)
            document_download("Download monitoring form (PDF)", data=pdf, mime="application/pdf",
                              file_name=pmf_file_name(stored.id, stored.session_date),
                              kind="rems_monitoring_form", record_id=stored.id or "", on_click="ignore",
                              icon=":material/download:", key="rems_pmf_download")
        if stored.pmf_status == "ready" and may_record:
            with st.form("rems_submit"):
                cols = st.columns(3)
                submitted_on = cols[0].date_input("Submitted on", value=today, format="MM/DD/YYYY")
                channel = cols[1].radio("Channel", options=list(PMF_CHANNELS), horizontal=True)
                confirmation = cols[2].text_input("Confirmation number")
                if st.form_submit_button("Record submission"):
                    try:
                        with work(user.username) as session:
                            mark_submitted(session, user=user, session_id=stored.id,
                                           expected_version=opened["version"], submitted_on=submitted_on,
                                           channel=channel, confirmation_number=confirmation, today=today)
                    except ValidationFailed as exc:
                        for error in exc.errors:
                            st.error(f"{esc(field_label(error.field))}: {esc(error.message)}")
                    except StaleEdit as exc:
                        st.error(esc(exc))
                    else:
                        opened["version"] = None
                        with work(user.username) as session:
                            opened["version"] = get_session(session, session_id=stored.id).version
                        notify("Submission recorded.")
                        st.rerun()
        with work(user.username) as session:
            history = list(amendments_of(session, session_id=stored.id))
        if history:
            st.markdown("**Amendments**")
            st.dataframe([{"when": f"{a.amended_at.astimezone(zone):%m/%d/%Y %H:%M}", "by": a.amended_by,
                           "reason": a.reason, "changed": ", ".join(sorted(json.loads(a.changes_json)))}
                          for a in history], hide_index=True, width="stretch")
