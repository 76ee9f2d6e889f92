"""The catalog's voice: an abstract's sentence without the authors' lead-in and first person.

"To address this problem, we propose X, which ..." becomes "Proposing X, which ...", "This paper
presents Y" becomes "Presenting Y", "our method" becomes "the method". The verb after "we" (or
after "this paper") becomes a gerund, the catalog's usual form; coordinated verbs follow ("we
design and evaluate" -> "Designing and evaluating"). Pure and small: a word list and rules, no
parser; what it cannot turn, it leaves for `summary.summarize` to pass over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["by_contribution", "catalog_voice", "gerund", "is_verb", "tier", "words"]

def words(text: str) -> frozenset[str]:
    """A word list written as text."""
    return frozenset(text.split())


# Verbs by what a sentence with them says about the paper; the order of the tiers is the order
# in which `by_contribution` offers sentences.
PROPOSE = words("""
propose introduce present develop design build create construct release curate collect devise
formulate offer provide establish unveil launch contribute describe implement open-source craft
engineer assemble compile pretrain pre-train
""")
STUDY = words("""
study investigate explore analyze analyse examine evaluate benchmark survey review revisit compare
characterize characterise assess quantify measure conduct perform train fine-tune finetune apply
use leverage adapt extend address tackle focus consider formalize formalise model frame cast
reformulate rethink unify bridge combine integrate incorporate enhance improve generalize tailor
distill prune quantize compress scale optimize solve mitigate reduce employ utilize utilise
explain test validate verify simulate discuss outline detail document illustrate derive replace
augment enable allow exploit learn predict generate estimate detect construct identify release
embed
""")
SHOW = words("""
show find demonstrate observe prove discover reveal report argue hypothesize achieve obtain
highlight confirm conclude note posit claim suggest uncover
""")
VERBS = PROPOSE | STUDY | SHOW

_IRREGULAR = {
    "built": "build", "shown": "show", "found": "find", "made": "make", "written": "write",
    "taken": "take", "given": "give", "done": "do", "brought": "bring", "sought": "seek",
    "thought": "think", "led": "lead", "held": "hold", "drawn": "draw", "chosen": "choose",
    "proven": "prove", "begun": "begin", "began": "begin", "ran": "run", "undertook": "undertake",
    "undertaken": "undertake", "saw": "see", "seen": "see", "took": "take", "gave": "give",
    "wrote": "write", "rethought": "rethink", "overcame": "overcome", "got": "get",
    "kept": "keep", "spent": "spend", "put": "put", "set": "set", "cut": "cut",
    "understood": "understand", "stood": "stand", "chose": "choose", "strove": "strive",
}
_DOUBLE = words("""
submit commit omit permit admit emit transmit begin refer prefer infer transfer confer occur
control compel propel expel forget regret equip embed
""")
_LY_VERBS = words("apply rely supply multiply reply comply imply fly")
_ADVERBS = words("""
also further then first now here thus hence therefore additionally instead next finally still
subsequently moreover furthermore jointly both all in-turn thereby accordingly
""")
_NOT_VERBS = words("""
are is were was do does did not am be of in on at to for with by from that which who and or but
the a an as than into via through also only
""")
_AUX = frozenset({"have", "has", "had"})
_MODALS = frozenset({"can", "could", "will", "would", "may", "might", "shall", "should", "must"})
_AIM = frozenset({"aim", "aims", "seek", "seeks", "attempt", "attempts", "try", "tries", "strive",
                  "strives", "wish", "want", "intend", "intends", "choose", "opt", "decide",
                  "propose", "proposes", "aimed", "sought", "attempted", "tried", "strove",
                  "wished", "wanted", "intended", "chose", "opted", "decided", "proposed"})

_PAPER = (r"(?:paper|work|study|article|letter|report|thesis|survey|note|manuscript|research|"
          r"tutorial|review|chapter|submission|proposal|project)")
_SUBJECT = re.compile(
    r"\b(?P<we>[Ww]e|I|[Tt]he authors)\s+|"
    r"\b(?:[Tt]his|[Tt]he present|[Tt]he|[Oo]ur)\s+(?:(?:research|position|short|technical|"
    r"present|current)\s+)?" + _PAPER + r"\s+")
_MORE_VERBS = re.compile(r"(?:,?\s+(?:and|or|and then|then)\s+|,\s*)([a-z][a-z-]*)\b")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z-]*")
_LEAD_IN = re.compile(
    r"^(?:(?:in|within) (?:this|the present|our) (?:[a-z]+ )?" + _PAPER + r"|here|hence|thus|"
    r"therefore|to this end|in addition|additionally|moreover|furthermore|finally|specifically|"
    r"concretely|in particular|in summary|overall|then|as a result|consequently|accordingly)"
    r",?\s+", re.IGNORECASE)
_KNOWLEDGE = re.compile(r",?\s*to (?:the best of )?(?:our|the authors') knowledge,?\s*",
                        re.IGNORECASE)
_CALL = re.compile(r"\b(?:which|that)?\s*we (?:call|term|dub|name|refer to as)\b")
_AND_WE = re.compile(r"(?P<glue>,\s*(?:(?:and|then|and then)\s+)?|\s(?:and|then|and then)\s+)we\s+"
                     r"(?:(?:also|further|then|additionally|finally)\s+)?(?P<verb>[a-z][a-z-]*)")
_AND_VERBS = re.compile(r"(?P<glue>,?\s+and\s+(?:[a-z]+ly\s+)?)(?P<verb>[a-z]+s)\b")
_OUR = re.compile(r"\b([Oo])ur\b")


def gerund(word: str, *, third_person: bool = False) -> str:
    """The -ing form of a verb as written: propose/proposes/proposed -> proposing."""
    w = word.lower()
    if w in _IRREGULAR:
        return _ing(_IRREGULAR[w])
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "ying"
    if w.endswith("ed") and not w.endswith("eed") and len(w) > 3 and w not in VERBS:
        return w[:-2] + "ing"
    if third_person:
        w = _singular_verb(w)
    return _ing(w)


def _singular_verb(w: str) -> str:
    """`proposes` -> `propose`, `studies` -> `study`, `addresses` -> `address`."""
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _ing(base: str) -> str:
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith(("ee", "ye", "oe")) or base in {"be"}:
        return base + "ing"
    if base.endswith("e"):
        return base[:-1] + "ing"
    tail = base.rsplit("-", 1)[-1]
    if tail in _DOUBLE or re.fullmatch(r"[^aeiou]*[aeiou][bdgklmnprtv]", tail):
        return base + base[-1] + "ing"
    return base + "ing"


def _lemma(word: str, *, third_person: bool) -> str:
    """The base form, as far as `gerund` knows it (for looking words up in the verb lists)."""
    form = gerund(word, third_person=third_person)
    base = form[:-3]
    for guess in (base, base + "e", base[:-1], word.lower()):
        if guess in VERBS:
            return guess
    return base


def tier(sentence: str) -> int:
    """0 proposes, 1 studies, 2 shows (said by the authors or "this paper"), 3 other, 4 none."""
    found = _find(sentence)
    if found is None:
        return 4
    lemma = _lemma(found.verb, third_person=found.third)
    if lemma in PROPOSE or found.proposes:
        return 0
    return 1 if lemma in STUDY else 2 if lemma in SHOW else 3


def by_contribution(sentences: Sequence[str]) -> list[tuple[int, str]]:
    """The sentences with their tier, best first; within a tier, in the abstract's order."""
    return sorted(((tier(s), s) for s in sentences), key=lambda ts: ts[0])


