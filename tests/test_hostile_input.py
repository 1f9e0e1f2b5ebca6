"""Hostile input: every file the desk reads gives a valid result or a clear, specific refusal, never a crash.

Property-based (hypothesis) fuzzing of payer policy files, patient CSV imports, case files and form field maps,
from arbitrary structures and from mutations of the shipped files; and a corpus of bad PDFs checked by
desk.pdf.inspect in a child process under a time limit and an address-space limit.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from desk.errors import ValidationFailed
from desk.imports import ImportFailed, import_patients
from desk.models import AuditEvent, Coverage, Patient
from desk.pdf.fieldmap import FieldMap, parse_field_map
from desk.policies.case import CaseFacts, read_case
from desk.policies.drugs import default_drugs
from desk.policies.loader import parse_policy
from tests.desk.pdf.pdfkit import encrypted, one_page, plain_pdf, raw_pdf
from tests.desk.policies.cases import AS_OF, strong_case
from tests.factories import make_site

ROOT = Path(__file__).resolve().parent.parent
PAYER_FILES = sorted((ROOT / "payers").glob("*.yaml"))
FORM_MAPS = sorted((ROOT / "forms").glob("*.yaml"))
DRUGS = default_drugs()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Arbitrary YAML/JSON-like documents: scalars, lists and mappings nested a few levels deep.
scalars = (st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True)
           | st.text(max_size=40) | st.dates().map(str))
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=15), inner, max_size=6),
    max_leaves=30,
)


def _mutations(text: str) -> st.SearchStrategy[str]:
    """`text` with a line dropped, duplicated or swapped, or a few characters replaced, inserted or deleted."""
    lines = text.splitlines(keepends=True)

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        out = list(lines)
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["drop", "dup", "swap", "char", "insert", "cut"]))
            if not out:
                break
            i = draw(st.integers(0, len(out) - 1))
            if kind == "drop":
                del out[i]
            elif kind == "dup":
                out.insert(i, out[i])
            elif kind == "swap":
                j = draw(st.integers(0, len(out) - 1))
                out[i], out[j] = out[j], out[i]
            elif kind == "cut":
                out = out[:i]
            else:
                line = out[i]
                k = draw(st.integers(0, max(0, len(line) - 1)))
                char = draw(st.sampled_from([*":-[]{}'\"#&*!|>%@` \t\n0x", "\u00e9", "\x00", "\ufeff"]))
                out[i] = line[:k] + char + line[k + (1 if kind == "char" else 0):]
        return "".join(out)

    return mutate()


def _yaml_or_raw(document: Any) -> str:
    try:
        return yaml.safe_dump(document, allow_unicode=True)
    except yaml.YAMLError:
        return repr(document)


# --- payer policy files --------------------------------------------------------------------------------------

def _policy_outcome(text: str) -> None:
    policy, problems = parse_policy(text, file_name="fuzz.yaml", drugs=DRUGS)
    if policy is None:
        assert problems, "an invalid policy file must come with at least one problem"
    for problem in problems:
        assert str(problem).strip() and "fuzz.yaml" in str(problem), problem


@FUZZ
@given(documents)
def test_policy_loader_on_arbitrary_documents(document: Any) -> None:
    _policy_outcome(_yaml_or_raw(document))


@FUZZ
@given(st.text(max_size=400))
def test_policy_loader_on_arbitrary_text(text: str) -> None:
    _policy_outcome(text)


@pytest.mark.parametrize("path", PAYER_FILES, ids=[p.stem for p in PAYER_FILES])
def test_policy_loader_on_mutated_payer_files(path: Path) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_mutations(path.read_text(encoding="utf-8")))
    def check(text: str) -> None:
        _policy_outcome(text)

    check()


# --- case files ------------------------------------------------------------------------------------------------

def _case_outcome(text: str) -> None:
    try:
        assert isinstance(read_case(text, as_of=AS_OF, drugs=DRUGS), CaseFacts)
    except ValidationFailed as refused:
        assert refused.errors and all(e.field and e.message for e in refused.errors)


@FUZZ
@given(documents)
def test_case_reader_on_arbitrary_documents(document: Any) -> None:
    _case_outcome(json.dumps(document, default=str))


@FUZZ
@given(st.text(max_size=300))
def test_case_reader_on_arbitrary_text(text: str) -> None:
    _case_outcome(text)


@FUZZ
@given(_mutations(json.dumps(strong_case(), indent=1, default=str)))
def test_case_reader_on_mutated_case_files(text: str) -> None:
    _case_outcome(text)


# --- form field maps -------------------------------------------------------------------------------------------

def _map_outcome(text: str) -> None:
    try:
        assert isinstance(parse_field_map(text, source="fuzz.yaml"), FieldMap)
    except ValidationFailed as refused:
        assert refused.errors and all(e.field and e.message for e in refused.errors)


@FUZZ
@given(documents)
def test_field_map_parser_on_arbitrary_documents(document: Any) -> None:
    _map_outcome(_yaml_or_raw(document))


@FUZZ
@given(st.dictionaries(st.text(max_size=12), documents, max_size=4).map(lambda d: {"fields": d}))
def test_field_map_parser_on_arbitrary_field_entries(document: Any) -> None:
    _map_outcome(_yaml_or_raw(document))


@pytest.mark.parametrize("path", FORM_MAPS, ids=[p.stem for p in FORM_MAPS])
def test_field_map_parser_on_mutated_maps(path: Path) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_mutations(path.read_text(encoding="utf-8")))
    def check(text: str) -> None:
        _map_outcome(text)

    check()


# --- patient CSV imports ---------------------------------------------------------------------------------------

HEADER = ["site", "mrn", "first_name", "last_name", "dob", "sex", "state", "zip_code", "phone", "payer_id",
          "plan_type", "member_id", "coverage_start"]
VALID_ROW = ["Fuzz Clinic", "FZ0001", "Ada", "Fuzzworth", "1980-01-02", "F", "IL", "62701", "217-555-0100", "uhc",
             "commercial", "M0001", "2025-01-01"]
cell = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", " ", "2025-02-30", "13/45/1999", "1900-01-01", "2999-01-01", "M", "X", "uhc", "medicare", "Fuzz Clinic",
     "=cmd|' /C calc'!A0", "0" * 300, "\x00", "\"", ",", "\n"])


@st.composite
def csv_files(draw: st.DrawFn) -> str:
    rows = []
    for n in range(draw(st.integers(1, 5))):
        row = list(VALID_ROW)
        row[1] = f"FZ{n:04d}"
        row[11] = f"M{n:04d}"
        for _ in range(draw(st.integers(0, 3))):
            row[draw(st.integers(0, len(row) - 1))] = draw(cell)
        if draw(st.booleans()) and draw(st.booleans()):
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(cell, max_size=2))
        rows.append(row)
    header = list(HEADER)
    if draw(st.integers(0, 9)) == 0:
        header[draw(st.integers(0, len(header) - 1))] = draw(cell)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if draw(st.integers(0, 9)) == 0:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut]
    return text


def _counts(session: Session) -> tuple[int, int, int]:
    return tuple(int(session.exec(select(func.count()).select_from(model)).one())  # type: ignore[return-value]
                 for model in (Patient, Coverage, AuditEvent))


def test_patient_import_on_mutated_files_writes_all_or_nothing(session: Session) -> None:
    make_site(session, name="Fuzz Clinic")
    session.commit()
    known = frozenset({"uhc", "medicare", "medicaid"})

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(csv_files())
    def check(text: str) -> None:
        before = _counts(session)
        try:
            result = import_patients(session, csv_text=text, known_payers=known, today=date(2026, 11, 26))
        except ImportFailed as refused:
            assert refused.problems and all(p.message for p in refused.problems)
            assert _counts(session) == before, "a refused import wrote rows"
        else:
            after = _counts(session)
            assert after[0] - before[0] == result.patients and after[1] - before[1] == result.coverages
        finally:
            session.rollback()

    check()


# --- PDFs, each checked in a child process under a time and an address-space limit ----------------------------

PDF_TIME_LIMIT_S = 30
PDF_MEMORY_LIMIT = 1536 * 1024 * 1024
_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from desk.pdf.inspect import PdfLimits, PdfRejected, check_pdf
data = open(sys.argv[1], "rb").read()
try:
    summary = check_pdf(data, limits=PdfLimits())
except PdfRejected as exc:
    print(json.dumps({{"outcome": "refused", "message": str(exc)}}))
else:
    print(json.dumps({{"outcome": "accepted", "pages": summary.pages}}))
"""


