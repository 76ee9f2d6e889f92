"""arXiv identifiers: every form a user, a feed or a catalog gives, turned into the bare id.

New-style ids are `YYMM.NNNN` (April 2007 to December 2014) and `YYMM.NNNNN` (from January 2015);
old-style ids are `archive/YYMMNNN`. The canonical form drops the version, any prefix or URL and,
for old-style ids, the subject class: `math.GT/0309136` is the paper arXiv calls `math/0309136`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from arxivwatch.errors import IdError

_FORMS = "2402.12354, 2402.12354v2, arXiv:2402.12354, hep-th/0101001 or https://arxiv.org/abs/2402.12354"

# One id with an optional version: new style, or old style `archive(.SC)/YYMMNNN`.
_ID = (
    r"(?P<new>\d{4}\.\d{4,5})"
    r"|(?P<old>(?P<archive>[a-zA-Z]+(?:-[a-zA-Z]+)?)(?:\.[A-Za-z]{2})?/\d{7})"
)
_VERSION = r"(?:v(?P<version>\d+))?"
_URL = r"(?P<url>(?:https?://)?(?:(?:www|export)\.)?arxiv\.org/(?:abs|pdf|html)/)"
_DOI = r"(?:https?://(?:dx\.)?doi\.org/)?10\.48550/arxiv\."
_PREFIX = rf"(?:{_URL}|{_DOI}|oai:arxiv\.org:|arxiv:\s?)"
# A URL may end in `.pdf` or `/`; the conditional keeps that off the other forms.
_TAIL = r"(?(url)(?:\.pdf)?/?)"

_WHOLE = re.compile(rf"{_PREFIX}?(?:{_ID}){_VERSION}{_TAIL}", re.IGNORECASE)
# In running text only explicit references count: URLs, DOIs, `arXiv:` and `oai:` prefixes.
# The lookbehind keeps `notarxiv.org` and `myarxiv:` from matching.
_IN_TEXT = re.compile(
    rf"(?<![\w.-]){_PREFIX}(?:{_ID}){_VERSION}{_TAIL}(?![\w-])", re.IGNORECASE)


class ArxivId(NamedTuple):
    """A canonical bare arXiv id and the version it named, if any."""

    id: str
    version: int | None


def parse_id(text: str) -> ArxivId:
    """Parses any accepted form of an arXiv identifier; raises IdError for anything else."""
    match = _WHOLE.fullmatch(text.strip())
    if match is None:
        raise IdError(f"not an arXiv identifier: {text!r}; expected a form like {_FORMS}")
    return _from_match(match, text)


def normalize_id(text: str) -> str:
    """Returns the canonical bare id (no version, prefix or URL) of any accepted form."""
    return parse_id(text).id


def find_arxiv_ids(text: str) -> list[str]:
    """Returns the canonical ids of every arXiv URL, DOI or `arXiv:` reference in a text."""
    found: dict[str, None] = {}
    for match in _IN_TEXT.finditer(text):
        try:
            found.setdefault(_from_match(match, match.group(0)).id, None)
        except IdError:
            continue  # shaped like an id but impossible (month 13...): not a reference
    return list(found)


def _from_match(match: re.Match[str], text: str) -> ArxivId:
    version = match.group("version")
    number = int(version) if version is not None else None
    if number == 0:
        raise IdError(f"{text!r}: arXiv versions start at v1")
    if match.group("new") is not None:
        return ArxivId(_check_new(match.group("new"), text), number)
    return ArxivId(_check_old(match.group("old"), match.group("archive"), text), number)


def _check_new(bare: str, text: str) -> str:
    yymm, seq = bare.split(".")
    yy, mm = int(yymm[:2]), int(yymm[2:])
    if not 1 <= mm <= 12:
        raise IdError(f"{text!r}: month {mm:02d} in {bare} is not a month")
    if (yy, mm) < (7, 4):
        raise IdError(f"{text!r}: new-style ids start in April 2007 (0704); older papers "
                      "have ids like hep-th/0101001")
    wants = 4 if yy < 15 else 5
    if len(seq) != wants:
        raise IdError(f"{text!r}: ids from 20{yy:02d} have {wants}-digit numbers after the dot")
    return bare


def _check_old(bare: str, archive: str, text: str) -> str:
    number = bare.split("/")[1]
    yy, mm = int(number[:2]), int(number[2:4])
    if not 1 <= mm <= 12:
        raise IdError(f"{text!r}: month {mm:02d} in {bare} is not a month")
    if 8 <= yy <= 90 or (yy == 7 and mm > 3):
        raise IdError(f"{text!r}: old-style ids run from 1991 to March 2007")
    return f"{archive.lower()}/{number}"
