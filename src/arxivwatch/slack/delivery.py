"""Posting digests to Slack so that a candidate is never lost and never posted twice.

The window that matters is between "Slack accepted the message" and "we recorded its ts". Each
message therefore carries Slack message metadata (`event_type: arxivwatch_digest`, payload
`{"batch": <uuid>, "ids": [...]}`), and the batch is written to the store as an *intent* before
posting. A run that finds an intent without a recorded ts looks for the batch in
`conversations.history`: found -> record it, not found -> post it. The same lookup follows a
timeout or a 5xx on `chat.postMessage`, where Slack may have posted anyway.

Trade-off: reading history needs the `channels:history` scope (`groups:history` for a private
channel) and the channel *id*. Without the scope the lookup is skipped with a warning and the
message is posted again: a rare duplicate rather than a lost candidate. A `#name` channel's id is
learnt from the first successful post (and kept in the store), so only a crash inside the very
first post of a `#name` channel can duplicate; configure the id (C0123ABCD) to rule that out.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, TYPE_CHECKING, Any

from jinja2 import Environment
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from arxivwatch.errors import SlackError
from arxivwatch.models import Candidate
from arxivwatch.render import terminal_line as _clean
from arxivwatch.slack.blocks import (
    CatalogLine,
    SlackMessage,
    digest_messages,
    no_announcement_message,
    nothing_new_message,
    short_authors,
)
from arxivwatch.why import why_line

if TYPE_CHECKING:
    from arxivwatch.store import Store

log = logging.getLogger(__name__)

EVENT_TYPE = "arxivwatch_digest"
INTENT_KEY = "slack.intent"            # the batch being posted (JSON), deleted once recorded
CHANNEL_ID_KEY = "slack.channel_id."   # + configured channel -> its id (history needs the id)
NOTE_KEY = "slack.note."               # + note kind -> the last day that note was settled
CLOCK_SKEW = 300.0                     # seconds: our clock against Slack's, for `oldest`
_AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "account_inactive",
                "token_expired"}
_NO_HISTORY = {"missing_scope", "not_in_channel", "channel_not_found"}


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery did: messages posted (notes included) and papers recorded as posted."""

    posted_messages: int = 0
    posted_papers: int = 0
    paper_ids: tuple[str, ...] = ()
    recovered: int = 0          # papers found already posted (history) after an interruption


def make_client(token: str, api_url: str, *, timeout: int = 10) -> WebClient:
    """A WebClient without slack_sdk's own retries: SlackDelivery retries, with its sleeper."""
    return WebClient(token=token, base_url=api_url, timeout=timeout, retry_handlers=[])


def explain(error: str, method: str, channel: str, needed: str | None = None) -> str:
    """One line saying what a Slack error means here and what to change."""
    if error == "channel_not_found":
        return (f"Slack {method}: channel {channel} not found: check slack.channel (a #name or an "
                f"id like C0123ABCD); a private channel must invite the bot first")
    if error == "not_in_channel":
        return (f"Slack {method}: the bot is not in {channel}: invite the bot: "
                f"/invite @arxivwatch in {channel}")
    if error in _AUTH_ERRORS:
        return (f"Slack {method}: the bot token was refused ({error}): check SLACK_BOT_TOKEN (the "
                f"xoxb- token under OAuth & Permissions, app installed in the workspace)")
    if error == "missing_scope":
        return (f"Slack {method}: the app lacks the scope {needed or '?'}: add it under OAuth & "
                f"Permissions, reinstall the app and update SLACK_BOT_TOKEN")
    if error == "invalid_blocks":
        return f"Slack {method}: Slack refused the message blocks (an arxivwatch bug: report it)"
    return f"Slack {method} failed: {error}"


