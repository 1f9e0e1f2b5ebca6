"""Screen code passes every value it draws as markdown through `ui.text.esc` (a static check of the source).

Streamlit renders markdown in text elements, alerts, widget labels, help text, tabs and expanders. An
argument there may be a literal, an ALL_CAPS constant defined in code, or an f-string / concatenation
whose every interpolated value is `esc(...)`, `len(...)`, a number or date with a format spec, or a call
of a `*_md` function (which returns markup built the same way; its returns are held to this rule too).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
# ui/text.py is the helper itself.
SCREEN_FILES = sorted(
    p for p in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")] if p.name != "text.py"
)

# Calls whose first positional argument (or `label=` / `body=`) Streamlit renders as markdown.
MARKDOWN_FIRST_ARG = {
    "markdown", "caption", "write", "title", "header", "subheader", "success", "info", "warning", "error",
    "toast", "expander", "metric", "button", "checkbox", "toggle", "radio", "selectbox", "multiselect",
    "text_input", "text_area", "number_input", "date_input", "time_input", "download_button",
    "form_submit_button", "link_button", "popover", "page_link", "file_uploader", "slider", "select_slider",
    "segmented_control", "pills", "status", "spinner", "color_picker", "feedback", "tabs",
}
MARKDOWN_KEYWORDS = {"label", "body", "help", "placeholder", "captions"}
# Calls whose option labels are drawn as markdown: their format_func must be safe too.
MARKDOWN_OPTIONS = {"radio", "segmented_control", "pills"}
NOT_STREAMLIT = {"logger", "logging", "log", "parser", "re", "str"}
SAFE_CALLS = {"esc", "len"}
# Number formats (which raise on a string) and strftime patterns.
SAFE_SPEC = re.compile(r"^[<>^=]?[+\- ]?#?0?\d*([,_](\.\d+)?[bcdeEfFgGnoxX%]?|(\.\d+)?[bcdeEfFgGnoxX%])$|%")


@dataclass(frozen=True)
class Violation:
    """One place where a value reaches markdown without the helper."""

    where: str
    code: str


def _call_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_constant_name(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.isupper()
    if isinstance(node, ast.Subscript):
        return _is_constant_name(node.value)
    return False


def safe(node: ast.expr) -> bool:
    """True when `node` can only produce escaped or constant markup."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(part, ast.Constant) or _safe_interpolation(part) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return safe(node.left) and safe(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return any(isinstance(side, ast.Constant) and isinstance(side.value, str) for side in (node.left, node.right))
    if isinstance(node, ast.IfExp):
        return safe(node.body) and safe(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(safe(value) for value in node.values)
    if isinstance(node, ast.List | ast.Tuple):
        return all(safe(item) for item in node.elts)
    if isinstance(node, ast.Call):
        name = _call_name(node.func)
        if name in SAFE_CALLS or (name or "").endswith("_md"):
            return True
        if isinstance(node.func, ast.Attribute) and node.func.attr == "get" and (
            _is_constant_name(node.func.value)
            or (isinstance(node.func.value, ast.Dict) and all(safe(v) for v in node.func.value.values))
        ):
            return all(safe(arg) for arg in node.args[1:])
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            return safe(node.func.value) and all(safe(arg) for arg in node.args)
        return False
    if isinstance(node, ast.Starred):
        return safe(node.value)
    if isinstance(node, ast.ListComp | ast.GeneratorExp):
        return safe(node.elt)
    if isinstance(node, ast.Name) and node.id.endswith("_md"):
        return True
    if isinstance(node, ast.Attribute) and node.attr.endswith("_md"):
        return True
    return _is_constant_name(node)


def _safe_interpolation(part: ast.expr) -> bool:
    assert isinstance(part, ast.FormattedValue)
    spec = part.format_spec
    if isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values):
        text = "".join(str(v.value) for v in spec.values if isinstance(v, ast.Constant))
        if SAFE_SPEC.search(text):
            return True
    return safe(part.value)


def violations_in(path: Path) -> list[Violation]:
    """Every markdown-rendering call in `path` whose argument is not provably escaped."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[Violation] = []

    def flag(node: ast.AST) -> None:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        found.append(Violation(f"{shown}:{getattr(node, 'lineno', 0)}", ast.unparse(node)[:120]))

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_md"):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None and not safe(inner.value):
                    flag(inner)
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id.endswith("_md") for target in node.targets
        ) and not safe(node.value):
            flag(node)
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if name not in MARKDOWN_FIRST_ARG or (isinstance(receiver, ast.Name) and receiver.id in NOT_STREAMLIT):
            continue
        arguments = list(node.args) if name == "write" else [] if name == "page_link" else list(node.args[:1])
        arguments += [kw.value for kw in node.keywords if kw.arg in MARKDOWN_KEYWORDS]
        if name in MARKDOWN_OPTIONS:
            arguments += [kw.value.body for kw in node.keywords
                          if kw.arg == "format_func" and isinstance(kw.value, ast.Lambda)]
        for argument in arguments:
            if not safe(argument):
                flag(argument)
    return found


def test_screen_files_are_found() -> None:
    assert len(SCREEN_FILES) > 20


@pytest.mark.parametrize("path", SCREEN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_markdown_argument_is_escaped(path: Path) -> None:
    problems = violations_in(path)
    assert not problems, "\n".join(f"{v.where}: {v.code}" for v in problems)


@pytest.mark.parametrize(
    ("source", "is_safe"),
    [
        ("st.markdown(f'**{patient.name}**')", False),
        ("st.markdown(f'**{esc(patient.name)}**')", True),
        ("st.caption('a' + note)", False),
        ("st.caption('a' + esc(note))", True),
        ("st.title(name)", False),
        ("st.title(CONSTANT)", True),
        ("st.subheader(f'{when:%m/%d/%Y}')", True),
        ("st.subheader(f'{count:,}')", True),
        ("st.subheader(f'{name:>10}')", False),
        ("st.write(x)", False),
        ("st.error(str(exc))", False),
        ("st.error(esc(exc))", True),
        ("col.button(f'Open {len(items)}')", True),
        ("st.info(' · '.join(esc(p) for p in parts))", True),
        ("st.info(' · '.join(parts))", False),
        ("st.tabs([f'{name}', 'b'])", False),
        ("st.tabs([f'{esc(name)}', 'b'])", True),
        ("st.expander('x', help=tip)", False),
        ("st.radio('r', opts, format_func=lambda o: o.name)", False),
        ("st.radio('r', opts, format_func=lambda o: esc(o.name))", True),
        ("def line_md(p):\n    return f'**{p.name}**'", False),
        ("title_md = f'{esc(p.name)}'", True),
        ("logger.info(f'{p.name}')", True),
    ],
)
def test_rule_tells_escaped_from_raw(source: str, is_safe: bool, tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(source)
    assert (not violations_in(sample)) is is_safe
