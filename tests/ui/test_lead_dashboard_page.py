"""Lead dashboard: every figure drawn as a chart with its CSV, for billing and admin; nurses are refused."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.ui.conftest import AppFactory
from tests.ui.screen import shown

PAGE = "pages/lead_dashboard.py"


def test_every_figure_has_a_chart_and_a_csv(page_app: AppFactory, demo_app_db: Engine) -> None:
    at = page_app("app.py", roles=("billing", "nurse")).run()
    at = at.switch_page(PAGE).run()
    assert not at.exception
    assert shown(at.title[0].value) == "Lead dashboard"
    charts = at.get("vega_lite_chart")
    downloads = at.get("download_button")
    assert len(charts) == 9 and len(downloads) == 9
    titles = [shown(m.value) for m in at.markdown]
    for title in ("**Approval rate by payer and month**", "**Median days from submission to decision**",
                  "**Denials by the payer's reason**", "**Denials by criterion not met**",
                  "**Appeals won and lost**", "**Authorizations ending in the next 30 days**",
                  "**Devices authorized and used (authorizations in force)**",
                  "**Savings claims paid and pending**"):
        assert title in titles


def test_empty_clinic_says_so_per_figure(page_app: AppFactory) -> None:
    at = page_app(PAGE, roles=("admin",)).run()
    assert not at.exception
    assert not at.get("vega_lite_chart")
    assert "No decisions recorded yet." in [shown(c.value) for c in at.caption]


def test_nurse_is_refused(page_app: AppFactory) -> None:
    at = page_app(PAGE, roles=("nurse",)).run()
    assert shown(at.error[0].value) == "Your role does not allow this page."
