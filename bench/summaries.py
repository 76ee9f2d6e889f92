"""Built-in summaries before and after issue 18, on real abstracts (issue 18, item 1).

Summarises a seeded random sample of ../shared/data/arxiv-sample.jsonl.gz twice: with the summariser
arxivwatch shipped before issue 18 (kept verbatim below as `legacy_summarize`) and with today's
`arxivwatch.summary.summarize`. Both are judged by the same detectors:

- cut mid-phrase (`summary.cut_mid_phrase`): the summary stops on a function word (article,
  conjunction, preposition, auxiliary, "such", "specifically"...) or with a bracket or a quote
  left open; a cut marked with "…" counts too when it stops on such a word;
- first person (`summary.first_person`): "we", "our", "ours", "ourselves", "us", "my", "I argue";

and prints the shares, the share shortened (the summary is not a whole sentence of the abstract:
before, cut at a word with "." glued on; after, ended at a clause boundary or marked "…"), the
share marked "…", the length distribution beside the catalog's own
summaries, every announcement day's worst case (``--days``), and before/after pairs.

    .venv/bin/python bench/summaries.py                   # 2,000 papers, seed 18, 30 pairs
    .venv/bin/python bench/summaries.py --days            # also every day of the sample (~1 min)
    .venv/bin/python bench/summaries.py -n 500 --pairs 0 --seed 3
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from arxivwatch import voice
from arxivwatch.catalog import Catalog
from arxivwatch.models import Paper
from arxivwatch.replay.snapshot import read_snapshot
from arxivwatch.summary import (
    ELLIPSIS,
    cut_mid_phrase,
    drop_urls,
    first_person,
    split_sentences,
    strip_latex,
    summarize,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CATALOG = ROOT.parent / "shared" / "catalog" / "README.md"
TARGETS = {"cut": 1 / 40, "first": 1 / 20}


def main() -> None:
    args = _args()
    papers = [p for p in read_snapshot(args.papers) if p.abstract.strip()]
    sample = random.Random(args.seed).sample(papers, min(args.n, len(papers)))
    catalog = _catalog_summaries(args.catalog)
    print(f"{len(sample)} papers drawn (seed {args.seed}) from {len(papers)} in "
          f"{args.papers.name}; "
          f"the catalog's own summaries: {len(catalog)} in {args.catalog}\n")
    before = [legacy_summarize(p.abstract) for p in sample]
    after = [summarize(p.abstract) for p in sample]
    print(f"{'':<22} {'cut mid-phrase':>15} {'first person':>13} {'shortened':>10} "
          f"{'marked …':>9}   length p10 / p25 / median / p75 / p90 / max")
    for name, texts, whole in (
            ("before (shipped)", before, [_legacy_sentences(p.abstract) for p in sample]),
            ("after (issue 18)", after, [_sentences(p.abstract) for p in sample]),
            ("catalog's own lines", catalog, [{_bare(t)} for t in catalog])):
        print(_row(name, texts, whole))
    print(f"{'target':<22} {_pct(TARGETS['cut']):>15} {_pct(TARGETS['first']):>13}")
    if args.days:
        print()
        _days(papers, "before (shipped)", legacy_summarize)
        _days(papers, "after (issue 18)", summarize)
    if args.pairs:
        print(f"\n{args.pairs} before/after pairs (the first of the sample):")
        for paper, old, new in list(zip(sample, before, after, strict=True))[:args.pairs]:
            print(f"\n{paper.id}  {paper.title}\n  before: {old}\n  after:  {new}")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=Path, default=DATA / "arxiv-sample.jsonl.gz")
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    parser.add_argument("-n", type=int, default=2000, help="papers to draw (default 2000)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--pairs", type=int, default=30, help="before/after pairs to print")
    parser.add_argument("--days", action="store_true",
                        help="also summarise every paper and report each announcement day")
    return parser.parse_args()


def _catalog_summaries(path: Path) -> list[str]:
    catalog = Catalog.parse(path.read_text(encoding="utf-8"))
    return [e.summary for s in catalog.sections for e in s.entries if e.summary]


def _bare(text: str) -> str:
    return text.rstrip(".!?" + ELLIPSIS).strip()


def _sentences(abstract: str) -> set[str]:
    """Every sentence of the abstract as `summarize` would show it whole."""
    return {_bare(voice.catalog_voice(drop_urls(s))) for s in split_sentences(
        strip_latex(abstract))}


def _legacy_sentences(abstract: str) -> set[str]:
    return {_bare(s) for s in _legacy_split(_legacy_drop_urls(_legacy_strip_latex(abstract)))}


def _row(name: str, texts: Sequence[str], whole: Sequence[set[str]]) -> str:
    n = len(texts) or 1
    shortened = sum(_bare(t) not in w for t, w in zip(texts, whole, strict=True)) / n
    cut = sum(map(cut_mid_phrase, texts)) / n
    first = sum(map(first_person, texts)) / n
    marked = sum(t.endswith(ELLIPSIS) for t in texts) / n
    lengths = sorted(len(t) for t in texts) or [0]
    q = statistics.quantiles(lengths, n=20, method="inclusive") if len(lengths) > 1 else [0] * 19
    spread = " / ".join(str(round(v)) for v in (q[1], q[4], statistics.median(lengths), q[14],
                                                   q[17], lengths[-1]))
    return (f"{name:<22} {_pct(cut):>15} {_pct(first):>13} {_pct(shortened):>10} "
            f"{_pct(marked):>9}   {spread}")


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def _days(papers: Sequence[Paper], name: str, summarise: Callable[[str], str]) -> None:
    """Per announcement day: how many days miss a target, and the worst day."""
    by_day: dict[object, list[str]] = defaultdict(list)
    for paper in papers:
        by_day[paper.day].append(summarise(paper.abstract))
    rates = [(sum(map(cut_mid_phrase, t)) / len(t), sum(map(first_person, t)) / len(t), d, len(t))
             for d, t in by_day.items() if len(t) >= 20]
    over_cut = sum(c > TARGETS["cut"] for c, *_ in rates)
    over_first = sum(f > TARGETS["first"] for _, f, *_ in rates)
    worst_cut, worst_first = max(rates), max(rates, key=lambda r: r[1])
    print(f"{name}: {len(rates)} days with 20+ papers; over 1 in 40 cut: {over_cut}, over 1 in "
          f"20 first person: {over_first}; worst days: {_pct(worst_cut[0])} cut "
          f"({worst_cut[2]}, {worst_cut[3]} papers), {_pct(worst_first[1])} first person "
          f"({worst_first[2]}, {worst_first[3]} papers)")


# --- the summariser shipped before issue 18, verbatim (entry.py at f773470) --------------------

_WRAPPERS = re.compile(
    r"\\(?:emph|textbf|textit|texttt|textsc|textrm|text|mathrm|mathbf|mathcal|mathit|"
    r"mathsf|mathbb|operatorname|underline|url|footnote)\{([^{}]*)\}"
)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "fig.", "eq.", "cf.", "resp.", "approx.", "al.")
_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work))\b[^.]{0,40}?\b"
    r"(?:propose|introduce|present|develop|design|build|show|find|demonstrate|release)",
    re.IGNORECASE)


def legacy_summarize(abstract: str, limit: int = 200) -> str:
    """The contribution sentence (else the first), cut at a word with "." glued on."""
    sentences = _legacy_split(_legacy_drop_urls(_legacy_strip_latex(abstract)))
    if not sentences:
        return ""
    chosen = next((s for s in sentences if _CONTRIBUTION.search(s)), sentences[0])
    if len(chosen) <= limit:
        text = " ".join(chosen.split())
        return text if not text or text[-1] in ".!?" else text + "."
    cut = chosen[:limit + 1].rsplit(" ", 1)[0] if " " in chosen[:limit + 1] else ""
    cut = (cut or chosen[:limit]).rstrip(" ,;:-–—(/")
    return cut.rstrip(".!?") + "."


def _legacy_drop_urls(text: str) -> str:
    text = re.sub(r"(?:https?://|www\.)[^\s)]+[^\s).,;:]", "", text)
    text = re.sub(r"\(\s*(?:see|at|code:?)?\s*\)", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s+(?=[.,;:])", "", " ".join(text.split()))


def _legacy_strip_latex(text: str) -> str:
    text = re.sub(r"\\href\{[^{}]*\}\{([^{}]*)\}", r"\1", text)
    for _ in range(3):
        text = _WRAPPERS.sub(r"\1", text)
    text = re.sub(r"\\([%&_#$])", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)\*?", r"\1", text).replace("\\\\", " ")
    text = text.replace("``", '"').replace("''", '"').replace("~", " ")
    text = re.sub(r"(?<!\\)[${}]", "", text)
    return " ".join(text.split())


def _legacy_split(text: str) -> list[str]:
    sentences, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        if text[start:boundary.start()].lower().endswith(_ABBREVIATIONS):
            continue
        sentences.append(text[start:boundary.start()])
        start = boundary.end()
    sentences.append(text[start:])
    return [s.strip() for s in sentences if s.strip()]


if __name__ == "__main__":
    main()
