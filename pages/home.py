"""Today: the signed-in user's first screen, one small section per concern, chosen by role."""

from collections.abc import Callable
from zoneinfo import ZoneInfo

import streamlit as st

from desk.auth import CurrentUser
from desk.models import ROLE_LABELS, utcnow
from desk.navigation import pages_for
from desk.prior_auth.clocks import local_today
from desk.prior_auth.needs_pa import KIND_SHORT_TITLES, needs_pa
from desk.rems.config import load_rems_settings
from desk.savings.money import format_cents
from desk.today import BLOCK_TITLES, admin_today, prior_auth_today, rems_today, savings_today
from ui.context import get_settings, work
from ui.guard import require_role
from ui.text import esc

user = require_role("pages/home.py")

MONEY_ROLES = ("admin", "billing")
LIST_LIMIT = 5

settings = get_settings()
now = utcnow()
today = local_today(settings.timezone, now=now)


def _more(shown: int, total: int, where: str) -> None:
    if total > shown:
        st.caption(f"… and {total - shown:d} more on the {esc(where)}.")


def prior_auth(current: CurrentUser) -> None:
    with work(current.username) as session:
        summary = prior_auth_today(session, now=now, today=today, timezone=settings.timezone,
                                   default_lead_days=settings.renewal_lead_days,
                                   draft_idle_days=settings.draft_idle_days)
        queue = needs_pa(session, today=today, default_lead_days=settings.renewal_lead_days,
                         appeal_window_days=settings.appeal_window_days,
                         appeal_warning_days=settings.appeal_warning_days)
    with st.container(border=True):
        st.subheader("Prior authorizations", anchor=False)
        st.markdown("**Needs a PA**")
        counts = queue.counts()
        columns = st.columns(len(KIND_SHORT_TITLES))
        for column, (kind, title) in zip(columns, KIND_SHORT_TITLES.items(), strict=True):
            column.metric(esc(title), counts[kind])
            column.page_link("pages/needs_pa.py", label=f"See the {counts[kind]:d} patient"
                             f"{'' if counts[kind] == 1 else 's'}", icon=":material/arrow_forward:",
                             query_params={"list": kind}, disabled=counts[kind] == 0)
        st.markdown("**Cases needing action**")
        # Three to a row: six in one row cut labels such as "Authorizations to renew" at 1280 px.
        columns = [column for _ in range(-(-len(summary.actions) // 3)) for column in st.columns(3)]
        for column, action in zip(columns, summary.actions, strict=False):
            column.metric(esc(action.title), action.total)
            column.page_link("pages/worklist.py", label=f"See the {action.total:d} case"
                             f"{'' if action.total == 1 else 's'}", icon=":material/arrow_forward:",
                             query_params={"action": action.key}, disabled=action.total == 0)
        if summary.total == 0:
            st.caption("No case needs action today.")
        st.page_link("pages/worklist.py", label="Open the PA worklist", icon=":material/checklist:")


def savings(current: CurrentUser) -> None:
    with work(current.username) as session:
        summary = savings_today(session, today=today)
    show_money = current.has_any(*MONEY_ROLES)
    with st.container(border=True):
        st.subheader("Savings program", anchor=False)
        columns = st.columns(len(summary.lines))
        for column, line in zip(columns, summary.lines, strict=True):
            column.metric(esc(line.title), line.count)
            if show_money and line.amount_cents:
                column.caption(f"{esc(format_cents(line.amount_cents))} of savings at stake")
        if summary.total == 0:
            st.caption("Nothing waiting in the savings program.")
        st.page_link("pages/savings.py", label="Open the savings program", icon=":material/savings:")


def rems(current: CurrentUser) -> None:
    rems_settings = load_rems_settings()
    with work(current.username) as session:
        summary = rems_today(session, today=today, now=now, settings=rems_settings)
    with st.container(border=True):
        st.subheader("REMS", anchor=False)
        counts = st.columns(4)
        counts[0].metric("Sessions today", len(summary.sessions))
        counts[1].metric("Forms overdue", len(summary.forms_overdue))
        counts[2].metric(f"Forms due within {rems_settings.due_soon_days:d} days", len(summary.forms_due_soon))
        counts[3].metric("Patients blocked", summary.blocked_count())

        st.markdown("**Today's sessions**")
        if not summary.sessions:
            st.caption("No session logged today yet.")
        for item in summary.sessions:
            line, link = st.columns([5, 1], vertical_alignment="center")
            icon_md = {"under way": ":material/timer:", "discharged": ":material/check_circle:"}.get(
                item.stage, ":material/schedule:")
            line.markdown(f"{icon_md} **{esc(item.patient)}** · MRN {esc(item.mrn)} · {esc(item.dose_mg)} mg · "
                          f"{esc(item.status)} · form {esc(item.form_status)}")
            link.page_link("pages/rems_sessions.py", label="Open", icon=":material/open_in_new:",
                           query_params={"session": str(item.session_id)})

        overdue_col, due_col = st.columns(2)
        for column, title, forms, colour_md in (
            (overdue_col, "Monitoring forms overdue", summary.forms_overdue, "red"),
            (due_col, "Monitoring forms due soon", summary.forms_due_soon, "orange"),
        ):
            with column:
                st.markdown(f"**{esc(title)}**")
                if not forms:
                    st.caption("None.")
                for form in forms[:LIST_LIMIT]:
                    st.page_link("pages/rems_sessions.py", icon=":material/description:",
                                 label=f"{esc(form.patient)} · session {form.session_date:%m/%d/%Y} · "
                                       f":{colour_md}[{esc(form.due_text)}] · {esc(form.form_status)}",
                                 query_params={"session": str(form.session_id)})
                _more(min(len(forms), LIST_LIMIT), len(forms), "REMS dashboard")

        st.markdown("**Patients blocked**")
        if not summary.blocked:
            st.caption("No patient in treatment is blocked.")
        else:
            kinds = st.columns(len(BLOCK_TITLES))
            for column, (kind, title) in zip(kinds, BLOCK_TITLES.items(), strict=True):
                column.metric(esc(title), summary.blocked_count(kind))
            patients = summary.blocked_by_patient()
            for item, reasons in patients[:LIST_LIMIT]:
                st.markdown(f":material/block: **{esc(item.patient)}** · MRN {esc(item.mrn)} · "
                            + " ".join(esc(reason) for reason in reasons))
            _more(min(len(patients), LIST_LIMIT), len(patients), "REMS dashboard")
        links = st.columns(3)
        links[0].page_link("pages/rems_dashboard.py", label="REMS dashboard", icon=":material/monitor_heart:")
        links[1].page_link("pages/rems_sessions.py", label="Session log", icon=":material/timer:")
        links[2].page_link("pages/rems_patients.py", label="REMS enrollment & course", icon=":material/how_to_reg:")


def administration(current: CurrentUser) -> None:
    with work(current.username) as session:
        summary = admin_today(session, now=now)
    with st.container(border=True):
        st.subheader("Administration", anchor=False)
        if not summary.certification_warnings and not summary.locked_accounts:
            st.caption("Every site's REMS certification is on file and no account is locked.")
        for message in summary.certification_warnings:
            st.warning(esc(message), icon=":material/verified_user:")
        if summary.certification_warnings:
            st.page_link("pages/admin_sites.py", label="Record the certification", icon=":material/local_hospital:")
        for account in summary.locked_accounts:
            st.warning(f"Account **{esc(account.username)}** ({esc(account.display_name)}) is locked after failed "
                       "sign-ins "
                       f"until {account.locked_until.astimezone(ZoneInfo(settings.timezone)):%m/%d/%Y %H:%M}.",
                       icon=":material/lock:")
        if summary.locked_accounts:
            st.page_link("pages/admin_users.py", label="Unlock on the Users page", icon=":material/manage_accounts:")


def quick_links(current: CurrentUser) -> None:
    st.subheader("Your pages", anchor=False)
    links = [spec for spec in pages_for(current.roles) if spec.path != "pages/home.py"]
    columns = st.columns(3)
    for index, spec in enumerate(links):
        with columns[index % 3]:
            st.page_link(spec.path, label=esc(spec.title), icon=spec.icon)


# Each section: the roles that see it, and the function that draws it (in page order).
SECTIONS: list[tuple[tuple[str, ...], Callable[[CurrentUser], None]]] = [
    (("admin",), administration),
    (("admin", "billing"), prior_auth),
    (("admin", "billing"), savings),
    (("admin", "nurse"), rems),
    (("admin", "billing", "nurse"), quick_links),
]

st.title("Today")
st.write(
    f"Signed in as **{esc(user.display_name)}** · "
    + ", ".join(esc(ROLE_LABELS.get(role, role)) for role in user.roles)
    + f" · {today:%A, %m/%d/%Y}"
)
for roles, section in SECTIONS:
    if user.has_any(*roles):
        section(user)
