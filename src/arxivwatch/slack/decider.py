"""The decision port of the Slack adapter, and the one path from a decision to its message.

`Decider` is what Slack needs from the app's decisions; the wiring implements it
(`arxivwatch.decisions.DecisionService`), so this package imports no wiring. `SlackDecider`
decides through it, then swaps the paper's buttons in its digest message for who decided what:
the buttons, the edit modal and the CLI's approve/reject all go this way.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from arxivwatch.models import DecisionOutcome
from arxivwatch.slack.blocks import decided_blocks

log = logging.getLogger(__name__)

Blocks = list[dict[str, Any]]
Where = tuple[str, str]                 # (channel id, message ts) of a digest message
DecidedBlocks = Callable[..., Blocks]


class Decider(Protocol):
    """What Slack needs from the app's decisions (`arxivwatch.decisions.DecisionService`).

    `approve` and `reject` raise `ArxivWatchError` with a readable message when the user may not
    decide, the paper is no candidate, or the section does not exist.
    """

    def approve(self, paper_id: str, user: str, *, section: str | None = None,
                summary: str | None = None) -> DecisionOutcome: ...
    def reject(self, paper_id: str, user: str) -> DecisionOutcome: ...
    def allowed(self, user: str) -> bool: ...
    def sections(self) -> list[str]: ...
    def suggested_section(self, paper_id: str) -> str | None: ...
    def suggested_summary(self, paper_id: str) -> str: ...
    def posted_at(self, paper_id: str) -> Where | None: ...


@dataclass(frozen=True, slots=True)
class Shown:
    """A decision's outcome and what became of the digest message that shows the paper."""

    outcome: DecisionOutcome
    where: Where | None = None     # the message updated, or that could not be
    error: str | None = None       # why it could not be updated

    @property
    def note(self) -> str:
        """What the person who decided should be told; empty when the message says it all."""
        if self.error:
            return f"{self.outcome.message}; the message could not be updated ({self.error})"
        return "" if self.outcome.applied else self.outcome.message


class SlackDecider:
    """Decides through a `Decider`, then swaps the paper's buttons for the decision.

    The message is the one clicked, or else (the CLI) the one the paper was posted in. Without a
    client, nothing is shown in Slack.
    """

    def __init__(self, decider: Decider, client: WebClient | None, *,
                 decided: DecidedBlocks = decided_blocks) -> None:
        self.decider, self._decided = decider, decided
        self.updater = MessageUpdater(client, decided=decided) if client is not None else None

    def decided_blocks(self, blocks: Blocks, outcome: DecisionOutcome) -> Blocks:
        """`blocks` with the decided paper's controls replaced by the decision."""
        d = outcome.decision
        return self._decided(blocks, d.paper_id, action=d.action, user_id=d.user,
                             section=d.section, catalog_line=outcome.catalog_line)

    def approve(self, paper_id: str, user: str, *, section: str | None = None,
                summary: str | None = None, where: Where | None = None,
                blocks: Blocks | None = None) -> Shown:
        """Approve, then show it; `ArxivWatchError` when the decision is refused."""
        outcome = self.decider.approve(paper_id, user, section=section, summary=summary)
        return self._show(outcome, where, blocks)

    def reject(self, paper_id: str, user: str, *, where: Where | None = None,
               blocks: Blocks | None = None) -> Shown:
        """Reject, then show it; `ArxivWatchError` when the decision is refused."""
        return self._show(self.decider.reject(paper_id, user), where, blocks)

    def _show(self, outcome: DecisionOutcome, where: Where | None, blocks: Blocks | None) -> Shown:
        if self.updater is None:
            return Shown(outcome)
        where = where or self.decider.posted_at(outcome.decision.paper_id)
        if where is None:
            return Shown(outcome)
        try:
            self.updater.update(*where, outcome, blocks)
        except Exception as exc:  # the decision stands; say so rather than fail silently
            known = isinstance(exc, SlackApiError | OSError)
            log.error("could not update message %s/%s: %s", *where, exc, exc_info=not known)
            return Shown(outcome, where, why(exc))
        return Shown(outcome, where)


class MessageUpdater:
    """Swaps a decided paper's buttons for the decision in its digest message.

    One digest message holds several papers, so two clicks in it at once would each rewrite the
    message from their own stale copy and undo each other: updates of a message are serialised
    and start from the blocks this process last wrote.
    """

    def __init__(self, client: WebClient, *, decided: DecidedBlocks = decided_blocks,
                 keep: int = 256) -> None:
        self.client, self._decided, self._keep = client, decided, keep
        self._latest: OrderedDict[Where, Blocks] = OrderedDict()
        self._locks: dict[Where, threading.Lock] = {}
        self._guard = threading.Lock()

    def update(self, channel: str, ts: str, outcome: DecisionOutcome,
               original: Blocks | None = None) -> None:
        """Rewrite message `ts` in `channel` to show `outcome.decision`."""
        key = (channel, ts)
        with self._lock(key):
            base = self._latest.get(key) or original or self.fetch(channel, ts)
            d = outcome.decision
            blocks = self._decided(base, d.paper_id, action=d.action, user_id=d.user,
                                   section=d.section, catalog_line=outcome.catalog_line)
            self.client.chat_update(channel=channel, ts=ts, blocks=blocks, text=outcome.message)
            self.remember(key, blocks)

    def fetch(self, channel: str, ts: str) -> Blocks:
        """The current blocks of one message, through conversations.history."""
        resp = self.client.conversations_history(
            channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
        for message in resp.get("messages") or []:
            if message.get("ts") == ts:
                return list(message.get("blocks") or [])
        return []

    def _lock(self, key: Where) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def remember(self, key: Where, blocks: Blocks) -> None:
        """Keep `blocks` as the latest known content of message `key` (channel, ts)."""
        with self._guard:
            self._latest[key] = blocks
            self._latest.move_to_end(key)
            while len(self._latest) > self._keep:
                old, _ = self._latest.popitem(last=False)
                self._locks.pop(old, None)


def why(exc: Exception) -> str:
    """A Slack error's code (`channel_not_found`), or the exception's text."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc)
    return str(exc)