class _Found(NamedTuple):
    """Where the authors speak in a sentence: the verb(s) after the subject, and the rest."""

    third: bool                 # "this paper proposes" rather than "we propose"
    verbs: list[str]
    rest: str
    proposes: bool = False      # "we propose to fine-tune X": a proposal whatever the verb

    @property
    def verb(self) -> str:
        return self.verbs[0]


def _find(sentence: str) -> _Found | None:
    for subject in _SUBJECT.finditer(sentence):
        third = subject.group("we") is None
        if subject.group("we") == "I" and not _known_verb_after(sentence, subject.end()):
            continue  # "Phase I trials"
        found = _predicate(sentence, subject.end(), third)
        if found is not None and _balanced(sentence[:subject.start()]):
            verbs, rest, proposes = found
            return _Found(third, verbs, rest, proposes)
    return None


def is_verb(word: str) -> bool:
    """True when the word is a form of a verb in the lists (propose, proposed, ...)."""
    return _lemma(word, third_person=False) in VERBS


def _known_verb_after(sentence: str, at: int) -> bool:
    word = _TOKEN.match(sentence, at)
    return word is not None and is_verb(word.group(0))


def _predicate(sentence: str, at: int, third: bool) -> tuple[list[str], str, bool] | None:
    """The verbs after a subject (adverbs, have, can, aim to skipped), the text after them, and
    whether they are proposed ("we propose to fine-tune")."""
    words = list(_TOKEN.finditer(sentence, at))
    i = 0
    while i < len(words) and _skippable(words[i].group(0).lower()):
        i += 1
    proposes = False
    if i + 2 < len(words) and words[i].group(0).lower() in _AIM \
            and words[i + 1].group(0) == "to" and _adjacent(sentence, words[i:i + 3]):
        proposes = words[i].group(0).lower().startswith("propos")   # "we propose to X"
        i += 2
        while i < len(words) and _skippable(words[i].group(0).lower()):
            i += 1
    if i >= len(words) or not _adjacent(sentence, words[:i + 1], start=at):
        return None
    verb = words[i].group(0)
    if not verb.islower() or verb in _NOT_VERBS or sentence[words[i].end():][:1] in {"'", "’"}:
        return None  # "we are", "we don't", "the work of"
    if third and not (verb.endswith(("s", "ed")) or verb in _IRREGULAR):
        return None  # "this paper proposes", not "the study participants"
    verbs, end = [verb], words[i].end()
    while (more := _MORE_VERBS.match(sentence, end)) is not None:
        if _lemma(more.group(1), third_person=third) not in VERBS:
            break
        verbs.append(more.group(1))
        end = more.end()
    return verbs, sentence[end:], proposes


