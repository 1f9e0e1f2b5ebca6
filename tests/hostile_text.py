"""A corpus of hostile text for every free-text field, and the check that none of it is drawn as markup.

Each payload carries the word HOSTILE so a test can tell it was shown; addresses point at 127.0.0.9, where
nothing listens, so a request for them is proof that markup from stored text was rendered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from desk.database import unit_of_work
from desk.models import (
    CurrentMedication,
    MedicationTrial,
    PaAttachment,
    PaAuthorization,
    Patient,
    PriorAuthCase,
    Site,
    TreatmentSession,
    User,
)

MARKER = "HOSTILE"
ELSEWHERE = "127.0.0.9"
PAYLOADS: tuple[str, ...] = (
    "<svg><script>window.__hostile=1</script></svg>HOSTILE",
    f'<iframe src="http://{ELSEWHERE}:9/frame">HOSTILE</iframe>',
    f'<meta http-equiv="refresh" content="0;url=http://{ELSEWHERE}:9/meta">HOSTILE',
    f'<style>*{{display:none}}</style><form action="http://{ELSEWHERE}:9/form"><button>HOSTILE</button></form>',
    f"Ann ![HOSTILE](http://{ELSEWHERE}:9/img.png) [Session expired - sign in again](http://{ELSEWHERE}:9/phish)",
    "[HOSTILE](javascript:window.__hostile=2)",
    f"$\\href{{http://{ELSEWHERE}:9/k}}{{HOSTILE}}$ and $$x^2$$",
    "# HOSTILE heading\n| a | b |\n|---|---|\n| 1 | 2 |",
    "**HOSTILE** _x_ `code` :red[HOSTILE] :material/block: <b onmouseover=window.__hostile=3>x</b>",
    f"http://{ELSEWHERE}:9/auto www.hostile.example HOSTILE@hostile.example",
    "\u202eHOSTILE\u202c\u200b zero\u200dwidth " + "long " * 600,
)
# Pieces of the payloads that only appear unescaped when stored text was drawn as markup.
RAW_MARKUP = (
    "<svg", "<iframe", "<meta", "<style", "<form", "<b ", f"](http://{ELSEWHERE}", "](javascript", "![HOSTILE",
    "$\\href", "$$", "# HOSTILE", "|---|", "**HOSTILE", ":red[HOSTILE", "`code`", f"http://{ELSEWHERE}",
    "www.hostile", "@hostile.example",
)
# Proto fields that Streamlit renders as markdown, and the elements whose options it renders as markdown.
MARKDOWN_FIELDS = frozenset({"body", "label", "help", "placeholder"})
MARKDOWN_OPTION_ELEMENTS = frozenset({"Radio", "ButtonGroup"})


def payload(index: int, *, multiline: bool = False) -> str:
    """The corpus entry for the `index`-th field filled (cycling); one line unless the field is a multi-line
    note (the desk refuses line breaks in one-line fields, desk/validation.py)."""
    text = PAYLOADS[index % len(PAYLOADS)]
    return text if multiline else text.replace("\n", " ")


def fill_with_hostile_text(engine: Engine) -> None:
    """Overwrite the free-text fields of every row the demo made (names, addresses, drugs, notes, reasons,
    attachment titles and file names, site names, display names) with corpus entries."""
    counter = iter(range(10**6))
    with unit_of_work(engine, actor="hostile-corpus") as session:
        for patient in session.exec(select(Patient)).all():
            patient.first_name = payload(next(counter))
            patient.last_name = payload(next(counter)) + " " + MARKER
            patient.address_line = payload(next(counter))
            patient.city = payload(next(counter))
            session.add(patient)
        for trial in session.exec(select(MedicationTrial)).all():
            trial.notes = payload(next(counter), multiline=True)
            session.add(trial)
        for medication in session.exec(select(CurrentMedication)).all():
            medication.drug = payload(next(counter))
            session.add(medication)
        for case in session.exec(select(PriorAuthCase)).all():
            if case.status in ("denied", "appealed"):
                case.denial_reason = payload(next(counter), multiline=True)
            case.notes = payload(next(counter), multiline=True)
            session.add(case)
        for authorization in session.exec(select(PaAuthorization)).all():
            authorization.auth_number = payload(next(counter))[:60]
            session.add(authorization)
        for attachment in session.exec(select(PaAttachment)).all():
            attachment.title = payload(next(counter))
            session.add(attachment)
        for treatment in session.exec(select(TreatmentSession)).all():
            treatment.lot_number = payload(next(counter))[:40]
            treatment.sae_details = payload(next(counter), multiline=True)
            session.add(treatment)
        for site in session.exec(select(Site)).all():
            site.name = f"{payload(next(counter))} {site.id}"
            session.add(site)
        for user in session.exec(select(User)).all():
            user.display_name = payload(next(counter))
            session.add(user)


def markdown_strings(message: Any, element: str = "") -> Iterator[str]:
    """Every string of an element proto message (nested messages included) that Streamlit renders as markdown."""
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            children = value if field.is_repeated else [value]
            for child in children:
                yield from markdown_strings(child, type(child).__name__)
        elif field.type == field.TYPE_STRING:
            values = list(value) if field.is_repeated else [value]
            if field.name in MARKDOWN_FIELDS or (field.name == "options" and element in MARKDOWN_OPTION_ELEMENTS):
                yield from values


_UNESCAPED = [(fragment, re.compile(r"(?<!\\)" + re.escape(fragment))) for fragment in RAW_MARKUP]


def raw_markup_in(texts: Any) -> list[tuple[str, str]]:
    """(fragment, text) pairs where a corpus fragment appears in markdown without its escaping backslash."""
    return [(fragment, text[:160]) for text in texts for fragment, pattern in _UNESCAPED if pattern.search(text)]
