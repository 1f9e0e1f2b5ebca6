"""Today: the signed-in user's landing page, one small section per concern."""

from ui.guard import require_role

user = require_role("pages/home.py")

from collections.abc import Callable  # noqa: E402

import streamlit as st  # noqa: E402

from desk.auth import CurrentUser  # noqa: E402
from desk.navigation import pages_for  # noqa: E402
from desk.sites import rems_certification_warnings  # noqa: E402
from ui.context import work  # noqa: E402

ROLE_LABELS = {"admin": "Administrator", "billing": "Billing", "nurse": "Nurse"}


def quick_links(current: CurrentUser) -> None:
    st.subheader("Your pages")
    links = [spec for spec in pages_for(current.roles) if spec.path != "pages/home.py"]
    columns = st.columns(3)
    for index, spec in enumerate(links):
        with columns[index % 3]:
            st.page_link(spec.path, label=spec.title, icon=spec.icon)


def rems_certification(current: CurrentUser) -> None:
    with work(current.username) as session:
        warnings = rems_certification_warnings(session)
    if warnings:
        st.subheader("REMS certification")
        for warning in warnings:
            st.warning(warning.message, icon=":material/verified_user:")
        st.page_link("pages/admin_sites.py", label="Record the certification", icon=":material/local_hospital:")


# Each section: the roles that see it, and the function that draws it (in page order).
SECTIONS: list[tuple[tuple[str, ...], Callable[[CurrentUser], None]]] = [
    (("admin",), rems_certification),
    (("admin", "billing", "nurse"), quick_links),
]

st.title("Today")
st.write(
    f"Signed in as **{user.display_name}** · "
    + ", ".join(ROLE_LABELS.get(role, role) for role in user.roles)
)
for roles, section in SECTIONS:
    if user.has_any(*roles):
        section(user)
