"""Admin: clinic sites (REMS certification) and prescribers."""

from collections.abc import Callable
from datetime import date

import streamlit as st
from sqlmodel import Session

from desk.errors import StaleEdit, ValidationFailed
from desk.models import SPECIALTIES, Prescriber, Site
from desk.prior_auth.clocks import local_text
from desk.sites import (
    PrescriberDetails,
    SiteDetails,
    create_prescriber,
    create_site,
    list_prescribers,
    list_sites,
    rems_certification_warnings,
    update_prescriber,
    update_site,
)
from ui.context import get_settings, work
from ui.editing import forget_version, notify, opened_version, show_notice
from ui.form_errors import FormErrors, clear_errors, keep_errors
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/admin_sites.py")
timezone = get_settings().timezone

SPECIALTY_LABELS = {
    "psychiatrist": "Psychiatrist",
    "psychiatric_np": "Psychiatric nurse practitioner",
    "other": "Other",
}

# Each field a save can refuse, as its input's label reads.
SITE_LABELS = {
    "name": "Site name", "address_line": "Street address", "address_line2": "Address line 2 (suite, floor, building)",
    "city": "City", "state": "State", "zip_code": "ZIP", "phone": "Phone", "fax": "Fax", "npi": "Organisation NPI",
    "tin": "Tax id (TIN)", "rems_setting_id": "Certification id", "rems_certified_on": "Certified on",
    "rems_certified_until": "Certification ended", "authorized_representative": "Authorized representative",
}
PRESCRIBER_LABELS = {
    "first_name": "First name", "last_name": "Last name", "credentials": "Credentials", "npi": "NPI",
    "specialty": "Specialty", "phone": "Phone", "fax": "Fax", "email": "E-mail", "site_id": "Site",
    "active": "Active",
}

st.title("Sites & prescribers")
show_notice()
stale = st.session_state.pop("desk_stale_message", None)
if stale:
    st.error(esc(stale))

with work(user.username) as session:
    sites = list(list_sites(session))
    prescribers = list(list_prescribers(session))
    warnings = rems_certification_warnings(session)

for warning in warnings:
    st.warning(esc(warning.message), icon=":material/verified_user:")


def _save(form: str, kind: str, record_id: int | None, message: str, change: Callable[[Session], object]) -> None:
    """Run one save; keep field messages or the stale-edit notice for the next run."""
    try:
        with work(user.username) as session:
            change(session)
    except ValidationFailed as exc:
        keep_errors(form, exc)
    except StaleEdit as exc:
        clear_errors(form)
        st.session_state["desk_stale_message"] = str(exc)
        if record_id is not None:
            forget_version(kind, record_id)
    else:
        clear_errors(form)
        if record_id is None:
            st.session_state[f"{form}_generation"] = st.session_state.get(f"{form}_generation", 0) + 1
        else:
            forget_version(kind, record_id)
        notify(message)
    st.rerun()


def site_form(form: str, site: Site | None) -> SiteDetails | None:
    """The site fields as a form; the entered details once submitted."""
    current = SiteDetails.of(site) if site else SiteDetails(name="")
    generation = st.session_state.get(f"{form}_generation", 0)
    errors = FormErrors(form, SITE_LABELS)
    with st.form(f"{form}_{generation}"):
        name = st.text_input("Site name", value=current.name)
        errors.under("name")
        address_line = st.text_input("Street address", value=current.address_line)
        errors.under("address_line")
        address_line2 = st.text_input("Address line 2 (suite, floor, building)", value=current.address_line2)
        errors.under("address_line2")
        city_col, state_col, zip_col = st.columns([3, 1, 2])
        with city_col:
            city = st.text_input("City", value=current.city)
            errors.under("city")
        with state_col:
            state = st.text_input("State", value=current.state, max_chars=2)
            errors.under("state")
        with zip_col:
            zip_code = st.text_input("ZIP", value=current.zip_code)
            errors.under("zip_code")
        phone_col, fax_col = st.columns(2)
        with phone_col:
            phone = st.text_input("Phone", value=current.phone)
            errors.under("phone")
        with fax_col:
            fax = st.text_input("Fax", value=current.fax)
            errors.under("fax")
        npi_col, tin_col = st.columns(2)
        with npi_col:
            npi = st.text_input("Organisation NPI", value=current.npi, max_chars=10)
            errors.under("npi")
        with tin_col:
            tin = st.text_input("Tax id (TIN)", value=current.tin, placeholder="12-3456789")
            errors.under("tin")
        st.markdown("**REMS outpatient healthcare setting certification**")
        rems_col, date_col, until_col = st.columns(3)
        with rems_col:
            rems_setting_id = st.text_input("Certification id", value=current.rems_setting_id)
            errors.under("rems_setting_id")
        with date_col:
            rems_certified_on = st.date_input(
                "Certified on", value=current.rems_certified_on, max_value=date.today(), format="MM/DD/YYYY"
            )
            errors.under("rems_certified_on")
        with until_col:
            rems_certified_until = st.date_input("Certification ended", value=current.rems_certified_until,
                                                 format="MM/DD/YYYY", help="Only if it lapsed or was withdrawn")
            errors.under("rems_certified_until")
        authorized_representative = st.text_input(
            "Authorized representative", value=current.authorized_representative,
            help="Signs the setting's REMS enrollment and notifies the REMS of patient transfers",
        )
        errors.under("authorized_representative")
        errors.rest()
        submitted = st.form_submit_button("Save site" if site else "Add site", type="primary")
    if not submitted:
        return None
    return SiteDetails(
        name=name, address_line=address_line, address_line2=address_line2, city=city, state=state, zip_code=zip_code,
        phone=phone, fax=fax,
        npi=npi, tin=tin, rems_setting_id=rems_setting_id,
        rems_certified_on=rems_certified_on if isinstance(rems_certified_on, date) else None,
        authorized_representative=authorized_representative,
        rems_certified_until=rems_certified_until if isinstance(rems_certified_until, date) else None,
    )


