"""The savings screen's Program terms tab: the year's terms, their editor (administrators) and history."""

from __future__ import annotations

from datetime import date

import streamlit as st

from desk.auth import CurrentUser
from desk.prior_auth.clocks import local_text
from desk.savings.money import to_cents
from desk.savings.terms import TERM_FIELDS, save_terms, terms_for_year, terms_history
from ui.context import get_settings, work
from ui.form_errors import FormErrors, form_has_errors
from ui.savings.common import attempt, done
from ui.text import esc

# Term labels are written in code (desk/savings/terms.py): shown as written, and read aloud as written.
TERM_LABELS = {f.name: f.label for f in TERM_FIELDS}


def render_terms_tab(*, user: CurrentUser, today: date) -> None:
    """The Program terms tab."""
    terms_year = st.selectbox("Year", [today.year + 1, today.year, today.year - 1], index=1, key="terms_year")
    with work(user.username) as session:
        terms = terms_for_year(session, year=terms_year)
        history = terms_history(session, year=terms_year)
    if not terms.stored:
        source = f"carried forward from {terms.carried_from}" if terms.carried_from else "the shipped defaults"
        st.info(f"No terms saved for {terms_year:d}: showing {esc(source)}. An administrator can save them for "
                "this year.")
    if terms.unconfirmed:
        st.warning("Figures marked unconfirmed could not be checked against the current program terms. "
                   "Confirm them with the program (1-844-479-4846) and update them here.")
    st.dataframe(
        [
            {"Setting": f.label, "Value": terms.display_value(f.name),
             "Status": "unconfirmed" if terms.is_unconfirmed(f.name) else "confirmed", "Source": f.source}
            for f in TERM_FIELDS
        ],
        hide_index=True, width="stretch",
        column_config={"Value": st.column_config.TextColumn(width="medium")},
    )
    if user.has_any("admin"):
        terms_key = f"terms_version_{terms_year}"
        terms_opened = st.session_state.setdefault(terms_key, terms.version)
        form = f"terms_{terms_year}"
        input_labels = {f.name: f"{TERM_LABELS[f.name]} ($)" if f.kind in ("money", "optional_money")
                        else TERM_LABELS[f.name] for f in TERM_FIELDS}
        errors = FormErrors(form, {**input_labels, "notes": "Notes (where the figures come from)", "year": "Year"})
        with st.expander("Edit program terms", expanded=form_has_errors(form)), st.form(form):
            entered: dict[str, object] = {}
            still_unconfirmed: list[str] = []
            for f in TERM_FIELDS:
                c1, c2 = st.columns([3, 1])
                current = getattr(terms, f.name)
                with c1:
                    if f.kind in ("money", "optional_money"):
                        dollars = st.number_input(esc(input_labels[f.name]), min_value=0.0, step=1.0, format="%.2f",
                                                  value=None if current is None else current / 100,
                                                  key=f"term_{f.name}")
                        entered[f.name] = None if dollars is None else to_cents(dollars)
                    elif f.kind == "states":
                        entered[f.name] = st.text_input(esc(input_labels[f.name]), value=", ".join(sorted(current)),
                                                        key=f"term_{f.name}")
                    else:
                        entered[f.name] = int(st.number_input(esc(input_labels[f.name]), min_value=1, max_value=366,
                                                              value=int(current), step=1, key=f"term_{f.name}"))
                    errors.under(f.name)
                if c2.checkbox("Unconfirmed", value=terms.is_unconfirmed(f.name), key=f"unconfirmed_{f.name}"):
                    still_unconfirmed.append(f.name)
            terms_notes = st.text_input("Notes (where the figures come from)", value=terms.notes)
            errors.under("notes")
            errors.rest()
            if st.form_submit_button("Save terms", type="primary"):
                with work(user.username) as session:
                    attempt(form, lambda: save_terms(session, user=user, year=terms_year, values=entered,
                                                     unconfirmed=still_unconfirmed, notes=terms_notes,
                                                     expected_version=terms_opened))
                st.session_state.pop(terms_key, None)
                done(f"Program terms for {terms_year} saved.")
    else:
        st.caption("Only administrators can change the program terms.")
    st.markdown("**History**")
    if history:
        st.dataframe(
            [{"When": local_text(c.changed_at, get_settings().timezone), "By": c.changed_by,
              "Setting": TERM_LABELS.get(c.field_name, c.field_name), "From": c.old_value, "To": c.new_value}
             for c in history],
            hide_index=True, width="stretch",
        )
    else:
        st.caption("No changes recorded for this year.")
