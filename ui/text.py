"""The one rule for showing stored text: whatever a person or a file typed is data, never markup.

Streamlit renders markdown (GitHub-flavoured, with KaTeX, emoji shortcodes and `:color[...]` directives) in
titles, captions, alerts, labels, tabs and expanders. `esc` makes any value show exactly as typed there:
- every ASCII punctuation character that can start or close markup is backslash-escaped (CommonMark allows
  escaping any of them), which neutralises emphasis, links, images, headings, lists, tables, code, HTML,
  entities, `$` maths and `:` shortcodes and directives. Round brackets, quotes, commas, semicolons, question
  marks and slashes mean nothing on their own (a link needs its `]`, which is escaped), so they stay bare:
  a widget's accessible name is its label as written, and "Dose (mg)" must not be read out with backslashes;
- a word joiner (U+2060) is put after `http`, `www` and `@`, because the GFM autolink step turns bare URLs
  and e-mail addresses in already-parsed text into links, escapes or not (seen in Streamlit 1.67);
- line breaks become spaces (a newline would start a new markdown block), and bidirectional override and
  isolate controls are dropped so a value cannot reorder the text around it on screen.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!#$%&*+\-.:<=>@\[\\\]^_`{|}~])")
_AUTOLINK_STARTS = re.compile(r"(?i)(?<=http)(?=s?:)|(?<=https)(?=:)|(?<=www)(?=\.)|(?<=@)")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
WORD_JOINER = "\u2060"


def esc(value: object) -> str:
    """`value` as markdown that Streamlit shows literally (None shows as an empty string)."""
    text = "" if value is None else str(value)
    text = _BIDI_CONTROLS.sub("", _LINE_BREAKS.sub(" ", text))
    text = _AUTOLINK_STARTS.sub(WORD_JOINER, text)
    return _PUNCTUATION.sub(r"\\\1", text)



_LINK_TARGET = re.compile(r"^https?://[^\s<>()\[\]\\`\"']+$")


def link_md(title: object, url: str | None) -> str:
    """A markdown link showing `title` literally; a target that is not a plain http(s) address is not linked."""
    if url and _LINK_TARGET.match(url):
        return f"[{esc(title)}]({url})"
    return esc(title)
