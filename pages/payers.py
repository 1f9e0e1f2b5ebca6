"""Payer policies: each policy's criteria tree with sources, review date and gaps; the errors of broken files."""

import streamlit as st

from desk.prior_auth.policy_changes import recheck_payer_files
from desk.settings import load_settings
from ui.context import get_engine
from ui.guard import require_role
from ui.policies import policy_catalog, reload_catalog
from ui.policy_view import render_policy
from ui.text import esc

user = require_role("pages/payers.py")

st.title("Payer policies")
settings = load_settings()
catalog = policy_catalog()
policies = sorted(catalog.policies.values(), key=lambda p: p.payer.lower())
incomplete = [p for p in policies if p.incomplete]
admin = user.has_any("admin")
st.caption(
    f"{len(policies)} policies · {len(incomplete)} incomplete · "
    "criteria are paraphrased; check each against its source before relying on it."
)
if admin:
    with st.expander("Technical details"):
        st.caption(f"Policy files are read from {esc(settings.payers_dir)}. To add a payer, see payers/README.md.")

reload_slot = st.container()
if reload_slot.button("Reload payer files", icon=":material/refresh:",
                      help="Read the payer folder again; open cases of a changed payer are evaluated again."):
    reload_catalog()
    synced = recheck_payer_files(get_engine(), actor=user.username)
    changed = [s for s in synced if not s.first_seen]
    st.session_state["payers_reload_notice"] = (
        f"Payer files read again. {len(changed)} changed file(s); "
        f"{sum(len(s.cases_changed) for s in changed)} open case(s) flagged 'policy changed'.")
    st.rerun()
notice = st.session_state.pop("payers_reload_notice", None)
if notice:
    reload_slot.success(esc(notice))

if catalog.problems:
    with st.container(border=True):
        st.error(
            f"{len(catalog.broken_files)} policy file(s) could not be loaded; the other policies work normally.",
            icon=":material/error:",
        )
        if admin:
            with st.expander("Technical details"):
                for file_name in catalog.broken_files:
                    st.markdown(f"**{esc(file_name)}**")
                    st.code("\n".join(f"{p.path or '(file)'}: {p.message}" for p in catalog.problems
                                      if p.file == file_name), language=None, wrap_lines=True)
        else:
            st.caption("An administrator can see what is wrong with them on this page.")

names = {p.id: f"{p.payer}" + (" (incomplete)" if p.incomplete else "") for p in policies}
chosen = st.multiselect("Show", options=list(names), format_func=names.__getitem__, placeholder="All payers")

for policy in policies:
    if chosen and policy.id not in chosen:
        continue
    flag_md = " · :orange-badge[:material/content_cut: incomplete]" if policy.incomplete else ""
    with st.expander(f"**{esc(policy.payer)}** — {esc(policy.title)}{flag_md}", expanded=len(chosen) == 1):
        render_policy(policy, catalog.files.get(policy.id, ""), default_lead_days=settings.renewal_lead_days,
                      versions=catalog.versions.get(policy.id), admin=admin)
