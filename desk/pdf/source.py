"""Opening PDF bytes held in memory.

qpdf reads a file object handed over from Python through one Python call per read (several hundred for a
one-page form, and a read of every object the first time a new object is made). On Linux the bytes go
into an anonymous in-memory file instead, which qpdf reads directly: filling the REMS worksheet measured
about 2 ms faster per form (`python bench/run.py --only pdf_fill`). Elsewhere a BytesIO is used.
"""

from __future__ import annotations

import io
import os
from typing import Any

import pikepdf

_IN_MEMORY_FILES = hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


def open_bytes(data: bytes, **options: Any) -> pikepdf.Pdf:
    """pikepdf.open for bytes in memory; `options` are passed on (attempt_recovery, password, …)."""
    if not _IN_MEMORY_FILES:
        return pikepdf.open(io.BytesIO(data), **options)
    descriptor = os.memfd_create("pdf", os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view):]
        # qpdf opens its own handle on the file; the memory lives until that handle is closed.
        return pikepdf.open(f"/proc/self/fd/{descriptor}", **options)
    finally:
        os.close(descriptor)


def name_text(obj: Any) -> str:
    """A PDF name as text ("/FlateDecode"), "" for anything else. Names are byte strings that need not be UTF-8
    (PDF 32000-1 §7.3.5), and str() of such a name raises; its written form (#xx escapes) never does."""
    if isinstance(obj, pikepdf.Name):
        return bytes(obj.unparse()).decode("latin-1")
    return ""
