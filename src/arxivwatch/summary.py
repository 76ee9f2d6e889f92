"""Built-in one-sentence summaries in the catalog's voice, and the checks that keep them honest.

The catalog's own lines describe a paper in a short phrase, often a gerund ("Adding activation
to the SVD process to mitigate the outliers problem of activation."), never in the authors'
"we". So `summarize` takes the abstract's contribution sentence, turns its lead-in and first
person into that form ("To address this, we propose X, which ..." -> "Proposing X, which ..."),
keeps the method's name, takes LaTeX and URLs out, and, when the sentence is too long, ends it
at a clause boundary, or marks a cut inside a clause with "…". It never glues a full stop to
half a phrase.

`cut_mid_phrase` and `first_person` are the detectors the bench and the language-model check
use. Pure: text in, text out.
"""

from __future__ import annotations

import re

from arxivwatch import voice

__all__ = [
    "ELLIPSIS", "SUMMARY_LIMIT", "cut_mid_phrase", "first_person", "fit", "split_sentences",
    "strip_latex", "summarize",
]

SUMMARY_LIMIT = 200     # characters; the catalog's own summaries: median 143
CONTRIBUTION = 2        # voice.tier: proposes, studies or shows
MIN_CLAUSE = 60         # a clause cut keeps at least this much (the method and what it is)
ELLIPSIS = "…"

# --- cleaning ----------------------------------------------------------------------------------

_WRAPPERS = re.compile(
    r"\\(?:emph|textbf|textit|texttt|textsc|textrm|text|mathrm|mathbf|mathcal|mathit|"
    r"mathsf|mathbb|operatorname|underline|url|footnote)\{([^{}]*)\}"
)
_ENUMERATOR = re.compile(r"(^|\s)([ivx]{1,4}|\d)\)(?=\s)")
# After a sentence mark: a space, or none before a capitalised word ("ability.Firstly, we").
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|(?<=[a-z)][.!?])(?=[A-Z][a-z]{2,})")
_ABBREVIATION = re.compile(r"(?:^|[\s(\[])(?:e\.g|i\.e|et al|al|vs|fig|figs|eq|eqs|cf|resp|approx|"
                           r"sec|ref|dr|mr|mrs|ms|prof|st)\.$", re.IGNORECASE)


def strip_latex(text: str) -> str:
    """Removes common LaTeX markup, keeping the words: `\\emph{x}` -> x, `$\\alpha$` -> alpha."""
    text = re.sub(r"\\href\{[^{}]*\}\{([^{}]*)\}", r"\1", text)
    for _ in range(3):  # nested wrappers, innermost first
        text = _WRAPPERS.sub(r"\1", text)
    text = re.sub(r"\\['\"`^~=.]\{?([A-Za-z])\}?", r"\1", text)  # accents: \"a -> a
    text = re.sub(r"\\([%&_#$])", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)\*?", r"\1", text).replace("\\\\", " ")
    text = text.replace("``", '"').replace("''", '"').replace("~", " ")
    text = re.sub(r"(?<!\\)[${}]", "", text)
    text = _ENUMERATOR.sub(_enumerator, text)  # "i) x and ii) y": brackets that close
    return " ".join(text.split())


def _enumerator(match: re.Match[str]) -> str:
    before = match.string[:match.start()]
    if before.count("(") > before.count(")"):
        return match.group(0)  # "(SAM 2)" closes a bracket
    return f"{match.group(1)}({match.group(2)})"


_URL = re.compile(r"(?:https?://|www\.)[^\s)]+[^\s).,;:]")
_HUSK = re.compile(r"(?:\s*\b(?:at|here|from|on|via|in|under|through|and|or))?\s*:?\s*\x00",
                   re.IGNORECASE)


def has_url(text: str) -> bool:
    """True when the text links somewhere (a sentence about where the code is)."""
    return bool(_URL.search(text))


