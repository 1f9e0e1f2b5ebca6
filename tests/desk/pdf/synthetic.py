"""Synthetic fillable PDFs, one widget kind per feature the filler must handle (built with pikepdf)."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String

_FF_MULTILINE, _FF_COMB, _FF_NO_TOGGLE, _FF_RADIO, _FF_UNISON = 1 << 12, 1 << 24, 1 << 14, 1 << 15, 1 << 25


def _state_streams(pdf: pikepdf.Pdf, on: str, size: float) -> Dictionary:
    zapf = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.ZapfDingbats)
    mark = b"0 g BT /ZaDb %.1f Tf 2 2 Td (4) Tj ET" % (size - 4)
    box = b"0 G 0.5 0.5 %.1f %.1f re S" % (size - 1, size - 1)
    streams = {}
    for state, body in ((on, box + b"\n" + mark), ("Off", box)):
        streams[state] = pdf.make_stream(body, Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, size, size],
                                         Resources=Dictionary(Font=Dictionary(ZaDb=zapf)))
    return Dictionary({"/" + k: v for k, v in streams.items()})


def feature_form() -> bytes:
    """Page 1: auto-size, aligned, coloured, multi-line, comb and rotated text fields; a field with two
    widgets; a /DA font missing from /DR; a choice; a checkbox group with distinct on-states; a Yes/No
    pair; a radio group with /Opt and NoToggleToOff; one with RadiosInUnison. Page 2 (turned 90°): a text
    field turned with it."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0]
    helv = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                                        Encoding=Name.WinAnsiEncoding))
    fields = Array()
    annots = Array()

    def text(name: str, rect: list[float], da: bytes = b"/Helv 10 Tf 0 g", **extra: Any) -> None:
        obj = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx, T=String(name),
                                           Rect=rect, DA=String(da), P=page.obj, F=4, **extra))
        fields.append(obj)
        annots.append(obj)

    text("auto_size", [40, 700, 200, 716], da=b"/Helv 0 Tf 0 g")
    text("centred", [220, 700, 400, 716], Q=1)
    text("right", [420, 700, 580, 716], Q=2)
    text("red_large", [40, 660, 300, 684], da=b"/Helv 14 Tf 1 0 0 rg")
    text("notes", [40, 560, 300, 640], Ff=_FF_MULTILINE)
    text("zip", [320, 660, 420, 680], Ff=_FF_COMB, MaxLen=5)
    text("rotated", [540, 400, 560, 560], MK=Dictionary(R=90))
    choice = pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Ch, T=String("state"), Rect=[320, 600, 420, 616],
        DA=String(b"/Helv 10 Tf 0 g"), Ff=1 << 17, Opt=Array([String("IL"), String("NY"), String("Łódź")]),
        P=page.obj, F=4))
    fields.append(choice)
    annots.append(choice)

    def group(name: str, states: list[str], y: float, ft_flags: int = 0, opt: list[str] | None = None) -> None:
        parent = pdf.make_indirect(Dictionary(FT=Name.Btn, T=String(name), Kids=Array(), V=Name.Off))
        if ft_flags:
            parent.Ff = ft_flags
        if opt is not None:
            parent.Opt = Array([String(o) for o in opt])
        for index, state in enumerate(states):
            rect = [40 + index * 60, y, 56 + index * 60, y + 16]
            kid = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, Rect=rect, Parent=parent,
                                               AS=Name.Off, P=page.obj, F=4,
                                               AP=Dictionary(N=_state_streams(pdf, state, 16))))
            parent.Kids.append(kid)
            annots.append(kid)
        fields.append(parent)

    # One text field shown twice (a name repeated on a form's header): the value lives on the parent.
    shared = pdf.make_indirect(Dictionary(FT=Name.Tx, T=String("repeated"), DA=String(b"/Helv 9 Tf 0 g"),
                                          Kids=Array()))
    for rect in ([320, 520, 480, 536], [320, 490, 480, 506]):
        kid = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, Rect=rect, Parent=shared,
                                           P=page.obj, F=4))
        shared.Kids.append(kid)
        annots.append(kid)
    fields.append(shared)
    # A font the form names in /DA but never defines in /DR.
    text("undefined_font", [320, 450, 480, 466], da=b"/NoSuchFont 9 Tf 0 g")

    group("sex_boxes", ["M", "F", "X"], 500)
    group("consent", ["Yes", "No"], 460)
    group("dose", ["0", "1", "2"], 420, _FF_RADIO | _FF_NO_TOGGLE, opt=["56 mg", "84 mg", "other"])
    group("unison", ["a", "b", "a"], 380, _FF_RADIO | _FF_UNISON)
    page.obj.Annots = annots
    pdf.add_blank_page(page_size=(612, 792))
    turned = pdf.pages[1]
    turned.obj.Rotate = 90
    widget = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx,
                                          T=String("on_turned_page"), Rect=[100, 300, 116, 500],
                                          DA=String(b"/Helv 10 Tf 0 g"), MK=Dictionary(R=90), P=turned.obj, F=4))
    turned.obj.Annots = Array([widget])
    fields.append(widget)
    pdf.Root.AcroForm = Dictionary(Fields=fields, DA=String(b"/Helv 0 Tf 0 g"),
                                   DR=Dictionary(Font=Dictionary(Helv=helv)))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
