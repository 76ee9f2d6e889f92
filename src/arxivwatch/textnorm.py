"""Text normalisation shared by the query language and the ranking.

Two views of a text, both cheap to compute:

- `clean(text)`: lower case, LaTeX commands, `$` and braces dropped, accents folded. Words keep
  their punctuation around them, so phrases and sentence ends can still be seen. Query matching
  runs its regular expressions over this text.
- `tokens(text)`: the word tokens of the clean text (`low-rank` -> `low`, `rank`), for ranking.

`squeeze(clean_text)` removes spaces and hyphens, so `low-rank`, `low rank` and `lowrank` all
contain `lowrank`: a substring test on it is a cheap necessary condition for a match.

`stem(token)` folds plural to singular with a few suffix rules and small exception tables; it
never adds or removes anything but a plural ending, so `lora` stays apart from `loran` and `moe`
from `moed`. `variants(word)` lists the surface forms with the same stem (`expert`, `experts`),
so a query can look for the literal forms instead of stemming every word of every paper.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

_LATEX_COMMAND = re.compile(r"\\(?:[a-z]+\*?|[^a-z\s])?")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_WORD = re.compile(r"[^\W_]+")
_NON_ALNUM = re.compile(r"[\W_]+")

# Plural endings that are not just "+s", as (plural suffix, singular suffix), longest first.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("atrices", "atrix"), ("ndices", "ndex"), ("rtices", "rtex"), ("theses", "thesis"),
    ("lyses", "lysis"), ("sses", "ss"), ("shes", "sh"), ("ches", "ch"), ("zzes", "zz"),
    ("xes", "x"), ("ies", "y"),
)
# Whole-word plurals without an "s" ending.
_IRREGULAR = {
    "criteria": "criterion", "phenomena": "phenomenon", "corpora": "corpus",
    "schemata": "schema", "children": "child", "axes": "axis",
}
# Singulars ending in "e" whose plural would otherwise hit the "-ches"/"-ies" rule.
_E_SINGULAR_ENDINGS = ("cache", "niche", "movie", "cookie", "zombie", "rookie", "selfie", "calorie")
_E_SINGULARS = frozenset({"lie", "tie", "pie", "die", "avalanche", "headache", "cliche", "psyche"})
# Singulars that end in "s" and take "-es" in the plural.
_S_SINGULARS = frozenset({
    "bias", "alias", "atlas", "canvas", "lens", "gas", "bus", "status", "virus", "corpus",
    "focus", "census", "consensus", "bonus", "campus", "radius", "plus", "minus", "news",
})
_KEEP_ENDINGS = ("ss", "us", "is")

STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "do", "for", "from",
    "has", "have", "in", "into", "is", "it", "its", "of", "on", "or", "our", "that", "the",
    "their", "these", "this", "those", "to", "was", "we", "were", "which", "while", "with",
))


def clean(text: str) -> str:
    """Lower-case `text`, drop LaTeX commands, `$` and braces, fold accents; keep punctuation."""
    s = _lower_plain(text)
    if "$" in s:
        s = s.replace("$", "")
    if "{" in s or "}" in s:
        s = s.replace("{", "").replace("}", "")
    if "~" in s:
        s = s.replace("~", " ")  # LaTeX's non-breaking space
    return s


def _lower_plain(text: str) -> str:
    """Lower case, LaTeX commands removed, accents folded."""
    s = text.lower()
    if "\\" in s:
        s = _LATEX_COMMAND.sub("", s)
    return s if s.isascii() else fold_accents(s)


def fold_accents(text: str) -> str:
    """Strip diacritics (`Schölkopf` -> `scholkopf`), lower-case, map Unicode hyphens to `-`."""
    s = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()
    return s.replace("\u2010", "-").replace("\u2212", "-")


def fold_title(title: str) -> str:
    """Letters and digits only, of the clean text: the one key by which a title is in the catalog.

    `Low-Rank Adaptation for Everyone`, `LowRank adaptation for everyone!` and `Low Rank
    Adaptation for Everyone` all fold to `lowrankadaptationforeveryone`.
    """
    return _NON_ALNUM.sub("", clean(title))


def squeeze(text: str) -> str:
    """`clean(text)` without spaces and hyphens (`Low-Rank` -> `lowrank`); punctuation stays."""
    # One table-driven bytes pass instead of clean()'s replaces: several times faster, and
    # these ASCII bytes never occur inside a multi-byte UTF-8 sequence.
    return _lower_plain(text).encode().translate(None, b" -${}~").decode()


def tokens(text: str) -> list[str]:
    """Lower-case word tokens of `text`, LaTeX and punctuation removed, hyphenated words split."""
    return _WORD.findall(clean(text))


def compounds(words: list[str]) -> list[str]:
    """The joined form of each adjacent pair (`low`, `rank` -> `lowrank`), for ranking features."""
    return [a + b for a, b in itertools.pairwise(words)]


@functools.lru_cache(maxsize=1 << 16)
def stem(token: str) -> str:
    """Fold a lower-case token's plural to its singular (`experts` -> `expert`)."""
    if token in _IRREGULAR:
        return _IRREGULAR[token]
    if len(token) <= 2 or token[-1] != "s" or token in _E_SINGULARS or token in _S_SINGULARS:
        return token
    body = token[:-1]
    if body in _E_SINGULARS or body.endswith(_E_SINGULAR_ENDINGS):
        return body
    if token[:-2] in _S_SINGULARS:
        return token[:-2]
    for plural, singular in _SUFFIXES:
        if token.endswith(plural) and len(token) > len(plural) + (plural == "ies"):
            return token[: -len(plural)] + singular
    if token.endswith(_KEEP_ENDINGS) and not _is_unit_plural(token):
        return token
    return body


def _is_unit_plural(token: str) -> bool:
    """`gpus`, `cpus`, `tpus`: short acronyms whose plural ends in `us`."""
    return len(token) == 4 and token.endswith("pus")


def variants(word: str) -> frozenset[str]:
    """Every surface form with the same stem as `word` (`query` -> query, queries)."""
    base = stem(word)
    candidates = {word, base, base + "s", base + "es"}
    if base.endswith("y"):
        candidates.add(base[:-1] + "ies")
    for plural, singular in _SUFFIXES:
        if base.endswith(singular):
            candidates.add(base[: len(base) - len(singular)] + plural)
    candidates.update(p for p, s in _IRREGULAR.items() if s == base)
    return frozenset(c for c in candidates if stem(c) == base)


def common_prefix(words: frozenset[str] | set[str]) -> str:
    """The longest prefix shared by all `words` ("" for none)."""
    first, last = min(words), max(words)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]
