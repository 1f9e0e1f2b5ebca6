"""The session log's save: a new session, a draft, or an amendment of a submitted one."""

from __future__ import annotations

from typing import Any

import streamlit as st

from desk.errors import FieldError, StaleEdit, ValidationFailed
from desk.rems.amendments import amend_session
from desk.rems.entry import MAX_DEVICES, FormContext, blank_form, field_label, form_key, read_form
from desk.rems.sessions import get_session, record_session
from ui.context import work
from ui.editing import notify
from ui.form_errors import clear_errors, keep_errors
from ui.rems_session.inputs import LogInputs
from ui.rems_session.state import AMENDING, LOG_FORM, LogScreen, value
from ui.text import esc


def render_save(screen: LogScreen, inputs: LogInputs, *, opened: dict[str, Any], submitted: bool) -> None:
    """Below the steps: the amendment reason (or the button that starts one) and the save button."""
    user = screen.user
    zone = screen.zone
    may_record = screen.may_record
    locked = inputs.locked
    session_date = inputs.session_date
    _error = inputs.error
    if submitted and may_record:
        if st.session_state.get(AMENDING):
            st.text_input(esc(field_label("reason")), key="rems_amend_reason")
            _error("reason")
        elif st.button("Correct this session (amendment)", icon=":material/edit_note:"):
            st.session_state[AMENDING] = True
            st.rerun()

    def _save() -> None:
        values = {key: value(key) for key in blank_form()}
        for n in range(int(values.get("dose_mg") or 56) // 28 + 1, MAX_DEVICES + 1):
            values[f"device_{n}"] = None
        context = FormContext(opened["patient_id"], opened["site_id"], session_date, zone)
        # The form's own problems and the service's refusals are reported together, in one save.
        data, slots, unread = read_form(values, ctx=context)
        try:
            with work(user.username) as session:
                try:
                    if submitted:
                        amend_session(session, user=user, session_id=opened["id"],
                                      expected_version=opened["version"], data=data,
                                      reason=str(st.session_state.get("rems_amend_reason") or ""))
                        ts = get_session(session, session_id=opened["id"])
                    else:
                        ts = record_session(session, user=user, data=data, session_id=opened["id"],
                                            expected_version=opened["version"])
                except ValidationFailed as exc:
                    if not unread:
                        raise
                    raise ValidationFailed([*unread, *exc.errors]) from exc
                if unread:
                    raise ValidationFailed(unread)  # nothing of a save the form refused is kept
        except ValidationFailed as exc:
            keep_errors(LOG_FORM, _mapped(exc.errors, slots))
        except StaleEdit as exc:
            keep_errors(LOG_FORM, exc)
        else:
            clear_errors(LOG_FORM)
            st.session_state.pop(AMENDING, None)
            opened.update(id=ts.id, version=ts.version)
            notify("Amendment saved." if submitted else f"Session saved · monitoring form {ts.pmf_status}.")

    def _mapped(found: list[FieldError], slots: list[str]) -> list[FieldError]:
        """Each refusal under the form key of its input (readings[1].systolic -> post_40.systolic)."""
        return [FieldError(form_key(error.field, slots), error.message) for error in found]

    if not locked:
        st.button("Save amendment" if submitted else "Save session", type="primary", icon=":material/save:",
                  on_click=_save, width="stretch", key="rems_save")
    inputs.errors.rest()
