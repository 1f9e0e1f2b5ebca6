"""Admin screens: accounts, sites and prescribers, through the real page scripts (AppTest)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from desk.database import unit_of_work
from desk.models import AuditEvent, Prescriber, Site, User, utcnow
from tests.factories import VALID_NPI, make_site
from tests.ui.conftest import AppFactory
from tests.ui.screen import all_messages, messages_under, shown

USERS = "pages/admin_users.py"
SITES = "pages/admin_sites.py"


def _text_input(at: AppTest, label: str, form_prefix: str):  # type: ignore[no-untyped-def]
    return next(w for w in at.text_input if w.label == label and (w.form_id or "").startswith(form_prefix))


def _markdown(at: AppTest) -> str:
    return "\n".join(shown(m.value) for m in at.markdown)


def _user(engine: Engine, username: str) -> User | None:
    with Session(engine) as session:
        return session.exec(select(User).where(User.username == username)).first()


def test_users_page_lists_accounts(page_app: AppFactory) -> None:
    at = page_app(USERS, roles=("admin",)).run()
    assert not at.exception
    assert shown(at.title[0].value) == "Users"
    frame = at.dataframe[0].value
    assert list(frame["Username"]) == ["tester"]
    assert list(frame["Roles"]) == ["Administrator"]


def test_last_sign_in_shows_in_the_clinic_time_zone(page_app: AppFactory, app_db: Engine,
                                                    monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DESK_TIMEZONE", "America/Chicago")
    with unit_of_work(app_db, actor="setup") as session:
        session.add(User(username="aaron", display_name="Aaron", roles="nurse",
                         last_sign_in_at=datetime(2026, 1, 5, 15, 30, tzinfo=UTC)))
    at = page_app(USERS, roles=("admin",)).run()
    frame = at.dataframe[0].value
    signed_in = dict(zip(frame["Username"], frame["Last sign-in"], strict=True))
    assert signed_in["aaron"] == "01/05/2026 09:30"
    assert signed_in["tester"] == ""
    assert not any("+00:00" in str(v) or "UTC" in str(c) for c in frame.columns for v in frame[c])


def test_create_account_with_several_roles(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(USERS, roles=("admin",)).run()
    _text_input(at, "Username", "create_user").input("robin")
    _text_input(at, "Full name", "create_user").input("Robin Diaz")
    _text_input(at, "E-mail", "create_user").input("robin@clinic.org")
    next(m for m in at.multiselect if m.label == "Roles").set_value(["billing", "nurse"])
    _text_input(at, "First password", "create_user").input("twelve chars plus")
    next(b for b in at.button if b.label == "Create account").click()
    at.run()
    assert not at.exception
    assert shown(at.success[0].value) == "Account robin created."
    robin = _user(app_db, "robin")
    assert robin is not None and robin.role_list == ["billing", "nurse"]
    with Session(app_db) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.entity == "user", AuditEvent.action == "create",
                                                      AuditEvent.entity_id == str(robin.id))).one()
    assert event.actor == "tester"
    assert "twelve chars plus" not in event.fields + event.detail


def test_bad_account_shows_messages_next_to_fields_and_saves_nothing(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(USERS, roles=("admin",)).run()
    _text_input(at, "Username", "create_user").input("Robin Diaz")
    _text_input(at, "E-mail", "create_user").input("robin at clinic")
    _text_input(at, "First password", "create_user").input("short")
    next(b for b in at.button if b.label == "Create account").click()
    at.run()
    # Every refusal at once, each directly under its input and named by the input's label.
    assert messages_under(at, _text_input(at, "Username", "create_user")) == [
        "Username: 2-40 lowercase letters, digits, dot, dash or underscore"]
    assert messages_under(at, _text_input(at, "Full name", "create_user")) == ["Full name is required"]
    assert messages_under(at, _text_input(at, "E-mail", "create_user")) == ["E-mail is not an e-mail address"]
    assert messages_under(at, next(m for m in at.multiselect if m.label == "Roles")) == [
        "Roles: choose at least one role"]
    assert messages_under(at, _text_input(at, "First password", "create_user")) == [
        "First password: use at least 12 characters"]
    assert not any("display_name" in m or "display name" in m for m in all_messages(at))
    with Session(app_db) as session:
        assert [u.username for u in session.exec(select(User))] == ["tester"]


def test_change_roles_deactivate_unlock_and_reset(page_app: AppFactory, app_db: Engine, fast_hasher) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(app_db, actor="setup") as session:
        session.add(User(username="aaron", display_name="Aaron", roles="nurse", failed_attempts=5,
                         locked_until=utcnow() + timedelta(minutes=10), password_hash=fast_hasher.hash("x")))
    at = page_app(USERS, roles=("admin",)).run()
    assert at.selectbox[0].value == _user(app_db, "aaron").id  # type: ignore[union-attr]
    assert "locked after failed sign-ins" in shown(at.caption[0].value)

    next(m for m in at.multiselect if m.label == "Roles" and m.value == ["nurse"]).set_value(["nurse", "billing"])
    next(b for b in at.button if b.label == "Save details and roles").click()
    at.run()
    assert shown(at.success[0].value) == "Details and roles saved for aaron."
    assert _user(app_db, "aaron").role_list == ["billing", "nurse"]  # type: ignore[union-attr]

    next(b for b in at.button if b.label == "Unlock").click()
    at.run()
    assert shown(at.success[0].value) == "Unlocked for aaron."
    assert _user(app_db, "aaron").locked_until is None  # type: ignore[union-attr]

    next(w for w in at.text_input if w.label == "New password").input("a fresh long passphrase")
    next(b for b in at.button if b.label == "Set new password").click()
    at.run()
    assert shown(at.success[0].value) == "Password reset for aaron."
    assert fast_hasher.verify(_user(app_db, "aaron").password_hash, "a fresh long passphrase")  # type: ignore[union-attr]

    next(b for b in at.button if b.label == "Deactivate").click()
    at.run()
    assert shown(at.success[0].value) == "Deactivated for aaron."
    assert _user(app_db, "aaron").active is False  # type: ignore[union-attr]


def test_stale_account_edit_is_refused(page_app: AppFactory, app_db: Engine) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        session.add(User(username="aaron", display_name="Aaron", roles="nurse"))
    at = page_app(USERS, roles=("admin",)).run()
    with unit_of_work(app_db, actor="someone") as session:
        other = session.exec(select(User).where(User.username == "aaron")).one()
        other.display_name = "Aaron B."
    at.run()
    assert "Someone else changed this account" in shown(at.warning[0].value)
    _text_input(at, "Full name", "details_").input("Aaron C.")
    next(b for b in at.button if b.label == "Save details and roles").click()
    at.run()
    assert "changed by someone else" in shown(at.error[0].value)
    assert _user(app_db, "aaron").display_name == "Aaron B."  # type: ignore[union-attr]


def test_details_and_roles_are_refused_together(page_app: AppFactory, app_db: Engine) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        session.add(User(username="aaron", display_name="Aaron", roles="nurse"))
    at = page_app(USERS, roles=("admin",)).run()
    _text_input(at, "Full name", "details_").input("")
    _text_input(at, "E-mail", "details_").input("not-an-address")
    next(m for m in at.multiselect if m.label == "Roles" and m.value == ["nurse"]).set_value([])
    next(b for b in at.button if b.label == "Save details and roles").click()
    at.run()
    assert messages_under(at, _text_input(at, "Full name", "details_")) == ["Full name is required"]
    assert messages_under(at, _text_input(at, "E-mail", "details_")) == ["E-mail is not an e-mail address"]
    roles = next(m for m in at.multiselect if m.label == "Roles" and (m.form_id or "").startswith("details_"))
    assert messages_under(at, roles) == ["Roles: choose at least one role"]
    assert _user(app_db, "aaron").role_list == ["nurse"]  # type: ignore[union-attr]


def test_own_account_cannot_be_deactivated_from_the_page(page_app: AppFactory) -> None:
    at = page_app(USERS, roles=("admin",)).run()
    assert next(b for b in at.button if b.label == "Deactivate").disabled


def _fill_new_site(at: AppTest, **values: str) -> None:
    for label, value in values.items():
        _text_input(at, label, "new_site").input(value)


def test_add_site_and_see_the_rems_warning(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(SITES, roles=("admin",)).run()
    assert not at.exception
    _fill_new_site(at, **{"Site name": "Riverside", "State": "OR", "Phone": "503 555 0100",
                          "Organisation NPI": VALID_NPI})
    next(b for b in at.button if b.label == "Add site").click()
    at.run()
    assert not at.exception
    assert shown(at.success[0].value) == "Site Riverside added."
    assert "Riverside: REMS outpatient-setting certification id and date not recorded" in shown(at.warning[0].value)
    with Session(app_db) as session:
        site = session.exec(select(Site)).one()
    assert (site.name, site.state, site.phone) == ("Riverside", "OR", "503-555-0100")


def test_bad_site_shows_messages_and_saves_nothing(page_app: AppFactory, app_db: Engine) -> None:
    at = page_app(SITES, roles=("admin",)).run()
    _fill_new_site(at, **{"Site name": "Riverside", "Organisation NPI": "1234567890", "Tax id (TIN)": "123",
                          "Fax": "555"})
    next(b for b in at.button if b.label == "Add site").click()
    at.run()
    assert messages_under(at, _text_input(at, "Organisation NPI", "new_site")) == [
        "Organisation NPI: this NPI fails its check digit; check for a typo"]
    assert messages_under(at, _text_input(at, "Tax id (TIN)", "new_site")) == [
        "Tax id (TIN): a tax id (TIN) looks like 12-3456789"]
    assert messages_under(at, _text_input(at, "Fax", "new_site")) == [
        "Fax: fax needs 10 digits, like 217-555-0100"]
    with Session(app_db) as session:
        assert session.exec(select(Site)).all() == []


def test_edit_site_and_stale_edit(page_app: AppFactory, app_db: Engine) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        make_site(session, name="Eastside", rems_certified_on=date(2024, 1, 1))
    at = page_app(SITES, roles=("admin",)).run()
    assert not at.warning
    _text_input(at, "City", "site_").input("Salem")
    next(b for b in at.button if b.label == "Save site").click()
    at.run()
    assert shown(at.success[0].value) == "Site saved."
    with unit_of_work(app_db, actor="someone") as session:
        session.exec(select(Site)).one().city = "Bend"
    _text_input(at, "City", "site_").input("Eugene")
    next(b for b in at.button if b.label == "Save site").click()
    at.run()
    assert "changed by someone else" in shown(at.error[0].value)
    with Session(app_db) as session:
        assert session.exec(select(Site)).one().city == "Bend"


def test_add_prescriber(page_app: AppFactory, app_db: Engine) -> None:
    with unit_of_work(app_db, actor="setup") as session:
        make_site(session, name="Eastside")
    at = page_app(SITES, roles=("admin",)).run()
    for label, value in {"First name": "Rae", "Last name": "Okafor", "NPI": "1245319599"}.items():
        _text_input(at, label, "new_prescriber").input(value)
    site_picker = next(s for s in at.selectbox if s.label == "Site" and (s.form_id or "").startswith("new_prescriber"))
    site_picker.select_index(1)
    next(b for b in at.button if b.label == "Add prescriber").click()
    at.run()
    assert shown(at.success[0].value) == "Prescriber added."
    with Session(app_db) as session:
        prescriber = session.exec(select(Prescriber)).one()
        site = session.exec(select(Site)).one()
    assert (prescriber.display_name, prescriber.site_id) == ("Rae Okafor", site.id)
    # A second prescriber with the same NPI is refused next to the field.
    for label, value in {"First name": "Sam", "Last name": "Lee", "NPI": "1245319599"}.items():
        _text_input(at, label, "new_prescriber").input(value)
    next(b for b in at.button if b.label == "Add prescriber").click()
    at.run()
    assert messages_under(at, _text_input(at, "NPI", "new_prescriber")) == [
        "NPI: another prescriber already has this NPI"]
