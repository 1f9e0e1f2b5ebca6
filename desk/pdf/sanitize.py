"""Make a PDF inert: every action that runs code, opens a file or a web address, sends data or carries
another file is removed before an uploaded PDF is stored and before a packet leaves the desk.

What is removed (PDF 32000-1:2008 §12.6 actions, §12.6.3 trigger events, §7.7.4 name dictionary,
§7.11.4 embedded files, §12.5.6 annotation types; ISO 32000-2 §13.7 RichMedia):
- the document's /OpenAction and additional actions (/AA) of the catalog, pages, fields and annotations;
- /JavaScript, /EmbeddedFiles, /AlternatePresentations and /Renditions in the name dictionary, the
  catalog's /URI base and /Collection (portfolio), the form's /XFA (it can hold scripts);
- every action (/A, outline and link actions, /Next chains) except a jump inside the document (/GoTo)
  and a viewer's menu command (/Named); so JavaScript, Launch, URI, SubmitForm, ImportData, GoToR, GoToE,
  ResetForm, Rendition, Sound, Movie go;
- annotations that only exist to carry or play content: FileAttachment, RichMedia, Screen, Movie,
  Sound, 3D.
The page content itself is untouched, so the document looks exactly as it did.
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

import pikepdf
from pikepdf import Name

from desk.pdf.inspect import PdfRejected
from desk.pdf.source import name_text, open_bytes

SAFE_ACTIONS = frozenset({"/GoTo", "/Named"})
ACTIVE_KEYS = (Name.AA, Name.OpenAction, Name.JS)
NAME_TREE_KEYS = (Name.JavaScript, Name.EmbeddedFiles, Name.AlternatePresentations, Name.Renditions)
CATALOG_KEYS = (Name.URI, Name.Collection)
ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"})
TITLE_LIMIT = 100
_CONTAINERS = (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)


def sanitize_pdf(data: bytes) -> bytes:
    """`data` rewritten without active content (run the upload checks of inspect.check_pdf first)."""
    try:
        pdf = open_bytes(data, attempt_recovery=False)
    except pikepdf.PasswordError:
        raise PdfRejected("this PDF is password-protected; remove the password and upload it again") from None
    except (pikepdf.PdfError, ValueError, RuntimeError):
        raise PdfRejected("this PDF is damaged or truncated and cannot be read; export it again") from None
    with pdf:
        try:
            strip_active_content(pdf)
            out = io.BytesIO()
            # Saved unencrypted: an owner-password-only file opens without a password anyway.
            pdf.save(out, encryption=False, deterministic_id=True)
        except (pikepdf.PdfError, RuntimeError):
            raise PdfRejected("this PDF's structure is damaged and cannot be made safe; export it again") from None
        return out.getvalue()


def strip_active_content(pdf: pikepdf.Pdf) -> None:
    """Remove every active element from the open `pdf`, in place."""
    root = pdf.Root
    names = root.get(Name.Names)
    if isinstance(names, pikepdf.Dictionary):
        for key in NAME_TREE_KEYS:
            if key in names:
                del names[key]
    for key in CATALOG_KEYS:
        if key in root:
            del root[key]
    acroform = root.get(Name.AcroForm)
    if isinstance(acroform, pikepdf.Dictionary) and Name.XFA in acroform:
        del acroform[Name.XFA]
    for page in pdf.pages:
        annots = page.obj.get(Name.Annots)
        if isinstance(annots, pikepdf.Array):
            kept = [a for a in annots
                    if not (isinstance(a, pikepdf.Dictionary) and name_text(a.get(Name.Subtype)) in ACTIVE_ANNOTATIONS)]
            if len(kept) != len(annots):
                page.obj[Name.Annots] = pikepdf.Array(kept)
    _walk(pdf.trailer)


def _walk(start: Any) -> None:
    """Visit every dictionary reachable from `start` once (indirect objects by id), cleaning each."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [start]
    while stack:
        obj = stack.pop()
        if isinstance(obj, _CONTAINERS) and obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            stack.extend(child for child in obj if isinstance(child, _CONTAINERS))
            continue
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            continue
        _clean(obj)
        for key in list(obj.keys()):
            if key == "/Parent":
                continue  # reached from above already; skipping it keeps the walk short
            child = obj.get(key)
            if isinstance(child, _CONTAINERS):
                stack.append(child)


def _clean(obj: pikepdf.Dictionary | pikepdf.Stream) -> None:
    for key in ACTIVE_KEYS:
        if key in obj:
            del obj[key]
    action = obj.get(Name.A)
    if action is not None and not _safe_action(action):
        del obj[Name.A]
    if Name.S in obj and Name.Next in obj:
        del obj[Name.Next]  # an action's follow-up chain; a safe jump may not lead to an unsafe one
    if name_text(obj.get(Name.Type)) == "/Action" and not _safe_action(obj):
        for other in list(obj.keys()):
            if other != "/Type":
                del obj[other]
        # Referenced from somewhere not listed above: left as an inert stand-in.
        obj[Name.S] = Name.Named
        obj[Name.N] = Name.FirstPage


def _safe_action(action: Any) -> bool:
    return isinstance(action, pikepdf.Dictionary) and name_text(action.get(Name.S)) in SAFE_ACTIONS


_UNSHOWN = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def document_title(text: str, *, fallback: str) -> str:
    """A title fit for a bookmark or a list: no control, format (bidi, zero-width) or private-use
    characters, no folder path or .pdf extension, single spaces, at most 100 characters."""
    name = re.split(r"[\\/]", text or "")[-1]
    name = re.sub(r"\.pdf$", "", name, flags=re.IGNORECASE)
    name = "".join(" " if unicodedata.category(ch) in _UNSHOWN else ch for ch in name)
    name = " ".join(name.split())
    if len(name) > TITLE_LIMIT:
        name = name[: TITLE_LIMIT - 1].rstrip() + "…"
    return name or fallback
