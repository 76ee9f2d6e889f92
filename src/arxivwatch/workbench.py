"""What `/arxivwatch` and the "File in catalog" shortcut do: the app's `slack.workbench.Workbench`.

Each answer comes from the code the terminal uses: `tune` from the library half of the CLI's
`tune`, `status` and `pending` from `reports`, a paper's card from the digest's card builder, an
approval from the decision service. The config read is the one in force (`LiveConfig`), and a
saved query goes through `config.edit` and becomes the one in force at once.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from arxivwatch import reports, wiring
from arxivwatch.catalog import Catalog, summarize
from arxivwatch.catalog_file import load_catalog
from arxivwatch.cleaner import one_line
from arxivwatch.clock import Clock, utcnow
from arxivwatch.config import Settings
from arxivwatch.config.edit import set_topic_query
from arxivwatch.config.live import LiveConfig
from arxivwatch.decisions import DecisionService
from arxivwatch.errors import ArxivWatchError, DecisionError
from arxivwatch.ids import normalize_id
from arxivwatch.models import Candidate, Paper
from arxivwatch.query import parse
from arxivwatch.ranking import Selector
from arxivwatch.slack.blocks import paper_blocks, short_authors
from arxivwatch.slack.workbench import Card, Filing, TuneReport
from arxivwatch.sources import ArxivAPI
from arxivwatch.store import Store

log = logging.getLogger(__name__)

ADDED_TOPIC = "(added)"     # the topic of a paper filed into a section no topic feeds
CACHE = 64                  # papers looked up, kept for the modal's next steps
Lookup = Callable[[Settings, Sequence[str]], list[Paper]]
Lines = Callable[[], list[str]]


def arxiv_lookup(settings: Settings, ids: Sequence[str]) -> list[Paper]:
    """The papers' metadata from the arXiv API, in one polite request."""
    with wiring.polite_session(settings.arxiv) as session:
        return ArxivAPI(session, settings.arxiv.api_url, page_size=len(ids)).lookup(list(ids))


