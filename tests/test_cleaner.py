"""The one cleaner under every target's escaping: controls out, invisible characters removed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arxivwatch.cleaner import one_line, visible


@pytest.mark.parametrize(("raw", "shown"), [
    ("LoRA-RTL: harmless\u202eexe.txt", "LoRA-RTL: harmlessexe.txt"),     # right-to-left override
    ("Lo\u200bRA and Mo\u200dE\ufeff", "LoRA and MoE"),                    # zero-width, BOM
    ("a\u2066isolate\u2069 b\u200e\u200f c\u061c", "aisolate b c"),       # isolates, marks
    ("soft\u00adhyphen and tag\U000e0041s", "softhyphen and tags"),
    ("bell\x07 esc\x1b[2J c1\x9b del\x7f", "bell  esc [2J c1  del "),     # controls -> spaces
    ("lone \ud800 surrogate", "lone  surrogate"),
    ("two\nlines", "two\nlines"),
    ("\u0645\u0631\u062d\u0628\u0627 Schölkopf 论文 😀", "\u0645\u0631\u062d\u0628\u0627 Schölkopf 论文 😀"),
    ("&amp; &lt;b&gt; stay as written", "&amp; &lt;b&gt; stay as written"),   # decoded at parsing
])
def test_visible(raw: str, shown: str) -> None:
    """Controls become spaces, invisible and reordering characters go, the rest is kept as is."""
    assert visible(raw) == shown


def test_one_line_joins_lines_and_runs_of_space() -> None:
    """One line: line breaks, tabs and the spaces left by controls collapse."""
    assert one_line("  a\n\tb\x00\x00c \u2028 d\u200b ") == "a b c d"


@given(st.text())
def test_cleaning_twice_is_cleaning_once(text: str) -> None:
    """The cleaner is idempotent, so a value cleaned by two layers reads the same."""
    assert visible(visible(text)) == visible(text)
    assert one_line(one_line(text)) == one_line(text)


@given(st.text())
def test_nothing_hidden_survives(text: str) -> None:
    """No control but the line feed, no format character, no surrogate is left."""
    import unicodedata

    assert all(ch == "\n" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs"}
               for ch in visible(text))
