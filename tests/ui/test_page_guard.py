"""Every page guards itself: the guard is its first statement after the imports, and it shows nothing else to
the wrong visitor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1.element_tree import Block

from desk.navigation import ALL_ROLES, PAGES, PageSpec
from tests.ui.conftest import ROOT, AppFactory
from tests.ui.screen import shown
from ui.guard import REFUSAL, SIGN_IN_PROMPT

PAGE_IDS = [spec.url_path for spec in PAGES]
DENIED = [
    pytest.param(spec, role, id=f"{spec.url_path}-{role}")
    for spec in PAGES
    for role in ALL_ROLES
    if role not in spec.roles
]


def _statements(path: Path) -> list[ast.stmt]:
    body = ast.parse(path.read_text(encoding="utf-8")).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


def _rendered(block: Block) -> list[object]:
    """Every element drawn in `block` (containers themselves excluded)."""
    return [node for node in block if not isinstance(node, Block)]


def test_every_page_file_is_registered() -> None:
    files = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert files <= {spec.path for spec in PAGES}, "register each page in desk.navigation.PAGES"


@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_guard_is_the_first_statement(spec: PageSpec) -> None:
    """Imports come first (they draw nothing); the first statement after them calls the guard."""
    body = _statements(ROOT / spec.path)
    imports = [s for s in body if isinstance(s, ast.Import | ast.ImportFrom)]
    rest = body[len(imports):]
    assert body[:len(imports)] == imports, f"{spec.path}: imports belong at the top, before the guard"
    assert rest, f"{spec.path} draws nothing"
    assert any(isinstance(s, ast.ImportFrom) and s.module == "ui.guard"
               and "require_role" in [alias.name for alias in s.names] for s in imports)
    first = rest[0]
    assert isinstance(first, ast.Assign), f"{spec.path}: the first statement after the imports must call the guard"
    call = first.value
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "require_role"
    assert [ast.literal_eval(arg) for arg in call.args] == [spec.path], "the guard must name the page's own file"


@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_signed_out_visitor_sees_only_the_sign_in_prompt(page_app: AppFactory, spec: PageSpec) -> None:
    at = page_app(spec.path).run()
    assert not at.exception
    assert [shown(e.value) for e in at.info] == [f"{SIGN_IN_PROMPT} [Go to sign-in](/)"]
    assert len(_rendered(at.main)) == 1, "nothing but the prompt may render"
    assert _rendered(at.sidebar) == []


@pytest.mark.parametrize(("spec", "role"), DENIED)
def test_role_not_allowed_sees_only_the_refusal(page_app: AppFactory, spec: PageSpec, role: str) -> None:
    at = page_app(spec.path, roles=(role,)).run()
    assert not at.exception
    assert [shown(e.value) for e in at.error] == [REFUSAL]
    assert len(_rendered(at.main)) == 1, "nothing but the refusal may render"
    assert _rendered(at.sidebar) == []


def test_every_page_refuses_someone_or_is_open_to_all_roles() -> None:
    # A page with roles outside ALL_ROLES would be reachable by nobody; catch typos in the registry.
    for spec in PAGES:
        assert spec.roles and set(spec.roles) <= set(ALL_ROLES), spec.path