def prescriber_form(form: str, prescriber: Prescriber | None) -> PrescriberDetails | None:
    """The prescriber fields as a form; the entered details once submitted."""
    current = PrescriberDetails.of(prescriber) if prescriber else PrescriberDetails("", "", "")
    generation = st.session_state.get(f"{form}_generation", 0)
    site_ids: list[int | None] = [None, *(s.id for s in sites)]
    site_names = {s.id: s.name for s in sites}
    errors = FormErrors(form, PRESCRIBER_LABELS)
    with st.form(f"{form}_{generation}"):
        first_col, last_col, cred_col = st.columns([2, 2, 1])
        with first_col:
            first_name = st.text_input("First name", value=current.first_name)
            errors.under("first_name")
        with last_col:
            last_name = st.text_input("Last name", value=current.last_name)
            errors.under("last_name")
        with cred_col:
            credentials = st.text_input("Credentials", value=current.credentials, placeholder="MD, DO, PMHNP-BC")
            errors.under("credentials")
        npi_col, specialty_col = st.columns(2)
        with npi_col:
            npi = st.text_input("NPI", value=current.npi, max_chars=10)
            errors.under("npi")
        with specialty_col:
            specialty = st.selectbox(
                "Specialty", SPECIALTIES, index=SPECIALTIES.index(current.specialty)
                if current.specialty in SPECIALTIES else 0, format_func=SPECIALTY_LABELS.__getitem__,
            )
            errors.under("specialty")
        phone_col, fax_col, email_col = st.columns(3)
        with phone_col:
            phone = st.text_input("Phone", value=current.phone)
            errors.under("phone")
        with fax_col:
            fax = st.text_input("Fax", value=current.fax)
            errors.under("fax")
        with email_col:
            email = st.text_input("E-mail", value=current.email)
            errors.under("email")
        site_id = st.selectbox(
            "Site", site_ids, index=site_ids.index(current.site_id) if current.site_id in site_ids else 0,
            format_func=lambda i: "—" if i is None else site_names[i],
        )
        errors.under("site_id")
        active = st.checkbox("Active", value=current.active)
        errors.under("active")
        errors.rest()
        submitted = st.form_submit_button("Save prescriber" if prescriber else "Add prescriber", type="primary")
    if not submitted:
        return None
    return PrescriberDetails(
        first_name=first_name, last_name=last_name, npi=npi, credentials=credentials, specialty=specialty,
        phone=phone, fax=fax, email=email, site_id=site_id, active=active,
    )


sites_tab, prescribers_tab = st.tabs(["Sites", "Prescribers"])

with sites_tab:
    st.dataframe(
        [
            {
                "Site": s.name,
                "City": s.city,
                "State": s.state,
                "Phone": s.phone,
                "Fax": s.fax,
                "NPI": s.npi,
                "REMS certification": s.rems_setting_id,
                "Certified on": local_text(s.rems_certified_on, timezone),
                "Authorized representative": s.authorized_representative,
            }
            for s in sites
        ],
        hide_index=True,
        width="stretch",
    )
    with st.expander("Add a site", expanded=not sites):
        details = site_form("new_site", None)
        if details:
            _save("new_site", "site", None, f"Site {details.name.strip()} added.",
                  lambda s: create_site(s, details=details))
    if sites:
        st.subheader("Edit a site")
        # Options are ids, not rows: a widget keeps its value between runs, a row must be read fresh.
        sites_by_id = {s.id: s for s in sites}
        site = sites_by_id[st.selectbox("Site to edit", list(sites_by_id), format_func=lambda i: sites_by_id[i].name)]
        assert site.id is not None
        version = opened_version("site", site.id, site.version)
        form = f"site_{site.id}"
        details = site_form(form, site)
        if details:
            _save(form, "site", site.id, "Site saved.",
                  lambda s: update_site(s, site_id=site.id, expected_version=version, details=details))

with prescribers_tab:
    site_names = {s.id: s.name for s in sites}
    st.dataframe(
        [
            {
                "Prescriber": p.display_name,
                "NPI": p.npi,
                "Specialty": SPECIALTY_LABELS.get(p.specialty, p.specialty),
                "Site": site_names.get(p.site_id, ""),
                "Phone": p.phone,
                "Fax": p.fax,
                "Active": p.active,
            }
            for p in prescribers
        ],
        hide_index=True,
        width="stretch",
    )
    with st.expander("Add a prescriber", expanded=not prescribers):
        new_prescriber = prescriber_form("new_prescriber", None)
        if new_prescriber:
            _save("new_prescriber", "prescriber", None, "Prescriber added.",
                  lambda s: create_prescriber(s, details=new_prescriber))
    if prescribers:
        st.subheader("Edit a prescriber")
        prescribers_by_id = {p.id: p for p in prescribers}
        prescriber = prescribers_by_id[
            st.selectbox("Prescriber to edit", list(prescribers_by_id),
                         format_func=lambda i: prescribers_by_id[i].display_name)
        ]
        assert prescriber.id is not None
        version = opened_version("prescriber", prescriber.id, prescriber.version)
        form = f"prescriber_{prescriber.id}"
        edited = prescriber_form(form, prescriber)
        if edited:
            _save(form, "prescriber", prescriber.id, "Prescriber saved.",
                  lambda s: update_prescriber(s, prescriber_id=prescriber.id, expected_version=version,
                                              details=edited))
