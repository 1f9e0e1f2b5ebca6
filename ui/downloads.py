"""Download buttons for documents the desk generates: each copy gets a random document id (in its file
name, and inside a PDF) and is granted to the signed-in session only (desk.web serves it to no one else).

The click is what is audited. Streamlit's page fetches a button's file as soon as the button is drawn (so the
click saves it at once), which makes the web server's request log no record of anyone downloading anything.
A file built on click (`data` a function) is audited by the function that builds it."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

import streamlit as st

# The id Streamlit gives a served file; the media guard looks grants up by it.
from streamlit.runtime.memory_media_file_storage import _calculate_file_id

from desk.audit import record_event
from desk.downloads import GRANTS
from desk.pdf.document_id import with_document_id
from ui.context import get_settings, work
from ui.guard import USER_KEY, WEB_SESSION_KEY
from ui.text import esc

PDF = "application/pdf"
_COPIES_KEY = "desk_document_copies"
_COPIES_KEPT = 16


def _named(file_name: str, document_id: str) -> str:
    path = PurePosixPath(file_name)
    return f"{path.stem}-{document_id[:16]}{path.suffix}"


def _copy(data: bytes, *, mime: str, document_id: str) -> bytes:
    return with_document_id(data, document_id=document_id) if mime == PDF else data


def _grant(data: bytes, *, mime: str, file_name: str, web_session_id: int | None, kind: str, record_id: str,
           minutes: int) -> None:
    if web_session_id is not None:
        GRANTS.grant(file_id=_calculate_file_id(data, mime, file_name), web_session_id=web_session_id,
                     kind=kind, record_id=record_id, minutes=minutes)


def _audit_click(kind: str, record_id: str, document_id: str) -> None:
    user = st.session_state.get(USER_KEY)
    actor = getattr(user, "username", "")
    with work(actor) as session:
        record_event(session, action="download", entity=kind, entity_id=record_id,
                     detail=f"document id {document_id[:16]}")


def document_download(
    label: str,
    *,
    data: bytes | Callable[[], bytes],
    file_name: str,
    mime: str,
    kind: str,
    record_id: str | int = "",
    where: Any = None,
    **button_args: Any,
) -> bool:
    """st.download_button for a generated document. `label` is plain text (escaped here); `kind` and
    `record_id` name the document in the audit trail (never PHI). `data` may be a function run on click.
    A click on ready bytes is audited here, unless the caller audits it: its own `on_click` function, or
    `on_click="ignore"` where an earlier step (a "Prepare" button) recorded the hand-over."""
    session_id = st.session_state.get(WEB_SESSION_KEY)
    web_session_id = session_id if isinstance(session_id, int) else None
    minutes = get_settings().download_minutes
    record = str(record_id)
    copies: dict[str, tuple[str, bytes | None]] = st.session_state.setdefault(_COPIES_KEY, {})
    if callable(data):
        document_id = secrets.token_hex(16)
        name = _named(file_name, document_id)
        build = data

        def deferred() -> bytes:
            content = _copy(build(), mime=mime, document_id=document_id)
            _grant(content, mime=mime, file_name=name, web_session_id=web_session_id, kind=kind,
                   record_id=record, minutes=minutes)
            return content

        payload: bytes | Callable[[], bytes] = deferred
    else:
        # The same document keeps its id across reruns, so its address stays put while it is on screen.
        key = hashlib.sha256(data + mime.encode() + file_name.encode()).hexdigest()
        document_id, content = copies.get(key, ("", None))
        if content is None:
            document_id = secrets.token_hex(16)
            content = _copy(data, mime=mime, document_id=document_id)
            while len(copies) >= _COPIES_KEPT:
                copies.pop(next(iter(copies)))
            copies[key] = (document_id, content)
        name = _named(file_name, document_id)
        _grant(content, mime=mime, file_name=name, web_session_id=web_session_id, kind=kind, record_id=record,
               minutes=minutes)
        payload = content
        if button_args.get("on_click", "rerun") == "rerun":
            button_args.update(on_click=_audit_click, args=(kind, record, document_id))
    target = where if where is not None else st
    return bool(target.download_button(esc(label), data=payload, file_name=name, mime=mime, **button_args))
