"""Hostile FHIR input: a synthetic history with values replaced at random paths is read into facts or refused
with a message, never a crash; text mutations of the file likewise."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.demo_ehr import as_bundle, depression_history
from desk.fhir.ehr_import import ImportRefused, SourceFile, read_fhir_export

TODAY = date(2026, 12, 2)
BASE = as_bundle(depression_history(key="f1", mrn="FZ-1", first_name="Ann", last_name="Example",
                                    birth_date=date(1980, 1, 1), today=TODAY))
TEXT = json.dumps(BASE, indent=1)
values = (st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
          | st.text(max_size=20) | st.sampled_from(["2099-01-01", "2026-13-45", "", "Patient/nobody", "#x", "mg",
                                                   "{tbl}", "IMP", "F33.2", "44261-6"])
          | st.lists(st.none(), max_size=2) | st.just({}))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


PATHS = _paths(BASE)


def _read(data: bytes) -> None:
    try:
        imported = read_fhir_export([SourceFile("fuzz.json", data)], today=TODAY, known_payers={"cigna"})
    except ImportRefused as refused:
        assert str(refused)
        return
    assert all(p.reason and p.resource_id for p in imported.problems)
    for history in imported.patients:
        for fact in history.facts:
            assert fact.provenance


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), values), min_size=1, max_size=4))
def test_values_replaced_anywhere(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    document = copy.deepcopy(BASE)
    for path, value in changes:
        node: Any = document
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    _read(json.dumps(document).encode())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(TEXT) - 1), st.integers(0, 40), st.text(max_size=5))
def test_text_cut_or_spliced(at: int, length: int, insert: str) -> None:
    _read((TEXT[:at] + insert + TEXT[at + length:]).encode("utf-8", "surrogatepass"))
