"""Summaries by a language model, optional: any OpenAI-compatible chat completions API (Ollama,
llama.cpp's server, vLLM, LM Studio, or a hosted API).

At the poll, each new candidate's summary is asked for once and stored with it (the preview, a
later Slack update and the approval then show the same line, and a rerun asks nothing). The
prompt gives the paper's title and abstract and a few of the target section's own catalog lines
as examples of voice and length. The answer is cleaned (its first line, markup, LaTeX and URLs
out, at most 200 characters ended at a clause) and checked (a whole phrase, not "we", not a
refusal). Anything else -- an HTTP error, a timeout, an unusable answer, no server -- keeps the
built-in summary for that paper. A poll gives the model at most POLL_BUDGET seconds and stops
asking once the server cannot be reached (or timed out twice running), so the model never
fails or stalls a poll; what fell back is logged once per poll.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from arxivwatch.catalog import Catalog
from arxivwatch.cleaner import one_line
from arxivwatch.config.settings import LLMSettings
from arxivwatch.errors import ArxivWatchError, CatalogError
from arxivwatch.models import Candidate, Paper, Summary
from arxivwatch.summary import (
    SUMMARY_LIMIT,
    cut_mid_phrase,
    drop_urls,
    first_person,
    fit,
    strip_latex,
    summarize,
)

log = logging.getLogger(__name__)

POLL_BUDGET = 300.0     # seconds of model time per poll; later papers keep the built-in summary
EXAMPLES = 3            # catalog lines shown to the model as examples of voice and length
MAX_TOKENS = 300        # room for one sentence (and a reasoning model's short preamble)
BUILT_IN = "built-in"
_ABSTRACT_CHARS = 3000  # an abstract longer than this is cut for the prompt

SYSTEM = (
    "You write the one-sentence summaries of a curated reading list of research papers. Match "
    "the list's voice and length, shown in the examples: a short description of what the paper "
    "contributes, often a phrase starting with a gerund (\"Proposing ...\", \"Adding ...\"), "
    "never \"we\" or \"our\", keeping the method's name. Plain text: no markdown, no LaTeX, no "
    f"URLs, one sentence of at most {SUMMARY_LIMIT} characters. Answer with the sentence only."
)


class LLMError(ArxivWatchError):
    """A request to the language model that gave no usable summary (the reason says why)."""

    def __init__(self, message: str, *, unreachable: bool = False,
                 timed_out: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable      # the server could not be reached: stop asking
        self.timed_out = timed_out


class ChatClient:
    """POSTs to `{base_url}/chat/completions`, the OpenAI chat API; one answer's text back."""

    def __init__(self, settings: LLMSettings, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self.url = settings.base_url.rstrip("/") + "/chat/completions"

    def complete(self, messages: Sequence[dict[str, str]], *, timeout: float) -> str:
        """The model's answer to `messages`; LLMError on any failure, within `timeout` seconds."""
        body = {"model": self.settings.model, "messages": list(messages), "temperature": 0.2,
                "max_tokens": MAX_TOKENS, "stream": False}
        headers = {"Authorization": f"Bearer {self.settings.api_key}"} \
            if self.settings.api_key else {}
        try:
            resp = self.session.post(self.url, json=body, headers=headers, timeout=timeout)
        except requests.Timeout:
            raise LLMError(f"no answer from {self.url} within {timeout:g} s",
                           timed_out=True) from None
        except requests.RequestException as exc:
            raise LLMError(f"cannot reach {self.url}: {type(exc).__name__}",
                           unreachable=True) from None
        if resp.status_code >= 400:
            raise LLMError(f"{self.url} answered HTTP {resp.status_code}: {_error_of(resp)}")
        return _content(resp, self.url)


def _error_of(resp: requests.Response) -> str:
    try:
        error = resp.json().get("error")
    except (ValueError, AttributeError):
        return one_line(resp.text)[:120] or resp.reason or "-"
    message = error.get("message") if isinstance(error, dict) else error
    return one_line(message or resp.reason or "-")[:120]


def _content(resp: requests.Response, url: str) -> str:
    try:
        choice = resp.json()["choices"][0]
        text = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError(f"{url} gave no chat completion (not the OpenAI chat API?)") from None
    if not isinstance(text, str):
        raise LLMError(f"{url} gave an answer without text")
    if choice.get("finish_reason") == "length":
        raise LLMError(f"the answer was cut at {MAX_TOKENS} tokens")
    return text


# --- the prompt and the answer -----------------------------------------------------------------


def prompt(paper: Paper, examples: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """The chat messages: the list's voice, its example lines, then the paper."""
    shown = "\n".join(f"- {title}: {summary}" for title, summary in examples)
    abstract = " ".join(strip_latex(paper.abstract).split())[:_ABSTRACT_CHARS]
    user = (f"Examples from the section of the list this paper goes to (title: summary):\n"
            f"{shown or '- (none yet)'}\n\nPaper title: {one_line(paper.title)}\n"
            f"Abstract: {abstract}\n\nThe summary of this paper, in the list's voice:")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def examples_for(catalog: Catalog, section: str, n: int = EXAMPLES) -> list[tuple[str, str]]:
    """Up to `n` (title, summary) pairs of the section's own entries, else of the catalog's."""
    try:
        own = catalog.section(section).entries
    except CatalogError:
        own = []
    others = (e for s in catalog.filing_sections() for e in s.entries)   # read until n found
    found: dict[str, str] = {}
    for entry in itertools.chain(own, others):
        if len(found) >= n:
            break
        if 30 <= len(entry.summary) <= 300 and entry.title not in found:
            found[entry.title] = entry.summary
    return list(found.items())


_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^(?:(?:one[- ]sentence |the )?summary|tl;?dr|answer)\s*:\s*", re.IGNORECASE)
_MARKUP = re.compile(r"(\*\*|__|`|^#+\s*|^[-*•]\s+|^\d+[.)]\s+)", re.MULTILINE)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REFUSAL = re.compile(r"\b(?:sorry|as an ai|i can(?:no|')t|i am unable|i'm unable|cannot help)\b",
                      re.IGNORECASE)


def clean_answer(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """The model's answer as a catalog summary: one line of plain text within `limit`.

    LLMError when nothing usable is left: empty, a refusal, first person, a fragment.
    """
    body = _THINK.sub("", text)
    line = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", _MARKUP.sub("", _LINK.sub(r"\1", line)).strip())
    line = one_line(drop_urls(strip_latex(line))).strip(" \"'“”‘’")
    if not line:
        raise LLMError("the answer was empty")
    if _REFUSAL.search(line):
        raise LLMError(f"the answer was a refusal: {line[:80]!r}")
    if first_person(line):
        raise LLMError(f"the answer speaks as the authors: {line[:80]!r}")
    summary = fit(line[0].upper() + line[1:], limit)
    if len(summary) < 20 or cut_mid_phrase(summary):
        raise LLMError(f"the answer is not a whole phrase: {line[:80]!r}")
    return summary


# --- at the poll -------------------------------------------------------------------------------


class Summarizer:
    """Gives every new candidate its summary: the model's where it answers well, else built-in.

    Called by the poll with the day's candidates and the catalog; a candidate that already has
    a summary is left as it is.
    """

    def __init__(self, client: ChatClient | None = None, *, budget: float = POLL_BUDGET,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.budget, self.clock = client, budget, clock

    def __call__(self, candidates: Sequence[Candidate], catalog: Catalog) -> list[Candidate]:
        run = _Run(self, catalog)
        done = [c if c.summary is not None else dataclasses.replace(c, summary=run.summary(c))
                for c in candidates]
        run.report()
        return done


class _Run:
    """One poll's requests: the deadline, why asking stopped, what the model wrote."""

    def __init__(self, owner: Summarizer, catalog: Catalog) -> None:
        self.client, self.catalog, self.clock = owner.client, catalog, owner.clock
        self.budget, self.deadline = owner.budget, owner.clock() + owner.budget
        self.stopped: str | None = None
        self.first_failure: str | None = None
        self.timeouts = self.wrote = self.fell_back = 0

    def summary(self, c: Candidate) -> Summary:
        if self.client is not None:
            text = self._ask(self.client, c)
            if text is not None:
                self.wrote += 1
                return Summary(text, f"llm:{self.client.settings.model}")
            self.fell_back += 1
        return Summary(summarize(c.paper.abstract), BUILT_IN)

    def _ask(self, client: ChatClient, c: Candidate) -> str | None:
        left = self.deadline - self.clock()
        if self.stopped is None and left < 1:
            self.stopped = f"the poll's {self.budget:.0f} s for the model were spent"
        if self.stopped is not None:
            return None
        try:
            answer = client.complete(prompt(c.paper, examples_for(self.catalog, c.section)),
                                     timeout=min(client.settings.timeout, left))
            text = clean_answer(answer)
        except LLMError as exc:
            self._failed(c, exc)
            return None
        self.timeouts = 0
        return text

    def _failed(self, c: Candidate, exc: LLMError) -> None:
        self.first_failure = self.first_failure or f"{c.paper.id}: {exc}"
        self.timeouts = self.timeouts + 1 if exc.timed_out else 0
        if exc.unreachable:
            self.stopped = str(exc)
        elif self.timeouts >= 2:
            self.stopped = "two requests in a row timed out"

    def report(self) -> None:
        """One log line for the poll: how many summaries the model wrote, and why not the rest."""
        if self.client is None or not (self.wrote or self.fell_back):
            return
        model = self.client.settings.model
        if not self.fell_back:
            log.info("summaries: %s wrote all %d", model, self.wrote)
            return
        why = "; ".join(w for w in (self.first_failure,
                                    self.stopped and f"stopped asking: {self.stopped}") if w)
        log.warning("summaries: %d of %d papers keep the built-in summary, %s wrote %d (%s)",
                    self.fell_back, self.fell_back + self.wrote, model, self.wrote, why)


def summarizer(settings: Any, *, session: requests.Session | None = None) -> Summarizer:
    """The poll's summarizer from Settings: with the model of `summaries.llm`, when set."""
    llm = settings.summaries.llm
    return Summarizer(ChatClient(llm, session=session) if llm is not None else None)