def _truncated() -> bytes:
    data = plain_pdf(pages=3)
    return data[: len(data) // 2]


def _xref_offsets(change: Any) -> bytes:
    head, tail = one_page().split(b"xref\n", 1)
    return head + b"xref\n" + re.sub(rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % change(int(m[1])), tail)


def _garbage_xref() -> bytes:
    data = one_page()
    return data[: data.rindex(b"xref\n")] + b"xref\n0 zz\nnot a table\ntrailer\n<< >>\nstartxref\n12\n%%EOF\n"


def _huge_page_count() -> bytes:
    pages = 20_000
    kids = b" ".join(b"%d 0 R" % (3 + n) for n in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages
    return raw_pdf(objects)


def _lying_page_count() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 2000000000 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"])


def _bomb() -> bytes:
    # 2 GiB of zeros in a 9 MB stream: decoding it whole would break the child's 1.5 GiB address-space limit.
    packer = zlib.compressobj(1)
    chunk = b"\0" * (16 * 1024 * 1024)
    payload = b"".join([*(packer.compress(chunk) for _ in range(128)), packer.flush()])
    return one_page(contents=b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload) + payload
                    + b"\nendstream")


def _deep_nesting() -> bytes:
    return one_page(b"/Deep " + b"[" * 100_000 + b"]" * 100_000)


def _deep_dictionaries() -> bytes:
    return one_page(b"/Deep " + b"<< /A " * 20_000 + b">> " * 20_000)


def _reference_loop() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"])


CORPUS = {
    "empty": lambda: b"",
    "not-a-pdf": lambda: b"PK\x03\x04" + bytes(range(256)) * 10,
    "truncated": _truncated,
    "xref-offsets-past-the-end": lambda: _xref_offsets(lambda offset: 9_999_999_999),
    "xref-offsets-shifted": lambda: _xref_offsets(lambda offset: offset + 7),
    "xref-garbage": _garbage_xref,
    "encrypted-user-password": lambda: encrypted(plain_pdf(), user_password="secret"),
    "encrypted-owner-only-forbidding-forms": lambda: encrypted(plain_pdf(), user_password="", allow_forms=False),
    "xfa-only": lambda: one_page(b"/AcroForm << /Fields [] /XFA [(template) 4 0 R] >>",
                                 b"<< /Length 20 >>\nstream\n<xdp:xdp></xdp:xdp>\nendstream"),
    "huge-page-count": _huge_page_count,
    "decompression-bomb": _bomb,
    "deep-array-nesting": _deep_nesting,
    "deep-dictionary-nesting": _deep_dictionaries,
    "page-tree-loop": _reference_loop,
}


def _inspect_in_child(data: bytes, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "upload.pdf"
    path.write_bytes(data)
    try:
        result = subprocess.run([sys.executable, "-c", _CHILD.format(limit=PDF_MEMORY_LIMIT), str(path)], cwd=ROOT,
                                capture_output=True, timeout=PDF_TIME_LIMIT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"checking the PDF took longer than {PDF_TIME_LIMIT_S} s")
    assert result.returncode == 0, f"the check crashed (exit {result.returncode}): {result.stderr.decode()[-2000:]}"
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome


@pytest.mark.parametrize("name", list(CORPUS))
def test_bad_pdf_is_refused_within_time_and_memory(name: str, tmp_path: Path) -> None:
    outcome = _inspect_in_child(CORPUS[name](), tmp_path)
    assert outcome["outcome"] == "refused", f"{name} was accepted: {outcome}"
    message = outcome["message"]
    assert message and len(message) < 300 and "Traceback" not in message


def test_the_limits_leave_room_for_a_real_document(tmp_path: Path) -> None:
    assert _inspect_in_child(plain_pdf(pages=20), tmp_path) == {"outcome": "accepted", "pages": 20}


def test_an_owner_password_that_allows_form_filling_is_accepted(tmp_path: Path) -> None:
    # Payers distribute forms this way: anyone can open them, and the permissions allow filling them in.
    assert _inspect_in_child(encrypted(plain_pdf(), user_password=""), tmp_path) == {"outcome": "accepted", "pages": 1}


def test_a_page_tree_claiming_two_billion_pages_is_read_as_the_pages_it_has(tmp_path: Path) -> None:
    # The declared /Count is not trusted (nothing is sized from it): the one real page is what counts.
    assert _inspect_in_child(_lying_page_count(), tmp_path) == {"outcome": "accepted", "pages": 1}


def test_mutated_pdfs_are_accepted_or_refused_never_crash() -> None:
    from desk.pdf.inspect import PdfLimits, PdfRejected, check_pdf

    sources = [plain_pdf(pages=2), one_page(b"/AcroForm << /Fields [] >>"), _truncated()]
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(sources), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1,
                                               max_size=8))
    def check(source: bytes, edits: list[tuple[float, int]]) -> None:
        data = bytearray(source)
        for where, value in edits:
            data[min(len(data) - 1, int(where * len(data)))] = value
        try:
            check_pdf(bytes(data), limits=PdfLimits())
        except PdfRejected as refused:
            assert str(refused)

    check()
