"""Payer forms: upload a payer's own fillable PDF, map its fields, preview with a demo case, save."""

import hashlib

import pandas as pd
import streamlit as st

from desk.audit import record_event
from desk.errors import ValidationFailed
from desk.pdf.fieldmap import parse_field_map
from desk.pdf.fill import fill_form_with_notes
from desk.pdf.inspect import PdfRejected, check_pdf, limits_from_settings
from desk.pdf.payer_forms import list_payer_forms, save_payer_form, validate_payer_form
from desk.pdf.render import render_page_png
from desk.pdf.sample_data import sample_pa_case
from desk.pdf.suggest import suggested_map_text
from desk.prior_auth.clocks import local_text
from desk.prior_auth.payer_rules import payer_name
from ui.context import get_settings, work
from ui.downloads import document_download
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/forms_admin.py")

PDF_KEY = "forms_admin_pdf"
MAP_KEY = "forms_admin_map"
SHA_KEY = "forms_admin_sha"

st.title("Payer forms")
st.caption(
    "A payer's own fillable request form, mapped to the PA case data, is used for that payer's prior "
    "authorizations instead of the desk's generic request form."
)
limits = limits_from_settings(get_settings())
add_tab, stored_tab = st.tabs(["Add a payer form", "Stored forms"])

with add_tab:
    upload = st.file_uploader("Payer's fillable PDF", type=["pdf"], help=f"Up to {get_settings().upload_max_mb:d} MB")
    if upload is not None:
        st.session_state[PDF_KEY] = upload.getvalue()
    pdf_bytes: bytes | None = st.session_state.get(PDF_KEY)
    if pdf_bytes is None:
        st.info("Upload the payer's fillable PDF to list its fields.")
        st.stop()
    try:
        summary = check_pdf(pdf_bytes, limits=limits)
    except PdfRejected as exc:
        st.error(f"This PDF was refused: {esc(exc)}")
        st.stop()
    if not summary.has_form:
        st.error("This PDF has no fillable fields. Ask the payer for the fillable version of the form.")
        st.stop()
    sha = hashlib.sha256(pdf_bytes).hexdigest()
    if st.session_state.get(SHA_KEY) != sha:
        st.session_state[MAP_KEY] = suggested_map_text(summary.fields)
        st.session_state[SHA_KEY] = sha
    st.subheader(f"Fields ({len(summary.fields)} on {summary.pages:d} page{'s' if summary.pages != 1 else ''})")
    if summary.has_xfa:
        st.warning("This form also carries XFA data; the desk fills its AcroForm fields and drops the XFA part.")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "field": f.name,
                    "type": f.type,
                    "options": ", ".join(f.options),
                    "page": f.page,
                    "max length": f.max_length,
                    "tooltip": f.tooltip,
                }
                for f in summary.fields
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.subheader("Field map")
    st.caption(
        "The suggestion matches field names and tooltips to the PA case data; finish it here. "
        "Format and data paths: forms/README.md."
    )
    st.text_area("Field map (YAML)", key=MAP_KEY, height=320)
    left, right = st.columns(2)
    payer_id = left.text_input("Payer id", help="The payer's policy file id, e.g. bcbs-ma")
    form_name = right.text_input("Form name", help="As the payer titles it, with its version date")
    check_col, preview_col, save_col = st.columns(3)
    if check_col.button("Check map", icon=":material/rule:"):
        try:
            validate_payer_form(pdf=pdf_bytes, field_map_yaml=st.session_state[MAP_KEY], limits=limits)
            st.success("The map fits this PDF and the PA case data.")
        except ValidationFailed as exc:
            st.error("The map has problems:\n\n"
                     + "\n".join(f"- **{esc(e.field)}**: {esc(e.message)}" for e in exc.errors))
    if preview_col.button("Preview with demo case", icon=":material/preview:"):
        try:
            field_map = parse_field_map(st.session_state[MAP_KEY], source="field map")
            filled = fill_form_with_notes(template=pdf_bytes, field_map=field_map, data=sample_pa_case(),
                                          flatten=True)
        except ValidationFailed as exc:
            st.error("Cannot preview:")
            st.dataframe(pd.DataFrame([{"field": e.field, "problem": e.message} for e in exc.errors]),
                         hide_index=True, width="stretch")
        else:
            preview = filled.pdf
            if filled.notes:
                st.warning("The preview filled, with these warnings:")
                for note in filled.notes:
                    st.text(note)
            png = render_page_png(preview, page=1, dpi=80)
            if png is not None:
                st.image(png, caption="Page 1 filled with the synthetic demo case")
            document_download(
                "Download preview PDF", data=preview, file_name="payer-form-preview.pdf",
                mime="application/pdf", kind="payer_form_preview", on_click="ignore",
            )
    if save_col.button("Save form", type="primary", icon=":material/save:"):
        try:
            with work(user.username) as session:
                row = save_payer_form(
                    session, payer_id=payer_id.strip(), name=form_name, pdf=pdf_bytes,
                    field_map_yaml=st.session_state[MAP_KEY], uploaded_by=user.username, limits=limits,
                )
                saved = (row.payer_id, row.revision)
        except ValidationFailed as exc:
            st.error("Not saved:\n\n" + "\n".join(f"- **{esc(e.field)}**: {esc(e.message)}" for e in exc.errors))
        else:
            st.success(f"Saved revision {esc(saved[1])} of the form for payer {esc(saved[0])}.")

with stored_tab:
    with work(user.username) as session:
        stored_forms = list(list_payer_forms(session))
    rows = [
        {
            "payer": payer_name(r.payer_id),
            "form": r.name,
            "revision": r.revision,
            "id": r.id,
        }
        for r in stored_forms
    ]
    if not rows:
        st.info("No payer forms stored yet: every payer gets the desk's generic request form.")
    else:
        st.dataframe(pd.DataFrame([{"Payer": payer_name(r.payer_id), "Form": r.name, "Revision": r.revision,
                                    "In use": r.active, "Uploaded by": r.uploaded_by,
                                    "Uploaded at": local_text(r.uploaded_at, get_settings().timezone)}
                                   for r in stored_forms]), hide_index=True, width="stretch")
        with st.expander("Technical details"):
            st.dataframe(pd.DataFrame([{"Form": r.name, "Revision": r.revision, "Payer id": r.payer_id,
                                        "SHA-256": r.sha256, "Database id": r.id} for r in stored_forms]),
                         hide_index=True, width="stretch")
        chosen = st.selectbox("Download a stored template", [r["id"] for r in rows],
                              format_func=lambda i: next(f"{r['payer']} · {r['form']} (rev {r['revision']})"
                                                         for r in rows if r["id"] == i))
        if st.button("Prepare download", icon=":material/download:"):
            with work(user.username) as session:
                from desk.models import PayerForm

                stored = session.get(PayerForm, chosen)
                if stored is not None:
                    record_event(session, action="download", entity="payer_form", entity_id=stored.id or "",
                                 detail="template PDF")
                    document_download("Download template PDF", data=stored.pdf,
                                      file_name=f"{stored.payer_id}-rev{stored.revision}.pdf",
                                      mime="application/pdf", kind="payer_form", record_id=stored.id or "",
                                      on_click="ignore")
