"""Letters: written from the case's facts; each sentence states a fact or says what it is."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pypdf

from desk.pdf.letters import appeal_letter, medical_necessity_letter
from desk.pdf.sample_data import sample_case_facts
from desk.prior_auth.facts import CriterionFacts, SignoffFacts
from tests.desk.pdf.pdfkit import pdftotext_raw


def _text(data: bytes) -> str:
    return " ".join(pdftotext_raw(data).split())


def test_medical_necessity_letter_states_each_criterion_with_its_evidence() -> None:
    facts = sample_case_facts()
    data = medical_necessity_letter(facts)
    assert data == medical_necessity_letter(facts), "deterministic output"
    text = _text(data)
    assert "Letter of medical necessity" in text
    assert "Jordan Q. Sample" in text and "02/29/1984" in text and "XQB123456789" in text
    assert "NDC 50458-028-03" in text and "HCPCS J0013" in text and "F33.2" in text
    assert "644 units for 8 sessions" in text  # 56 mg on day 1, then 7 x 84 mg, 1 unit = 1 mg
    assert "NPI 1234567893" in text
    for criterion in facts.criteria:
        for sentence in criterion.evidence:
            assert " ".join(sentence.split()[:4]) in text
    assert "The current depressive episode began 03/01/2025" in text
    assert "Current oral antidepressant: Escitalopram 20 mg daily" in text
    assert "enrollment submitted 02/24/2026" in text
    assert "Venlafaxine XR" in text and "MADRS 34" in text
    assert "Denial" not in text


def test_trials_are_grouped_by_the_episode_start() -> None:
    text = _text(medical_necessity_letter(sample_case_facts()))
    current = text.index("Trials in the current episode (since 03/01/2025)")
    earlier = text.index("Trials in earlier episodes (before 03/01/2025)")
    assert current < text.index("Sertraline") < earlier < text.index("Citalopram")


def test_expedited_request_is_said_in_the_subject() -> None:
    facts = sample_case_facts()
    facts = replace(facts, request=replace(facts.request, urgency="expedited"))
    assert "expedited review requested" in _text(medical_necessity_letter(facts))


def test_appeal_letter_quotes_the_denial_and_answers_it() -> None:
    data = appeal_letter(sample_case_facts(appeal=True))
    text = _text(data)
    assert "appeal" in text.lower()
    assert "DN-88120457" in text and "03/12/2026" in text
    assert "two antidepressant trials of adequate duration" in text
    assert "The prescriber attests (on 02/25/2026): Diagnosis made by the treating psychiatrist." in text
    assert "with the attestations stated above, meet the criteria" in text
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) >= 1


def test_an_exception_is_never_called_met() -> None:
    facts = sample_case_facts(appeal=True)
    excepted = CriterionFacts("Three trials in the current episode", "excepted", (),
                              exception=SignoffFacts("Two trials failed; a third would delay care.", date(2026, 3, 1)))
    text = _text(appeal_letter(replace(facts, criteria=(*facts.criteria, excepted), conclusion="met_by_exception")))
    assert "An exception is requested because: Two trials failed; a third would delay care." in text
    assert "meet the criteria" not in text and "clinical exception is requested" in text


def test_an_uncertified_setting_is_never_called_certified() -> None:
    facts = sample_case_facts()
    uncertified = replace(facts, rems=replace(facts.rems, certified_on=None))
    text = _text(medical_necessity_letter(uncertified))
    assert "is certified in the SPRAVATO REMS" not in text
    assert "No SPRAVATO REMS certification of Prairie Mind Clinic is on record" in text
    later = replace(facts, rems=replace(facts.rems, certified_on=date(2026, 4, 1)))
    assert "is not yet certified in the SPRAVATO REMS on the requested start date 03/09/2026" in _text(
        medical_necessity_letter(later))


def test_markup_in_case_text_is_escaped() -> None:
    facts = sample_case_facts()
    marked = replace(facts, criteria=(CriterionFacts("Score <b>27</b> & rising", "met", ("a <i>b</i>",)),))
    text = _text(medical_necessity_letter(marked))
    assert "Score <b>27</b> & rising" in text and "a <i>b</i>" in text
