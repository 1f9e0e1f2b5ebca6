"""Payer forms admin page: guard, field listing, suggestion, map check, preview, save."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from desk.models import PayerForm
from tests.ui.conftest import AppFactory
from tests.ui.screen import shown

PAGE = "pages/forms_admin.py"


def _pdf(shared_dir: Path, name: str) -> bytes:
    return (shared_dir / "fixtures" / "pdf" / name).read_bytes()


def test_signed_out_sees_only_the_prompt(page_app: AppFactory) -> None:
    at = page_app(PAGE).run()
    assert "Please sign in" in shown(at.info[0].value)
    assert not at.title


def test_billing_role_is_refused(page_app: AppFactory) -> None:
    at = page_app(PAGE, roles=("billing", "nurse")).run()
    assert shown(at.error[0].value) == "Your role does not allow this page."
    assert not at.title


def test_admin_without_upload_is_asked_for_one(page_app: AppFactory) -> None:
    at = page_app(PAGE, roles=("admin",)).run()
    assert not at.exception
    assert shown(at.title[0].value) == "Payer forms"
    assert "Upload the payer's fillable PDF" in shown(at.info[0].value)


def test_encrypted_upload_is_refused(page_app: AppFactory, shared_dir: Path) -> None:
    at = page_app(PAGE, roles=("admin",))
    at.session_state["forms_admin_pdf"] = _pdf(shared_dir, "libreoffice-writer-password.pdf")
    at.run()
    assert "password-protected" in shown(at.error[0].value)


def test_fields_suggestion_check_preview_and_save(page_app: AppFactory, app_db: Engine, shared_dir: Path) -> None:
    at = page_app(PAGE, roles=("admin",))
    at.session_state["forms_admin_pdf"] = _pdf(shared_dir, "illinois-real-estate-power-of-attorney-form.pdf")
    at.run()
    assert not at.exception
    assert shown(at.subheader[0].value) == "Fields (17 on 3 pages)"
    fields = at.dataframe[0].value
    assert "Phone number where Principal can be contacted" in set(fields["field"])
    assert "patient.state" in at.text_area[0].value  # suggested from the field name "State of"

    at.text_area[0].set_value("fields:\n  Dated: {path: patient.nickname}\n").run()
    next(b for b in at.button if b.label == "Check map").click().run()
    assert "patient.nickname" in shown(at.error[0].value) and "does not exist" in shown(at.error[0].value)

    good = "fields:\n  Dated: {path: prepared_on}\n  Address of Principal: {path: patient.address_line}\n"
    at.text_area[0].set_value(good).run()
    next(b for b in at.button if b.label == "Check map").click().run()
    assert shown(at.success[0].value) == "The map fits this PDF and the PA case data."
    next(b for b in at.button if b.label == "Preview with demo case").click().run()
    assert not at.exception and not at.error
    assert len(at.image) == 1
    assert at.download_button[0].label == "Download preview PDF"

    at.text_input[0].set_value("Bad Id").run()
    at.text_input[1].set_value("Illinois form").run()
    next(b for b in at.button if b.label == "Save form").click().run()
    assert "payer_id" in shown(at.error[0].value)
    with Session(app_db) as session:
        assert session.exec(select(PayerForm)).all() == []

    at.text_input[0].set_value("il-medicaid").run()
    next(b for b in at.button if b.label == "Save form").click().run()
    assert shown(at.success[0].value) == "Saved revision 1 of the form for payer il-medicaid."
    with Session(app_db) as session:
        stored = session.exec(select(PayerForm)).one()
    assert stored.field_map_yaml == good and stored.uploaded_by == "tester"


def test_preview_shows_cut_values_and_refuses_values_that_do_not_fit(page_app: AppFactory, shared_dir: Path) -> None:
    at = page_app(PAGE, roles=("admin",))
    at.session_state["forms_admin_pdf"] = _pdf(shared_dir, "illinois-real-estate-power-of-attorney-form.pdf")
    at.run()
    at.text_area[0].set_value("fields:\n  Dated: {path: other_criteria}\n").run()
    next(b for b in at.button if b.label == "Preview with demo case").click().run()
    assert not at.exception and not at.image
    assert at.error[0].value == "Cannot preview:"
    problems = at.dataframe[-1].value
    assert list(problems["field"]) == ["Dated"]
    assert problems["problem"][0].startswith("the value is ") and "the box holds" in problems["problem"][0]

    at.text_area[0].set_value("fields:\n  Dated: {path: other_criteria, overflow: truncate}\n").run()
    next(b for b in at.button if b.label == "Preview with demo case").click().run()
    assert not at.exception and len(at.image) == 1
    assert at.warning[0].value == "The preview filled, with these warnings:"
    assert at.text[0].value.startswith("Dated: cut from ")
