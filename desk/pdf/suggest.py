"""Suggest a field map for a payer's PDF from its field names and tooltips."""

from __future__ import annotations

import re
from collections.abc import Sequence

from desk.pdf.fieldmap import FieldMap, FieldRule, dump_field_map, known_paths
from desk.pdf.inspect import FormField
from desk.pdf.sample_data import sample_pa_case

# Words payers use on forms -> the words of our data paths.
_SYNONYMS = {
    "dob": ["dob"], "birth": ["dob"], "birthdate": ["dob"], "bday": ["dob"],
    "member": ["member"], "subscriber": ["member"], "insured": ["member"], "policy": ["member"],
    "mi": ["middle", "initial"], "middle": ["middle"],
    "first": ["first"], "fname": ["first"], "given": ["first"],
    "last": ["last"], "lname": ["last"], "surname": ["last"], "family": ["last"],
    "physician": ["prescriber"], "prescriber": ["prescriber"], "provider": ["prescriber"], "doctor": ["prescriber"],
    "prescribing": ["prescriber"], "md": ["prescriber"],
    "npi": ["npi"], "dea": ["dea"], "tin": ["tin"], "tax": ["tin"],
    "facility": ["site"], "clinic": ["site"], "office": ["site"], "practice": ["site"], "location": ["site"],
    "phone": ["phone"], "telephone": ["phone"], "tel": ["phone"], "fax": ["fax"], "email": ["email"],
    "address": ["address"], "street": ["address"], "city": ["city"], "state": ["state"], "zip": ["zip"],
    "postal": ["zip"], "group": ["group"], "grp": ["group"], "plan": ["payer"], "insurance": ["payer"],
    "ndc": ["ndc"], "hcpcs": ["hcpcs"], "jcode": ["hcpcs"], "icd": ["code", "diagnoses"],
    "diagnosis": ["diagnoses"], "dx": ["diagnoses"], "dose": ["dose"], "strength": ["dose"],
    "quantity": ["devices"], "qty": ["devices"], "units": ["devices"], "frequency": ["frequency"],
    "duration": ["duration"], "sessions": ["sessions"], "visits": ["sessions"], "start": ["start"],
    "drug": ["drug"], "medication": ["drug"], "specialty": ["specialty"], "sex": ["sex"], "gender": ["sex"],
    "urgent": ["urgency"], "expedited": ["urgency"], "name": ["name"], "patient": ["patient"],
}
_NAME_JOINS = {
    "patient name": ["patient.first_name", "patient.last_name"],
    "prescriber name": ["prescriber.first_name", "prescriber.last_name"],
}


_STOPWORDS = frozenset(
    "a an and as at by for if in is it my no of on or the to with yes text field undefined number check box".split()
)


def _words(text: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w and not w.isdigit() and w not in _STOPWORDS]


def _tokens(text: str) -> set[str]:
    found: set[str] = set()
    for word in _words(text):
        found.update(_SYNONYMS.get(word, [word]))
    return found


def suggest_path(field: FormField, paths: Sequence[str]) -> str | None:
    """The data path whose words best match the field's name and tooltip, or None below a minimum."""
    wanted = _tokens(f"{field.name} {field.tooltip}")
    if not wanted:
        return None
    best: tuple[float, str] | None = None
    for path in paths:
        have = _tokens(path.replace(".", " ").replace("_", " "))
        shared = wanted & have
        if not shared:
            continue
        score = len(shared) / len(have) + len(shared) / len(wanted)
        if ".0." not in path and any(ch.isdigit() for ch in path):
            score -= 0.2
        if best is None or score > best[0]:
            best = (score, path)
    return best[1] if best and best[0] >= 0.9 else None


def suggest_field_map(fields: Sequence[FormField], *, title: str = "") -> FieldMap | None:
    """A starting map for the admin to finish: every fillable field whose words match a data path."""
    paths = known_paths(sample_pa_case())
    rules: dict[str, FieldRule] = {}
    for field in fields:
        if field.type in ("signature", "button"):
            continue
        label = " ".join(_words(f"{field.name} {field.tooltip}"))
        join = next((v for k, v in _NAME_JOINS.items() if label.startswith(k) or label == k), None)
        if join and field.type == "text":
            rules[field.name] = FieldRule(join=join)
            continue
        path = suggest_path(field, paths)
        if path is None:
            continue
        if field.type == "checkbox" and not field.radio_states:
            rules[field.name] = FieldRule(path=path)
        elif field.type in ("radio", "choice", "checkbox"):
            rules[field.name] = FieldRule(path=path, options={o: o for o in field.options})
        else:
            rules[field.name] = FieldRule(path=path)
    if not rules:
        return None
    return FieldMap(title=title, data="pa_case", fields=rules)


def suggested_map_text(fields: Sequence[FormField], *, title: str = "") -> str:
    """YAML for the admin's editor: the suggested rules, then every other fillable field commented out
    with its type and options, ready to be given a path."""
    suggestion = suggest_field_map(fields, title=title)
    mapped = set(suggestion.fields) if suggestion else set()
    text = dump_field_map(suggestion) if suggestion else "data: pa_case\nfields:\n"
    rest = [f for f in fields if f.name not in mapped and f.type not in ("signature", "button")]
    if rest:
        text += "  # Not matched yet: give each a path (see forms/README.md), or leave it out.\n"
        for f in rest:
            hint = f" options: {', '.join(f.options)}" if f.options else ""
            text += f"  # {yaml_key(f.name)}: {{path: }}   # {f.type}{hint}\n"
    return text


def yaml_key(name: str) -> str:
    """A field name as a YAML key (quoted when it holds characters YAML treats specially)."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ .-]*", name) and not name.endswith(" ") else repr(name)
