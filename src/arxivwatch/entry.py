"""One catalog line: parse it, and build a new one from a paper (venue, summary, code link).

The built-in summary is `summary.summarize`; a summary made earlier (by a language model, or by
the approver) is passed in.

A line reads `- [Venue Year] [Title](link). Summary. [Code](url)`; the venue tag and the code link
are optional, and lines that link elsewhere (a conference page) are entries too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from jinja2 import Environment

from arxivwatch.ids import find_arxiv_ids
from arxivwatch.models import Candidate, CatalogEntry, Paper
from arxivwatch.render import make_env, printable
from arxivwatch.summary import ELLIPSIS, summarize

__all__ = [
    "code_link", "entry_preview", "normalize_title", "parse_entry", "render_entry", "summarize",
    "venue_tag",
]

ITEM = re.compile(r"^[-*+][ \t]+(?P<rest>.*)$")
_BRACKETED = r"\[(?P<{}>(?:\\.|[^\]\\])*)\]"
_HEAD = re.compile(
    r"(?:" + _BRACKETED.format("venue") + r"[ \t]*)?" + _BRACKETED.format("title")
    + r"\((?P<link>(?:[^()\s]|\([^()\s]*\))*)\)"
)
_CODE = re.compile(r"\[code\]\((?P<url>(?:[^()\s]|\([^()\s]*\))*)\)", re.IGNORECASE)
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def parse_entry(line: str, line_no: int) -> CatalogEntry | None:
    """Parses one list item; None when the line is not a list item at all.

    An item that does not start with `[Title](link)` is still returned, with `link=None`, so
    `catalog check` can point at it.
    """
    item = ITEM.match(line.rstrip("\r"))
    if item is None:
        return None
    rest = item.group("rest")
    ids = tuple(find_arxiv_ids(line))
    head = _HEAD.match(rest)
    if head is None:
        return CatalogEntry(line_no=line_no, raw=line, title=rest.strip(), arxiv_ids=ids)
    tail = rest[head.end():]
    code = _CODE.search(tail)
    summary = _CODE.sub(" ", tail).lstrip(" \t.,;:")
    return CatalogEntry(
        line_no=line_no, raw=line, title=_UNESCAPE.sub(r"\1", head.group("title")).strip(),
        link=head.group("link"), venue=head.group("venue"), summary=" ".join(summary.split()),
        code=code.group("url") if code else None, arxiv_ids=ids,
    )


def normalize_title(title: str) -> str:
    """Folds a title for comparison: casefold, punctuation and symbols to spaces, runs of spaces."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    kept = [" " if unicodedata.category(c)[0] in "PSZC" else c for c in folded]
    return " ".join("".join(kept).split())


# --- rendering ---------------------------------------------------------------------------------


def render_entry(
    paper: Paper, *, summary: str | None = None, venue: str | None = None,
    code: str | None = None, env: Environment | None = None,
) -> str:
    """Renders the catalog line for a paper from `catalog_entry.md.j2`: one line, no newline."""
    title = printable(paper.title) or paper.id
    text = summarize(paper.abstract) if summary is None else _sentence(summary)
    template = (env or _default_env()).get_template("catalog_entry.md.j2")
    line = template.render(
        paper=paper, title=title, url=paper.url,
        venue=venue or venue_tag(paper.comments, paper.journal_ref, paper.year),
        summary=text, code=code if code is not None else code_link(paper.abstract, paper.comments),
    )
    return " ".join(line.split())  # a user template may spread the line; the catalog may not


def entry_preview(env: Environment) -> Callable[[Candidate], str]:
    """Renders the line approving a candidate would add, with `env` (the user's catalog
    template) and the summary made for it at the poll (built-in when it was stored without)."""
    def line(candidate: Candidate) -> str:
        made = candidate.summary
        return render_entry(candidate.paper, summary=made.text if made else None, env=env)

    return line


@lru_cache(maxsize=1)
def _default_env() -> Environment:
    return make_env(None, slack=False)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?" + ELLIPSIS else text + "."


# --- code links --------------------------------------------------------------------------------

_CODE_URL = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:www\.)?"
    r"(?:github\.com|gitlab\.com|huggingface\.co|hf\.co|bitbucket\.org)/[^\s<>\"'`{}|\\^\[\]]+",
    re.IGNORECASE,
)
_NOT_CODE = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface|hf)\.co/papers/", re.IGNORECASE)
_TRAILING = ".,;:)]}>'\"!?"


def code_link(*texts: str | None) -> str | None:
    """Returns the first GitHub/GitLab/Hugging Face/Bitbucket URL in the texts, cleaned."""
    for text in texts:
        for match in _CODE_URL.finditer(_unlatex_urls(text or "")):
            url = _strip_trailing(match.group(0))
            if "/" in url.rstrip("/").split("//")[-1] and not _NOT_CODE.match(url):
                return url if "://" in url else "https://" + url
    return None


def _unlatex_urls(text: str) -> str:
    text = re.sub(r"\\(?:url|href)\{([^}]*)\}", r" \1 ", text)
    return re.sub(r"\\([_%#&~])", r"\1", text)


def _strip_trailing(url: str) -> str:
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a balanced paren belongs to the URL
        url = url[:-1]
    return url


# --- venue tags --------------------------------------------------------------------------------

