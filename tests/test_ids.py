"""Tests for arXiv identifier parsing, normalisation and discovery in text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arxivwatch.errors import ArxivWatchError, IdError
from arxivwatch.ids import ArxivId, find_arxiv_ids, normalize_id, parse_id

ACCEPTED = [
    ("2402.12354", "2402.12354", None),
    ("2402.12354v2", "2402.12354", 2),
    ("2402.12354V12", "2402.12354", 12),
    ("arXiv:2402.12354", "2402.12354", None),
    ("ARXIV:2402.12354v3", "2402.12354", 3),
    ("arXiv: 2402.12354", "2402.12354", None),
    ("  2402.12354v1\n", "2402.12354", 1),
    ("0704.0001", "0704.0001", None),
    ("1412.9999", "1412.9999", None),
    ("1501.00001", "1501.00001", None),
    ("hep-th/0101001", "hep-th/0101001", None),
    ("hep-th/0101001v3", "hep-th/0101001", 3),
    ("HEP-TH/0101001", "hep-th/0101001", None),
    ("math.GT/0309136", "math/0309136", None),
    ("cs/9901001v1", "cs/9901001", 1),
    ("math/0703001", "math/0703001", None),
    ("https://arxiv.org/abs/2402.12354", "2402.12354", None),
    ("https://arxiv.org/abs/2402.12354v2", "2402.12354", 2),
    ("http://arxiv.org/pdf/2402.12354v1.pdf", "2402.12354", 1),
    ("https://arxiv.org/pdf/2402.12354", "2402.12354", None),
    ("arxiv.org/pdf/2402.12354v1", "2402.12354", 1),
    ("https://export.arxiv.org/abs/2402.12354", "2402.12354", None),
    ("export.arxiv.org/abs/hep-th/0101001v2", "hep-th/0101001", 2),
    ("arxiv.org/html/2402.12354v2", "2402.12354", 2),
    ("https://www.arxiv.org/abs/2402.12354/", "2402.12354", None),
    ("https://arxiv.org/abs/math.GT/0309136", "math/0309136", None),
    ("oai:arXiv.org:2402.12354v1", "2402.12354", 1),
    ("oai:arXiv.org:hep-th/0101001", "hep-th/0101001", None),
    ("10.48550/arXiv.2402.12354", "2402.12354", None),
    ("https://doi.org/10.48550/arXiv.2402.12354", "2402.12354", None),
]


@pytest.mark.parametrize(("text", "bare", "version"), ACCEPTED)
def test_parse_id_accepts_every_form(text: str, bare: str, version: int | None) -> None:
    """Each accepted form yields the canonical bare id and its version."""
    assert parse_id(text) == ArxivId(bare, version)
    assert normalize_id(text) == bare


REFUSED = [
    ("", "not an arXiv identifier"),
    ("   ", "not an arXiv identifier"),
    ("hello", "not an arXiv identifier"),
    ("2402.123", "not an arXiv identifier"),
    ("2402.1235467", "not an arXiv identifier"),
    ("2402-12354", "not an arXiv identifier"),
    ("2413.12345", "month 13"),
    ("2400.12345", "month 00"),
    ("0703.1234", "start in April 2007"),
    ("1412.12345", "4-digit"),
    ("1501.1234", "5-digit"),
    ("2402.12354v0", "start at v1"),
    ("hep-th/0113001", "month 13"),
    ("hep-th/1001001", "1991 to March 2007"),
    ("hep-th/010100", "not an arXiv identifier"),
    ("https://example.org/abs/2402.12354", "not an arXiv identifier"),
    ("https://arxiv.org/list/cs.LG/recent", "not an arXiv identifier"),
    ("https://notarxiv.org/abs/2402.12354", "not an arXiv identifier"),
    ("2402.12354.pdf", "not an arXiv identifier"),
    ("arXiv:2402.12354 and more", "not an arXiv identifier"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_parse_id_refuses_clearly(text: str, message: str) -> None:
    """Anything else raises IdError naming the input and what is wrong with it."""
    with pytest.raises(IdError, match=message) as info:
        parse_id(text)
    assert repr(text) in str(info.value)
    assert isinstance(info.value, ArxivWatchError)
    assert isinstance(info.value, ValueError)


def test_find_arxiv_ids_in_markdown() -> None:
    """Every explicit reference is found once, in order, in canonical form."""
    text = (
        "- [LoRA+](https://arxiv.org/abs/2402.12354). See arXiv:2106.09685v2, "
        "[pdf](http://arxiv.org/pdf/2402.12354v3.pdf), oai:arXiv.org:hep-th/0101001 "
        "and <https://export.arxiv.org/abs/2308.07633>."
    )
    assert find_arxiv_ids(text) == ["2402.12354", "2106.09685", "hep-th/0101001", "2308.07633"]


@pytest.mark.parametrize(
    "text",
    [
        "bare numbers like 2402.12354 are not references",
        "https://notarxiv.org/abs/2402.12354",
        "https://mirror.arxiv.org/abs/2402.12354",
        "https://arxiv.org/abs/2413.12345 has month 13",
        "https://arxiv.org/abs/2402.123456 has too many digits",
        "[site](https://www.usenix.org/conference/atc23/presentation/zhai)",
    ],
)
def test_find_arxiv_ids_ignores_non_references(text: str) -> None:
    """Bare numbers, other hosts and impossible ids are not found."""
    assert find_arxiv_ids(text) == []


new_ids = st.builds(
    lambda yy, mm, seq: f"{yy:02d}{mm:02d}.{seq:05d}",
    st.integers(15, 99), st.integers(1, 12), st.integers(0, 99999),
)


@given(new_ids, st.one_of(st.none(), st.integers(1, 99)))
def test_every_url_form_round_trips(bare: str, version: int | None) -> None:
    """Any new-style id survives being wrapped in each URL form."""
    v = f"v{version}" if version else ""
    for form in (f"https://arxiv.org/abs/{bare}{v}", f"arxiv.org/pdf/{bare}{v}.pdf",
                 f"oai:arXiv.org:{bare}{v}", f"arXiv:{bare}{v}"):
        assert parse_id(form) == ArxivId(bare, version or None)
        assert find_arxiv_ids(f"x {form} y") == [bare]