class AppWorkbench:
    """The Workbench on the config in force, the store and the decision service."""

    def __init__(self, live: LiveConfig, store: Store, decisions: DecisionService, *,
                 templates: wiring.Templates | None = None, config_lines: Lines | None = None,
                 lookup: Lookup = arxiv_lookup,
                 clock: Clock = utcnow) -> None:
        """`templates`: the ones the app built from `templates_dir` (default: built here);
        `config_lines`: what `status` says of the config (default: the version in force here,
        which is right in `arxivwatch run`)."""
        self.live, self.store, self.decisions = live, store, decisions
        self.templates = templates or wiring.templates(live.settings)
        self._config_lines = config_lines or (lambda: [live.status_line()])
        self._lookup, self._clock = lookup, clock
        self._papers: OrderedDict[str, Paper] = OrderedDict()
        self._guard = threading.Lock()

    # -- reading --------------------------------------------------------------------------------

    def allowed(self, user: str) -> bool:
        """Whether `user` may change things: `slack.approvers` as in force (empty = anyone)."""
        return self.decisions.allowed(user)

    def status(self) -> list[str]:
        """`arxivwatch status`, with the config version in force."""
        return reports.status_lines(self.store, config=self._config_lines())

    def pending(self) -> list[str]:
        """`arxivwatch pending`."""
        return reports.pending_lines(self.store)

    def tune(self, topic: str, query: str | None) -> TuneReport:
        """`arxivwatch tune TOPIC [--query QUERY]` over the stored papers, its text part by part."""
        from arxivwatch.replay.tune import tune_parts, variants_of  # replay: only for tune

        settings = self.live.settings
        saved = settings.topic(topic)
        catalog = load_catalog(settings.catalog.path)
        parts = tune_parts(settings, catalog, variants_of(saved, query), self.store.iter_papers())
        differs = query is not None and query.split() != saved.query_text.split()
        return TuneReport(saved.name, saved.section, query, tuple(parts), saveable=differs)

    # -- changing -------------------------------------------------------------------------------

    def save_query(self, topic: str, query: str, user: str) -> str:
        """Write `query` for `topic` into topics.yaml; it is in force when this returns."""
        self._require(user)
        settings = self.live.settings
        parse(query)                     # the caret message, before the file is touched
        _, changed = set_topic_query(settings.config_path, topic, query, self.live.env)
        if not changed:
            return f"topic {topic} already has this query; topics.yaml is unchanged"
        self.live.refresh(f"query of {topic} saved from Slack by {user}")
        version = self.live.version
        log.info("query of topic %s saved by %s: %s (config version %s)", topic, user, query,
                 version.short)
        return (f"saved: topic {topic} now has the query {query} in "
                f"{settings.config_path.name} (config version {version.short}); the next "
                f"poll uses it")

    def add(self, ref: str, section: str | None, user: str) -> Card:
        """Look a paper up, make it a candidate (for `section`, else its best topic's) and give
        its card, as a digest shows it."""
        self._require(user)
        pid = normalize_id(ref)
        catalog = load_catalog(self.live.settings.catalog.path)
        _not_in_catalog(catalog, pid)
        stored = self.store.get_candidate(pid)
        if stored is not None and stored.decision is not None:
            d = stored.decision
            raise DecisionError(f"{pid} was already {d.action}d by {d.user} at "
                                f"{d.at:%Y-%m-%d %H:%M} UTC")
        if stored is None:
            target = str(catalog.section(section).path_text) if section else None
            self.store.add_candidates([self._candidate(self._paper(pid), target, catalog)])
            stored = self.store.get_candidate(pid)
            assert stored is not None
            c = stored.candidate
            note = (f"arXiv {pid}, a candidate for {c.section} now (topic {c.topic}); "
                    "decide below. Left undecided, it joins the next digest.")
        else:
            where = "posted in the digest" if stored.slack_ts else "awaiting the next digest"
            note = (f"arXiv {pid} is already a candidate for {stored.candidate.section} ({where}); "
                    "decide below, or pick another section in the card.")
        return Card(note, card_blocks(self.templates, catalog, stored.candidate))

    def filing(self, ids: list[str], paper_id: str | None = None) -> Filing:
        """The shortcut's modal for `paper_id` (default: the first of `ids`)."""
        settings = self.live.settings
        wanted = [normalize_id(i) for i in ids]
        pid = normalize_id(paper_id) if paper_id else wanted[0]
        found = self._papers_for(wanted)
        if pid not in found:
            raise ArxivWatchError(f"arXiv has no paper {pid}; check the link")
        paper, catalog = found[pid], load_catalog(settings.catalog.path)
        where = catalog.index().sections_of(pid, paper.title)
        already = f"{pid} is already in the catalog under {' > '.join(where[0])}; nothing to " \
                  "file" if where else None
        stored = self.store.get_candidate(pid)
        # a paper already filed shows no select: no need to rank it (a second or two)
        suggested = (stored.candidate.section if stored is not None
                     else None if already else self._best_section(paper, catalog))
        choices = tuple((i, f"{i}: {found[i].title}" if i in found else i) for i in wanted)
        return Filing(pid, paper.title, paper.url, _authors(paper), catalog.filing_paths(),
                      suggested, _summary(paper), choices, already)

    def propose(self, paper_id: str, section: str, user: str) -> None:
        """Make the paper a candidate for `section` unless it is one; nothing written unless
        `user` may decide and `section` is in the catalog."""
        self._require(user)
        pid = normalize_id(paper_id)
        catalog = load_catalog(self.live.settings.catalog.path)
        target = str(catalog.section(section).path_text)
        if self.store.get_candidate(pid) is not None:
            return
        _not_in_catalog(catalog, pid)
        self.store.add_candidates([self._candidate(self._paper(pid), target, catalog)])

    # -- helpers --------------------------------------------------------------------------------

    def _require(self, user: str) -> None:
        if not self.allowed(user):
            raise DecisionError(f"{user} is not allowed to change anything; ask for the Slack "
                                "user id to be added to slack.approvers in the config")

    def _paper(self, pid: str) -> Paper:
        found = self._papers_for([pid])
        if pid not in found:
            raise ArxivWatchError(f"arXiv has no paper {pid}; check the id")
        return found[pid]

    def _papers_for(self, ids: list[str]) -> dict[str, Paper]:
        """The papers, from this process's recent look-ups, else arXiv (else the store)."""
        with self._guard:
            found = {i: self._papers[i] for i in ids if i in self._papers}
        missing = [i for i in ids if i not in found]
        if missing:
            try:
                fetched = self._lookup(self.live.settings, missing)
            except ArxivWatchError as exc:
                stored = [p for p in map(self.store.get_paper, missing) if p is not None]
                if len(stored) < len(missing):
                    raise ArxivWatchError(f"could not look the paper up on arXiv: {exc}") \
                        from None
                fetched = stored
            found |= {p.id: p for p in fetched}
            with self._guard:
                for paper in fetched:
                    self._papers[paper.id] = paper
                    self._papers.move_to_end(paper.id)
                while len(self._papers) > CACHE:
                    self._papers.popitem(last=False)
        return found

    def _matches(self, paper: Paper, catalog: Catalog) -> list[Any]:
        """The topics the paper matches, scored as the poll scores them, best first."""
        settings = self.live.settings
        scorer = wiring.scorer_for(settings)(catalog, self.store)
        return Selector(settings.topics, scorer).match(paper)

    def _best_section(self, paper: Paper, catalog: Catalog) -> str | None:
        matches = self._matches(paper, catalog)
        return str(matches[0].topic.section) if matches else None

    def _candidate(self, paper: Paper, section: str | None, catalog: Catalog) -> Candidate:
        """The candidate the poll would make, for `section` when given (its topic, if one
        feeds it, else `ADDED_TOPIC`); ArxivWatchError when there is no section at all."""
        settings = self.live.settings
        matches = self._matches(paper, catalog)
        mine = next((m for m in matches if section is None or m.topic.section == section), None)
        if section is not None:
            target = section
        elif mine is not None:
            target = str(mine.topic.section)
        else:
            raise ArxivWatchError(f"{paper.id} matches no topic; give the section to file it "
                                  "under: /arxivwatch add ID SECTION")
        topic = mine.topic.name if mine else next(
            (t.name for t in settings.topics if t.section == target), ADDED_TOPIC)
        others = tuple(m.topic.name for m in matches if m is not mine)
        day = self._clock().date()
        if mine is None:
            return Candidate(paper, topic, target, 0.0, day, alternatives=others, rank=1)
        return Candidate(paper, topic, target, mine.score, day, mine.hits, mine.reasons, others,
                         rank=1)


def card_blocks(templates: wiring.Templates, catalog: Catalog,
                candidate: Candidate) -> list[dict[str, Any]]:
    """The paper's card as a digest shows it: the digest's own card builder and templates."""
    return paper_blocks(candidate, env=templates.slack, sections=catalog.filing_paths(),
                        catalog_line=templates.catalog_line)


def _not_in_catalog(catalog: Catalog, pid: str) -> None:
    where = catalog.index().sections_of(pid)
    if where:
        raise DecisionError(f"{pid} is already in the catalog under {' > '.join(where[0])}")


def _authors(paper: Paper) -> str:
    return short_authors(paper.authors)


def _summary(paper: Paper) -> str:
    """The built-in summary the catalog line gets (as `DecisionService.suggested_summary`)."""
    return one_line(summarize(paper.abstract))
