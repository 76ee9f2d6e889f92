"""The one cleaner for text a person reads: Slack messages, catalog lines, the terminal.

Each target's escaping (`render.slack_escape`, `render.md_escape`, `render.terminal_line`) starts
from `visible()`, so a paper's title reads the same in all three. Control characters become
spaces (they could drive a terminal or hide text); characters that are invisible or reorder the
text around them are removed: bidi marks, embeddings, overrides and isolates (U+202E would show
`exe.txt` as `txt.exe`), zero-width spaces and joiners, the BOM, soft hyphens, tag characters,
and lone surrogates (which no UTF-8 file can hold). Line breaks stay for the targets that keep
them.

Entities are not decoded here: arXiv's text is plain text, decoded exactly once where it is
parsed (`sources/feed.py`). Decoding again here would turn a title that says `&amp;` into `&`.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls but the line feed; DEL too.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_HIDDEN = frozenset({"Cf", "Cs"})   # format characters (invisible, bidi) and lone surrogates


def visible(value: object) -> str:
    """The text with control characters made spaces and invisible characters removed."""
    text = _CONTROL.sub(" ", str(value))
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) not in _HIDDEN)


def one_line(value: object) -> str:
    """`visible(value)` on one line: runs of whitespace, line breaks included, become a space."""
    return " ".join(visible(value).split())