def drop_urls(text: str) -> str:
    """Text without URLs (the code link has its own place in the line) or the husks they leave:
    "available at URL." -> "available."."""
    text = _HUSK.sub("", _URL.sub("\x00", text))
    text = re.sub(r"\(\s*(?:see|at|code:?)?\s*\)", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s+(?=[.,;:])", "", " ".join(text.split()))


def split_sentences(text: str) -> list[str]:
    """Splits prose into sentences, not after abbreviations such as `e.g.` or `et al.`."""
    sentences, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        before = text[start:boundary.start()]
        if _ABBREVIATION.search(before) or _open_paren(before):
            continue
        sentences.append(text[start:boundary.start()])
        start = boundary.end()
    sentences.append(text[start:])
    return [s.strip() for s in sentences if s.strip()]


def _open_paren(text: str) -> bool:
    """True when a bracket opened shortly before the end is still open: `(MR. Judge)`."""
    opened = text.rfind("(")
    return opened > text.rfind(")") and len(text) - opened <= 40


# --- the detectors -----------------------------------------------------------------------------

# Words a sentence cannot end on: articles, conjunctions, prepositions (not those that also end a
# phrase as adverbs: "and beyond", "and so on"), auxiliaries, possessives, and the few words that
# announce more to come ("such", "specifically"). Demonstratives ("to address this") may end one.
FUNCTION_WORDS = voice.words("""
a an the and or but nor because although though whereas while if than that whether which who whose
whom where when of to for with by from into onto via through across between among amongst against
toward towards upon per like despite including within without during under at as is are was were
be been being can could will would may might must should shall has have had does its their our
his every such very specifically namely particularly especially notably e.g i.e et
""")
_FIRST_PERSON = re.compile(r"\b(?:[Ww]e|[Oo]urs?|[Oo]urselves|us|WE|OUR|[Mm]y)\b")
_I_WORD = re.compile(r"\bI ([a-z]+)")
_I_AUX = voice.words("am have will would can also then first further")
_WORD = re.compile(r"[\w.'’-]+$")


def first_person(text: str) -> bool:
    """True when the text speaks as the authors: we, our, ours, ourselves, us, my, "I argue"."""
    if _FIRST_PERSON.search(text):
        return True
    return any(w in _I_AUX or voice.is_verb(w) for w in _I_WORD.findall(text))  # not "Phase I"


def cut_mid_phrase(text: str) -> bool:
    """True when a summary stops inside a phrase: on a function word, or with a bracket open.

    "…such as logical reasoning and." and "…module (DCCA) for." are cut; a summary ending in
    "…" is a marked cut, and counts only when it, too, stops on a function word.
    """
    body = text.rstrip().rstrip(".!?" + ELLIPSIS).rstrip()
    if not body:
        return False
    if body[-1] in "-–—,;:(/" or not _balanced(body):
        return True
    last = _WORD.search(body)
    word = last.group(0).strip(".'’") if last else ""
    return word.lower() in FUNCTION_WORDS and not word.isupper()  # "ITS" is a name


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0 and text.count('"') % 2 == 0


# --- the summary -------------------------------------------------------------------------------


def summarize(abstract: str, limit: int = SUMMARY_LIMIT) -> str:
    """One sentence in the catalog's voice: the contribution, whole, LaTeX and URLs out.

    The sentences that state the contribution are tried first (what the paper proposes, then
    what it studies, then what it shows); the first that reads without "we" once turned into
    the catalog's form, and fits `limit` whole or at a clause boundary, wins.
    """
    sentences = split_sentences(strip_latex(abstract))
    # Of two sentences of a tier, one that links somewhere is more likely to say where the code
    # is than what the paper does.
    ranked = [(rank, drop_urls(s)) for rank, s in sorted(
        voice.by_contribution(sentences), key=lambda rs: (rs[0], has_url(rs[1])))]
    tried = [(rank, fit(voice.catalog_voice(s), limit)) for rank, s in ranked]
    good = [(rank, t) for rank, t in tried if t and not first_person(t)]
    contribution = [t for rank, t in good if rank <= CONTRIBUTION]
    for pool in (contribution, [t for _, t in good]):   # a marked cut of the contribution
        whole = [t for t in pool if not t.endswith(ELLIPSIS)]  # beats a whole background line
        if whole or pool:
            return (whole or pool)[0]
    return next((t for _, t in tried if t), "")


_CLAUSE = re.compile(
    r",\s|;\s|:\s|\s[–—-]\s|\s\(|\s(?=(?:which|where|while|whereas|and|but|by|via|through|using|"
    r"with|without|to|for|in|on|across|under|from|over|as|thereby|enabling|allowing|achieving|"
    r"leading|resulting|including|such as|based on|so that)\s)")


def fit(sentence: str, limit: int = SUMMARY_LIMIT) -> str:
    """The sentence ending in a full stop, within `limit` characters.

    A longer one ends at the last clause or phrase boundary that leaves a whole phrase of at
    least MIN_CLAUSE characters; failing that, at a word, marked with "…".
    """
    text = " ".join(sentence.split()).rstrip(" ,;:")
    if not text:
        return ""
    whole = text if text[-1] in ".!?" + ELLIPSIS else text + "."
    if len(whole) <= limit:
        return whole
    floor = min(MIN_CLAUSE, limit // 2)
    for match in reversed(list(_CLAUSE.finditer(text, 0, limit))):
        head = text[:match.start()].rstrip(" ,;:–—-")
        if len(head) >= floor and not cut_mid_phrase(head) and not _orphan(head, match):
            return head.rstrip(".!?") + "."
    return _cut_at_word(text, limit)


def _orphan(head: str, boundary: re.Match[str]) -> bool:
    """A cut before a preposition that would leave its participle behind: "…, supported." of
    "…, supported by a pipeline", "designed." of "designed for X"."""
    return boundary.group(0).isspace() and head.rsplit(" ", 1)[-1].endswith("ed")


def _cut_at_word(text: str, limit: int) -> str:
    words = text[:limit - len(ELLIPSIS)].split(" ")
    if len(words) > 1:
        words.pop()  # the last word may be cut in half
    while len(words) > 1 and (cut_mid_phrase(" ".join(words)) or not words[-1].strip("-–—")):
        words.pop()
    head = " ".join(words).rstrip(" ,;:.–—-")
    if not _balanced(head):
        head = head[:max(head.rfind("("), head.rfind("["))].rstrip(" ,;:")
    return (head or text[:limit - 1]) + ELLIPSIS
