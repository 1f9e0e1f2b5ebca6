"""What a reader sees of element text drawn through `ui.text.esc`: escapes and word joiners removed."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from ui.text import WORD_JOINER

T = TypeVar("T")


def shown(markdown: T) -> T:
    """The text as the browser shows it (markdown backslash escapes resolved); other values as they are."""
    if not isinstance(markdown, str):
        return markdown
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")  # type: ignore[return-value]


def _reading_order(node: Any) -> list[Any]:
    """Every element under `node` in the order a reader meets them (blocks' children by their position)."""
    if isinstance(node, Block):
        return [leaf for index in sorted(node.children) for leaf in _reading_order(node.children[index])]
    return [node]


def messages_under(at: AppTest, widget: Any) -> list[str]:
    """The red messages drawn directly under `widget` (as shown, without the :red[...] wrapper), up to the next
    element that is not one."""
    order = _reading_order(at.main)
    index = next(i for i, element in enumerate(order) if element is widget)
    found = []
    for element in order[index + 1:]:
        text = shown(getattr(element, "value", None))
        if element.type != "markdown" or not isinstance(text, str) or not text.startswith(":red["):
            break
        found.append(text[len(":red["):-1])
    return found


def all_messages(at: AppTest) -> list[str]:
    """Every red message under an input and every error alert's text, as shown."""
    red = [shown(m.value)[len(":red["):-1] for m in at.markdown if shown(m.value).startswith(":red[")]
    return red + [shown(e.value) for e in at.error]


def row_widths(at: AppTest, element_type: str) -> list[int]:
    """For each row of columns holding an element of `element_type` (e.g. "metric") directly in a column: how many
    columns the row has (layout is not visible to AppTest; the number of columns sharing the width is)."""
    widths: list[int] = []

    def walk(node: Any) -> None:
        if not isinstance(node, Block):
            return
        columns = [c for c in node.children.values() if isinstance(c, Block) and c.type == "column"]
        if columns and any(getattr(leaf, "type", None) == element_type
                           for column in columns for leaf in column.children.values()):
            widths.append(len(columns))
        for child in node.children.values():
            walk(child)

    walk(at.main)
    return widths


def show_record_tab(at: AppTest, title: str) -> AppTest:
    """The patient record switched to its tab `title`, as a click on the tab does."""
    at.session_state["tab"] = title
    return at.run()


def every_record_tab_shown(at: AppTest) -> AppTest:
    """The open patient record run again with every tab drawn, as after the user has visited each."""
    from ui.patient_record import SHOWN_TABS_KEY

    at.session_state[SHOWN_TABS_KEY] = (at.session_state["patient_id"], {shown(tab.label) for tab in at.tabs})
    return at.run()
