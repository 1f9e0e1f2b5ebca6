"""Today: each role sees its own sections built from the demo clinic; nurses see no dollar amounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from desk.database import unit_of_work
from desk.models import utcnow
from tests.factories import make_site, make_user
from tests.ui.conftest import AppFactory
from tests.ui.screen import row_widths, shown

PAGE = "pages/home.py"


@pytest.fixture
def demo_db(demo_app_db: Engine) -> Engine:
    """The app's database holding the demo clinic, dated today."""
    return demo_app_db


def _today(page_app: AppFactory, roles: tuple[str, ...]) -> AppTest:
    """The Today screen opened through the app's navigation, signed in with `roles`."""
    at = page_app("app.py", roles=roles).run()
    return at.switch_page(PAGE).run()


def _links(at: AppTest) -> dict[str, str]:
    return {link.proto.label: link.proto.page for link in at.get("page_link")}


def _text(at: AppTest) -> str:
    parts = [shown(m.value) for m in at.markdown] + [shown(c.value) for c in at.caption]
    parts += [shown(w.value) for w in at.warning]
    parts += [f"{m.label} {shown(m.value)}" for m in at.metric] + list(_links(at))
    return "\n".join(parts)


def _sections(at: AppTest) -> list[str]:
    return [shown(s.value) for s in at.subheader]


def test_billing_sees_prior_authorizations_and_savings_with_amounts(page_app: AppFactory, demo_db: Engine) -> None:
    at = _today(page_app, ("billing",))
    assert not at.exception
    assert _sections(at) == ["Prior authorizations", "Savings program", "Your pages"]
    metrics = {m.label: int(m.value) for m in at.metric}
    assert {"Decisions overdue", "Information due", "Authorizations to renew", "Devices running out",
            "Claims waiting for an EOB", "Denied claims and rebates"} <= set(metrics)
    assert any(label.startswith("Drafts idle") for label in metrics)
    assert sum(metrics.values()) > 0
    assert any(shown(c.value).startswith("$") and "of savings at stake" in shown(c.value) for c in at.caption)
    links = _links(at)
    assert links["Open the PA worklist"] == "worklist"
    assert links["Open the savings program"] == "savings"
    assert "Sessions today" not in metrics, "the REMS summary is the nurses' section"


def test_nurse_sees_rems_only_and_no_dollar_amounts(page_app: AppFactory, demo_db: Engine) -> None:
    at = _today(page_app, ("nurse",))
    assert not at.exception
    assert _sections(at) == ["REMS", "Your pages"]
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics["Sessions today"] >= 1 and metrics["Forms overdue"] >= 1 and metrics["Patients blocked"] >= 1
    assert {"Not enrolled in the REMS", "No authorization", "Devices exhausted"} <= set(metrics)
    text = _text(at)
    assert "$" not in text
    assert "Under way: " in text and "min since the first device" in text
    assert "day(s)" not in text and ("days late" in text or "1 day late" in text)
    links = _links(at)
    assert {"REMS dashboard", "Session log", "REMS enrollment & course"} <= set(links)
    form_links = [label for label, page in links.items() if page == "rems_sessions" and " · session " in label]
    assert form_links and all("late]" in label or "left]" in label or "due today]" in label for label in form_links)
    assert "Open the PA worklist" not in links and "Open the savings program" not in links


def test_billing_and_nurse_together_see_both_without_administration(page_app: AppFactory, demo_db: Engine) -> None:
    at = _today(page_app, ("billing", "nurse"))
    assert not at.exception
    assert _sections(at) == ["Prior authorizations", "Savings program", "REMS", "Your pages"]


def test_admin_sees_everything_with_certification_gaps_and_locked_accounts(
    page_app: AppFactory, demo_db: Engine, fast_hasher: PasswordHasher
) -> None:
    with unit_of_work(demo_db, actor="tester") as session:
        make_site(session, name="Annex Clinic", rems_setting_id="", rems_certified_on=None)
        make_user(session, hasher=fast_hasher, username="locked1", display_name="Locked Person",
                  locked_until=utcnow() + timedelta(minutes=15))
    at = _today(page_app, ("admin",))
    assert not at.exception
    assert _sections(at) == ["Administration", "Prior authorizations", "Savings program", "REMS", "Your pages"]
    warnings = [shown(w.value) for w in at.warning]
    assert any(w.startswith("Annex Clinic: REMS outpatient-setting certification id and date") for w in warnings)
    assert any("**locked1** (Locked Person) is locked" in w for w in warnings)
    links = _links(at)
    assert links["Record the certification"] == "admin_sites"
    assert links["Unlock on the Users page"] == "admin_users"
    assert any(shown(c.value).startswith("$") for c in at.caption), "administrators see the amounts"


def test_an_empty_clinic_says_there_is_nothing_to_do(page_app: AppFactory, app_db: Engine) -> None:
    at = _today(page_app, ("admin",))
    assert not at.exception
    captions = [shown(c.value) for c in at.caption]
    assert "No case needs action today." in captions
    assert "Nothing waiting in the savings program." in captions
    assert "No session logged today yet." in captions
    assert "No patient in treatment is blocked." in captions
    assert "Every site's REMS certification is on file and no account is locked." in captions


def test_case_figures_have_room_for_their_labels(page_app: AppFactory, demo_db: Engine) -> None:
    """Six figures in one row cut "Authorizations to renew" and "Drafts idle over 7 days" at 1280 px."""
    at = _today(page_app, ("billing",))
    assert not at.exception
    assert row_widths(at, "metric") and max(row_widths(at, "metric")) <= 4