def _skippable(word: str) -> bool:
    return (word in _ADVERBS or word in _AUX or word in _MODALS
            or (word.endswith("ly") and word not in _LY_VERBS))


def _adjacent(sentence: str, words: Sequence[re.Match[str]], start: int | None = None) -> bool:
    """True when only spaces separate the words (no comma or bracket in between)."""
    pos = words[0].start() if start is None else start
    for w in words:
        if sentence[pos:w.start()].strip():
            return False
        pos = w.end()
    return True


def _balanced(text: str) -> bool:
    return text.count("(") == text.count(")") and text.count("[") == text.count("]")


def catalog_voice(sentence: str) -> str:
    """The sentence in the catalog's form: lead-in dropped, "we propose X" -> "Proposing X"."""
    text = _KNOWLEDGE.sub(" ", sentence).strip()
    found = _find(text)
    if found is not None:
        rest = _AND_VERBS.sub(_and_verbs, found.rest) if found.third else found.rest
        text = _join([gerund(v, third_person=found.third) for v in found.verbs]) + rest
    else:
        text = _LEAD_IN.sub("", text)
    text = _CALL.sub(" called", text)
    text = _AND_WE.sub(_and_we, text)
    text = _OUR.sub(lambda m: "The" if m.group(1) == "O" else "the", text)
    text = " ".join(text.split()).replace(" ,", ",")
    return text[:1].upper() + text[1:]


def _join(verbs: list[str]) -> str:
    if len(verbs) <= 2:
        return " and ".join(verbs)
    return ", ".join(verbs[:-1]) + ", and " + verbs[-1]


def _and_verbs(match: re.Match[str]) -> str:
    """`This paper proposes X and discusses Y` -> `Proposing X and discussing Y`."""
    verb = match.group("verb")
    if _lemma(verb, third_person=True) not in VERBS:
        return match.group(0)
    return match.group("glue") + gerund(verb, third_person=True)


def _and_we(match: re.Match[str]) -> str:
    """`, and we show` -> `, and showing`; left as it is when the verb is not a known one."""
    verb = match.group("verb")
    if _lemma(verb, third_person=False) not in VERBS:
        return match.group(0)
    return match.group("glue") + gerund(verb)
