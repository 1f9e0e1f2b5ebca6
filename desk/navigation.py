"""Which screens exist and which roles may open them (data only; app.py builds st.navigation from it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

ALL_ROLES = ("admin", "billing", "nurse")
# Billing reads REMS screens; recording is limited to nurse and admin by desk.rems.permissions.
REMS_ROLES = ("nurse", "admin", "billing")


@dataclass(frozen=True)
class PageSpec:
    """One screen: its script in pages/, title, menu section and the roles allowed to open it."""

    path: str
    title: str
    icon: str
    section: str
    roles: tuple[str, ...]

    @property
    def url_path(self) -> str:
        return self.path.removeprefix("pages/").removesuffix(".py")


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/home.py", "Today", ":material/today:", "Desk", ALL_ROLES),
    PageSpec("pages/patients.py", "Patients", ":material/groups:", "Desk", ALL_ROLES),
    PageSpec("pages/patient_record.py", "Patient record", ":material/person:", "Desk", ALL_ROLES),
    PageSpec("pages/history_import.py", "Import clinical history", ":material/upload_file:", "Desk",
             ("admin", "billing")),
    # Billing leads hold the billing role (the demo "lead" account); the figures name no one billing cannot see.
    PageSpec("pages/lead_dashboard.py", "Lead dashboard", ":material/insights:", "Desk", ("admin", "billing")),
    PageSpec("pages/savings.py", "Savings program", ":material/savings:", "Savings", ("admin", "billing")),
    PageSpec("pages/needs_pa.py", "Needs a PA", ":material/assignment_late:", "Prior authorization",
             ("admin", "billing")),
    PageSpec("pages/worklist.py", "PA worklist", ":material/checklist:", "Prior authorization", ("admin", "billing")),
    PageSpec("pages/prior_auth.py", "PA case", ":material/assignment:", "Prior authorization", ("admin", "billing")),
    PageSpec("pages/payers.py", "Payer policies", ":material/rule:", "Prior authorization", ("admin", "billing")),
    PageSpec("pages/rems_dashboard.py", "REMS dashboard", ":material/monitor_heart:", "REMS", REMS_ROLES),
    PageSpec("pages/rems_sessions.py", "Session log", ":material/timer:", "REMS", REMS_ROLES),
    PageSpec("pages/rems_patients.py", "REMS enrollment & course", ":material/how_to_reg:", "REMS", REMS_ROLES),
    PageSpec("pages/admin_users.py", "Users", ":material/manage_accounts:", "Admin", ("admin",)),
    PageSpec("pages/admin_sites.py", "Sites & prescribers", ":material/local_hospital:", "Admin", ("admin",)),
    PageSpec("pages/audit_log.py", "Audit log", ":material/history:", "Admin", ("admin",)),
    PageSpec("pages/forms_admin.py", "Payer forms", ":material/picture_as_pdf:", "Admin", ("admin",)),
)


def pages_for(roles: Iterable[str]) -> list[PageSpec]:
    """The screens a user holding `roles` may open, in menu order."""
    held = set(roles)
    return [page for page in PAGES if held & set(page.roles)]


def roles_for(path: str) -> tuple[str, ...]:
    """The roles allowed on the page script at `path` (used by the page's guard)."""
    wanted = "pages/" + PurePath(path).name
    for page in PAGES:
        if page.path == wanted:
            return page.roles
    raise KeyError(f"{path} is not a registered page")
