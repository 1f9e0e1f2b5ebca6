"""Letters: written from the checklist evidence (and, for appeals, the denial reason)."""

from __future__ import annotations

import io

import pypdf

from desk.pdf.letters import appeal_letter, medical_necessity_letter
from desk.pdf.sample_data import sample_pa_case
from tests.desk.pdf.pdfkit import pdftotext


def _text(data: bytes) -> str:
    return " ".join(pdftotext(data).split())


def test_medical_necessity_letter_states_each_criterion_with_its_evidence() -> None:
    case = sample_pa_case()
    data = medical_necessity_letter(case)
    assert data == medical_necessity_letter(case), "deterministic output"
    text = _text(data)
    assert "Letter of medical necessity" in text
    assert "Jordan Q. Sample" in text and "02/29/1984" in text and "XQB123456789" in text
    assert "NDC 50458-028-03" in text and "HCPCS J0013" in text and "F33.2" in text
    assert "NPI 1234567893" in text
    for criterion in case["checklist"]["criteria"]:
        for sentence in criterion["evidence"]:
            assert " ".join(sentence.split()[:4]) in text
    assert "Venlafaxine XR" in text and "MADRS 34" in text
    assert "Denial" not in text


def test_expedited_request_is_said_in_the_subject() -> None:
    case = sample_pa_case()
    case["request"]["urgency"] = "expedited"
    assert "expedited review requested" in _text(medical_necessity_letter(case))


def test_appeal_letter_quotes_the_denial_and_answers_it() -> None:
    case = sample_pa_case()
    data = appeal_letter(case)
    text = _text(data)
    assert "appeal" in text.lower()
    assert "DN-88120457" in text and "03/12/2026" in text
    assert "two antidepressant trials of adequate duration" in text
    assert "Sertraline 200 mg daily for 10 weeks" in text
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) >= 1


def test_markup_in_case_text_is_escaped() -> None:
    case = sample_pa_case()
    case["other_criteria"] = "Score <b>27</b> & rising"
    assert "Score <b>27</b> & rising" in _text(medical_necessity_letter(case))
