"""Turn captured HTML into plain text for snippets and search, without running or fetching anything.

Regular expressions rather than an HTML parser: this runs on every message's summary and on search, a 5 MB HTML
mail must not hold the server for seconds, and the result is only ever shown as text. Every pattern runs in time
linear in the markup: a tag's attributes are read up to the next ``<`` or ``>``, so an unclosed ``<`` (or 200 KB of
them) costs one look to the next ``<``, not a scan to the end of the document each.
"""

from __future__ import annotations

import html
import re

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_HIDDEN_BLOCK = re.compile(r"<(script|style|head|title)\b[^<>]*>.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_LINE_BREAK = re.compile(r"<(?:br|p|div|tr|li|h[1-6]|table)\b[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")


def html_to_text(markup: str) -> str:
    """The visible text of an HTML document (scripts, styles, comments and the head are dropped)."""
    if not markup:
        return ""
    text = _COMMENT.sub(" ", markup)
    text = _HIDDEN_BLOCK.sub(" ", text)
    text = _LINE_BREAK.sub("\n", text)
    return html.unescape(_TAG.sub("", text))