# Canonical name -> the ways comments and journal refs write it. Matching ignores case except for
# the short names in _EXACT_CASE, which are also ordinary words or parts of them.
_VENUES: dict[str, tuple[str, ...]] = {
    "NeurIPS": ("NeurIPS", "NIPS", "Advances in Neural Information Processing Systems",
                "Conference on Neural Information Processing Systems"),
    "ICML": ("ICML", "International Conference on Machine Learning"),
    "ICLR": ("ICLR", "International Conference on Learning Representations"),
    "AAAI": ("AAAI",), "IJCAI": ("IJCAI",), "UAI": ("UAI",), "AISTATS": ("AISTATS",),
    "COLT": ("COLT",), "KDD": ("SIGKDD", "KDD"), "WWW": ("WWW", "TheWebConf", "The Web Conference"),
    "ACL": ("ACL", "Annual Meeting of the Association for Computational Linguistics"),
    "EMNLP": ("EMNLP", "Empirical Methods in Natural Language Processing"),
    "NAACL": ("NAACL",), "EACL": ("EACL",), "COLING": ("COLING",), "CoNLL": ("CoNLL",),
    "COLM": ("COLM", "Conference on Language Modeling"),
    "TACL": ("TACL", "Transactions of the Association for Computational Linguistics"),
    "CVPR": ("CVPR",), "ICCV": ("ICCV",), "ECCV": ("ECCV",), "SIGIR": ("SIGIR",),
    "WSDM": ("WSDM",), "CIKM": ("CIKM",), "ICASSP": ("ICASSP",), "Interspeech": ("Interspeech",),
    "OSDI": ("OSDI",), "SOSP": ("SOSP",), "NSDI": ("NSDI",), "EuroSys": ("EuroSys",),
    "ATC": ("USENIX ATC", "ATC", "USENIX Annual Technical Conference"),
    "ASPLOS": ("ASPLOS",), "ISCA": ("ISCA",), "MICRO": ("MICRO",), "HPCA": ("HPCA",),
    "SC": ("SC", "Supercomputing"), "PPoPP": ("PPoPP",), "IPDPS": ("IPDPS",), "ICS": ("ICS",),
    "HPDC": ("HPDC",), "ICPP": ("ICPP",), "SoCC": ("SoCC",), "FAST": ("FAST",), "DAC": ("DAC",),
    "MLSys": ("MLSys", "SysML"), "SIGCOMM": ("SIGCOMM",), "SIGMOD": ("SIGMOD",), "ICDE": ("ICDE",),
    "VLDB": ("PVLDB", "Proceedings of the VLDB Endowment", "VLDB"),
    "TMLR": ("TMLR", "Transactions on Machine Learning Research"),
    "JMLR": ("JMLR", "Journal of Machine Learning Research"),
    "TPAMI": ("TPAMI", "Transactions on Pattern Analysis and Machine Intelligence"),
    "TPDS": ("TPDS", "Transactions on Parallel and Distributed Systems"),
}
_EXACT_CASE = frozenset({"ATC", "SC", "FAST", "ICS", "MICRO", "WWW", "DAC", "ACL", "COLM", "UAI"})
_PATTERNS = [
    (name, re.compile(r"(?<![A-Za-z])" + re.escape(alias).replace(r"\ ", r"\s+") + r"(?![A-Za-z])",
                      0 if alias in _EXACT_CASE else re.IGNORECASE))
    for name, aliases in _VENUES.items() for alias in aliases
]
_YEAR_NEXT = re.compile(r"[ \t,]*\(?((?:19|20)\d{2})(?!\d)|\s?['’](\d{2})(?!\d)|(\d{2})(?!\d)")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_POSITIVE = re.compile(r"accept|to appear|appears? (?:in|at)|appeared|published|presented"
                       r"|proceedings|proc\.|camera[- ]ready|oral|spotlight|poster", re.IGNORECASE)
_NEGATIVE = re.compile(r"submit|submission|under review|in review|reviewing|rejected|withdrawn"
                       r"|not accepted", re.IGNORECASE)


def venue_tag(comments: str | None, journal_ref: str | None, year: int | None) -> str:
    """The `[...]` tag for a paper: the venue its journal ref or comments name, else `Arxiv YEAR`.

    A venue counts in a journal ref always; in comments when a year follows it or a phrase like
    "accepted at" precedes it, and never when the clause says "submitted" or "under review".
    """
    found = _find_venue(journal_ref or "", year, published=True)
    found = found or _find_venue(comments or "", year, published=False)
    return found or (f"Arxiv {year}" if year else "Arxiv")


def _find_venue(text: str, year: int | None, *, published: bool) -> str | None:
    for piece in re.split(r"[;\n]", text):
        for start, end, name in _mentions(piece):
            before = re.split(r"\.\s|[,;(]", piece[:start])[-1]
            after = re.split(r"[.;,)]", piece[end:])[0]
            if _NEGATIVE.search(before) or _NEGATIVE.search(after):
                continue
            adjacent = _YEAR_NEXT.match(piece, end)
            if not (published or adjacent or _POSITIVE.search(before)):
                continue
            when = _year_of(adjacent) or _year_near(piece, end) or year
            suffix = next((f" {w}" for w in ("Findings", "Workshop")
                           if w.lower() in (before + after).lower()), "")
            return f"{name} {when}{suffix}" if when else f"{name}{suffix}"
    return None


def _mentions(piece: str) -> list[tuple[int, int, str]]:
    found = sorted((m.start(), -m.end(), name) for name, pattern in _PATTERNS
                   for m in pattern.finditer(piece))
    return [(start, -neg_end, name) for start, neg_end, name in found]


def _year_of(match: re.Match[str] | None) -> int | None:
    if match is None:
        return None
    if match.group(1):
        return int(match.group(1))
    return 2000 + int(match.group(2) or match.group(3))


def _year_near(piece: str, end: int) -> int | None:
    later = _YEAR.search(piece, end)
    earlier = _YEAR.findall(piece[:end])
    return int(later.group(1)) if later else (int(earlier[-1]) if earlier else None)