class SlackDelivery:
    """Posts digests and updates messages, with bounded retries and crash-safe bookkeeping."""

    def __init__(
        self, client: WebClient, channel: str, *, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time, attempts: int = 4, backoff: float = 2.0,
        max_wait: float = 120.0, new_batch: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.client, self.channel = client, channel
        self._sleep, self._clock, self._new_batch = sleep, clock, new_batch
        self.attempts, self.backoff, self.max_wait = attempts, backoff, max_wait
        self.channel_id: str | None = channel if _looks_like_id(channel) else None

    # -- public ------------------------------------------------------------------------------

    def deliver(
        self, store: Store, *, env: Environment, sections: Sequence[str],
        catalog_line: CatalogLine, post_empty_note: bool = False, announced: bool = True,
        day: date | None = None,
    ) -> DeliveryReport:
        """Posts every unposted candidate, one message per (day, section) and more if needed.

        `env` is the Slack environment and `catalog_line` renders the preview with the catalog
        template, both built once from the user's `templates_dir`.
        """
        self._load_channel_id(store)
        recovered = self._recover(store)
        pending = [s.candidate for s in store.unposted() if s.candidate.posted]
        ids: list[str] = []
        messages = 0
        for (cday, section), group in group_candidates(pending, sections):
            for message in digest_messages(section, cday, group, env=env, sections=sections,
                                           catalog_line=catalog_line):
                self._post_batch(store, message)
                messages, ids = messages + 1, ids + list(message.paper_ids)
            store.set_meta(NOTE_KEY + "nothing_new", cday.isoformat())  # the day had news
        note_day = day or datetime.fromtimestamp(self._clock(), UTC).date()
        if not announced:
            note = no_announcement_message(note_day, env=env)
            messages += self._note_once(store, "no_announcement", note_day, note)
        elif post_empty_note and not pending and not recovered:
            note = nothing_new_message(note_day, env=env)
            messages += self._note_once(store, "nothing_new", note_day, note)
        return DeliveryReport(messages, len(ids), tuple(ids), recovered)

    def update_message(self, channel: str, ts: str, blocks: list[dict[str, Any]],
                       text: str) -> None:
        """Rewrites a posted message (channel must be the id chat.postMessage returned)."""
        self._call("chat.update", lambda: self.client.chat_update(
            channel=channel, ts=ts, blocks=blocks, text=text))

    def post(self, message: SlackMessage) -> tuple[str, str]:
        """Posts one message without bookkeeping (notes); returns (channel id, ts)."""
        resp = self._call("chat.postMessage", lambda: self.client.chat_postMessage(
            channel=self.channel, text=message.text, blocks=message.blocks,
            unfurl_links=False, unfurl_media=False))
        return self._learn(resp)

    # -- the crash-safe post -----------------------------------------------------------------

    def _post_batch(self, store: Store, message: SlackMessage) -> None:
        batch, since = self._new_batch(), self._clock()
        intent = {"batch": batch, "ids": list(message.paper_ids), "at": since,
                  "channel": self.channel, "channel_id": self.channel_id}
        store.set_meta(INTENT_KEY, json.dumps(intent))
        metadata = {"event_type": EVENT_TYPE,
                    "event_payload": {"batch": batch, "ids": list(message.paper_ids)}}
        resp = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=self.channel, text=message.text, blocks=message.blocks,
                metadata=metadata, unfurl_links=False, unfurl_media=False),
            ambiguous=lambda: self._find_quietly(batch, since))
        channel, ts = self._learn(resp, store)
        store.mark_posted(list(message.paper_ids), channel, ts)
        store.set_meta(INTENT_KEY, None)

    def _recover(self, store: Store) -> int:
        """Settles an intent left by an interrupted run; returns the papers it recorded."""
        raw = store.get_meta(INTENT_KEY)
        if not raw:
            return 0
        intent = json.loads(raw)
        waiting = {s.candidate.paper.id for s in store.unposted()} & set(intent["ids"])
        found = self._find_for_recovery(intent) if waiting else None
        if found is not None:
            store.mark_posted(sorted(waiting), found[0], found[1])
            log.info("recovered Slack message %s for %d paper(s)", found[1], len(waiting))
        store.set_meta(INTENT_KEY, None)
        return len(waiting) if found else 0

    def _find_for_recovery(self, intent: Mapping[str, Any]) -> tuple[str, str] | None:
        channel_id = intent.get("channel_id") or self.channel_id
        if not channel_id or intent.get("channel") != self.channel:
            log.warning("cannot look for an interrupted Slack post (channel id unknown or "
                        "channel changed); posting those papers again")
            return None
        try:
            return self._find(channel_id, intent["batch"], float(intent["at"]))
        except SlackError as exc:
            if exc.error not in _NO_HISTORY:
                raise  # transient: keep the intent's papers for the next run, post nothing
            log.warning("%s; posting the interrupted batch again (it may appear twice). Add "
                        "the channels:history scope to rule that out.", exc)
            return None

    def _find_quietly(self, batch: str, since: float) -> dict[str, str] | None:
        if not self.channel_id:
            return None
        try:
            found = self._find(self.channel_id, batch, since)
        except SlackError as exc:
            log.warning("%s; retrying the post without checking for a duplicate", exc)
            return None
        return {"channel": found[0], "ts": found[1]} if found else None

    def _find(self, channel_id: str, batch: str, since: float) -> tuple[str, str] | None:
        """The (channel, ts) of the message carrying `batch`, searched from `since` on."""
        cursor: str | None = None
        while True:
            resp = self._history_page(channel_id, since, cursor)
            for message in resp.get("messages") or []:
                if _batch_of(message) == batch:
                    return channel_id, str(message["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def _history_page(self, channel_id: str, since: float, cursor: str | None) -> Any:
        return self._call("conversations.history", lambda: self.client.conversations_history(
            channel=channel_id, oldest=f"{since - CLOCK_SKEW:.6f}", limit=200,
            include_all_metadata=True, cursor=cursor))

    # -- calls, retries, errors --------------------------------------------------------------

    def _call(self, method: str, call: Callable[[], Any],
              ambiguous: Callable[[], Any] | None = None) -> Any:
        """Runs one API call: waits out 429s, retries 5xx and timeouts, explains the rest."""
        last = ""
        for attempt in range(self.attempts):
            try:
                return call()
            except SlackApiError as exc:
                wait, last = self._failure(method, exc)
                if wait is not None:
                    self._sleep(wait)
                    continue
            except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, URLError
                last = f"{type(exc).__name__}: {exc}"
            if ambiguous is not None and (found := ambiguous()) is not None:
                return found  # Slack had posted it after all
            if attempt + 1 < self.attempts:
                self._sleep(min(self.backoff * 2 ** attempt, self.max_wait))
        raise SlackError(f"Slack {method} failed {self.attempts} times (last: {last}); nothing "
                         f"is lost: the next run tries again", error=last)

    def _failure(self, method: str, exc: SlackApiError) -> tuple[float | None, str]:
        """(seconds to wait before retrying, or None to treat as a 5xx) for a retryable error."""
        status = getattr(exc.response, "status_code", 200)
        error = str(exc.response.get("error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            after = exc.response.headers.get("Retry-After") or exc.response.headers.get(
                "retry-after") or "1"
            return min(float(after), self.max_wait), "rate limited (429)"
        if status >= 500:
            return None, f"HTTP {status}"
        needed = exc.response.get("needed")
        raise SlackError(explain(error, method, self.channel, needed), error=error) from None

    def _learn(self, resp: Any, store: Store | None = None) -> tuple[str, str]:
        """Keeps the channel id Slack answered with (chat.update and history need the id)."""
        channel, ts = str(resp["channel"]), str(resp["ts"])
        if channel != self.channel_id:
            self.channel_id = channel
            if store is not None:
                store.set_meta(CHANNEL_ID_KEY + self.channel, channel)
        return channel, ts

    def _load_channel_id(self, store: Store) -> None:
        self.channel_id = store.get_meta(CHANNEL_ID_KEY + self.channel) or self.channel_id

    def _note_once(self, store: Store, kind: str, day: date,
                   message: SlackMessage) -> int:
        if store.get_meta(NOTE_KEY + kind) == day.isoformat():
            return 0
        self.post(message)
        store.set_meta(NOTE_KEY + kind, day.isoformat())
        return 1


def _looks_like_id(channel: str) -> bool:
    return channel[:1] in {"C", "G", "D"} and channel.isalnum() and channel.isupper()


def _batch_of(message: Mapping[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return None
    batch = (metadata.get("event_payload") or {}).get("batch")
    return batch if isinstance(batch, str) else None


def group_candidates(
    candidates: Iterable[Candidate], sections: Sequence[str],
) -> list[tuple[tuple[date, str], list[Candidate]]]:
    """Candidates by (day, section): days in order, sections in catalog order, unknown last."""
    groups: dict[tuple[date, str], list[Candidate]] = {}
    for c in candidates:
        groups.setdefault((c.day, c.section), []).append(c)
    order = {s: i for i, s in enumerate(sections)}
    return sorted(groups.items(),
                  key=lambda kv: (kv[0][0], order.get(kv[0][1], len(order)), kv[0][1]))


# -- without Slack -----------------------------------------------------------------------------


class TerminalDelivery:
    """Prints the digest readably, for `--dry-run` and when Slack is not configured."""

    def __init__(self, stream: IO[str], *, catalog_line: CatalogLine,
                 sections: Sequence[str] = ()) -> None:
        self.stream, self.catalog_line, self.sections = stream, catalog_line, sections

    def show(self, candidates: Sequence[Candidate], *, announced: bool = True,
             day: date | None = None) -> DeliveryReport:
        """Prints candidates grouped by day and section, best first; touches no store."""
        if not announced:
            self._line(f"arXiv made no announcement{f' for {day}' if day else ''}.")
        elif not candidates:
            self._line(f"No new candidates{f' for {day}' if day else ''}.")
        ids: list[str] = []
        for (cday, section), group in group_candidates(candidates, self.sections):
            self._line(f"\n== {_clean(section)} · {cday.isoformat()} ({len(group)}) ==")
            ranked = sorted(group, key=lambda c: (-c.score, c.rank, c.paper.id))
            for n, c in enumerate(ranked, 1):
                self._paper(n, c)
                ids.append(c.paper.id)
        return DeliveryReport(0, len(ids), tuple(ids))

    def _paper(self, n: int, c: Candidate) -> None:
        p = c.paper
        why = why_line(c.hits, c.reasons)
        self._line(f"{n:2d}. {_clean(p.title)}")
        if c.unsure:
            self._line("    unsure: does this belong? (just under the topic's bar)")
        self._line(f"    {p.url}")
        self._line(f"    {_clean(short_authors(p.authors))} · {_clean(', '.join(p.categories))}")
        self._line(f"    why: {_clean(why)}")
        self._line(f"    score: {c.score:.2f}")
        self._line(f"    adds: {_clean(self.catalog_line(c))}")

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")

