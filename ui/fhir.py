"""FHIR panel of the prior-authorization case screen: PAS request bundle download, ClaimResponse import."""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from desk.audit import record_event
from desk.auth import CurrentUser
from desk.errors import DeskError, ValidationFailed
from desk.fhir.claim_response import apply_claim_response
from desk.fhir.pas import build_pas_bundle
from desk.prior_auth.clocks import local_text
from ui.context import get_settings, work
from ui.downloads import document_download
from ui.editing import forget_version
from ui.form_errors import sentence, sentences_md
from ui.text import esc

_BUNDLE = "fhir_pas_bundle"
_MESSAGE = "fhir_message"
MIME = "application/fhir+json"


def bundle_file_name(case_id: int) -> str:
    """The download's file name: the case number only (never patient details)."""
    return f"pa-{case_id}-pas-request.json"


def _audit_download(case_id: int, username: str, sha256: str) -> None:
    with work(username) as session:
        record_event(session, action="download", entity="pa_case", entity_id=case_id,
                     detail=f"FHIR PAS request bundle sha256 {sha256[:16]}")


def render_fhir_panel(case_id: int, user: CurrentUser) -> None:
    """Prepare and download the case as a Da Vinci PAS request; apply the payer's PAS ClaimResponse."""
    with st.expander("FHIR exchange (Da Vinci PAS)", icon=":material/sync_alt:"):
        st.caption("The request as an HL7 Da Vinci PAS Bundle (FHIR R4) for payers and intermediaries that take "
                   "electronic prior authorization; the payer's ClaimResponse updates the case. See docs/fhir.md.")
        message = st.session_state.pop(_MESSAGE, None)
        if message:
            (st.success if message[0] == "ok" else st.error)(esc(message[1]))
        if st.button("Prepare PAS request bundle", key=f"fhir_prepare_{case_id}", icon=":material/data_object:"):
            try:
                with work(user.username) as session:
                    bundle = build_pas_bundle(session, case_id=case_id)
            except ValidationFailed as exc:
                st.session_state.pop(_BUNDLE, None)
                st.error("The bundle cannot be built yet:  \n" + sentences_md(exc))
            except DeskError as exc:
                st.session_state.pop(_BUNDLE, None)
                st.error(esc(exc))
            else:
                data = json.dumps(bundle, indent=2).encode("utf-8")
                st.session_state[_BUNDLE] = (case_id, data)
        prepared = st.session_state.get(_BUNDLE)
        if prepared and prepared[0] == case_id:
            data = prepared[1]
            digest = hashlib.sha256(data).hexdigest()
            document_download("Download PAS bundle (JSON)", data=data, file_name=bundle_file_name(case_id), mime=MIME,
                              kind="pas_bundle", record_id=case_id, key=f"fhir_download_{case_id}", type="primary",
                              icon=":material/download:", on_click=_audit_download,
                              args=(case_id, user.username, digest))
            st.caption(f"{len(data) // 1024 + 1:d} KB")
            if user.has_any("admin"):
                with st.expander("Technical details"):
                    st.caption(f"SHA-256 {esc(digest)}")
        upload = st.file_uploader("Payer's PAS ClaimResponse (JSON)", type=["json"], key=f"fhir_upload_{case_id}")
        if st.button("Apply ClaimResponse", key=f"fhir_apply_{case_id}", disabled=upload is None,
                     icon=":material/upload_file:"):
            assert upload is not None
            try:
                with work(user.username) as session:
                    result = apply_claim_response(session, case_id=case_id, payload=upload.getvalue(),
                                                  actor=user.username)
            except DeskError as exc:
                why = (" ".join(sentence("", e.message) for e in exc.errors) if isinstance(exc, ValidationFailed)
                       else str(exc))
                st.session_state[_MESSAGE] = ("error", f"ClaimResponse not applied, nothing changed: {why}")
            else:
                summary = {"approved": f"Approved: authorization {result.auth_number}, "
                                       f"{local_text(result.start_on, get_settings().timezone)} to "
                                       f"{local_text(result.end_on, get_settings().timezone)}.",
                           "denied": f"Denied: {result.reason}",
                           "pended": "Pended: the payer is reviewing."}[result.decision]
                st.session_state[_MESSAGE] = ("ok", f"ClaimResponse applied. {summary}")
                forget_version("pa_case", case_id)
            st.rerun()
