"""Slack interactions, framework-free: verify, acknowledge at once, then decide off the request.

`Interactions.handle_http(body, headers)` is the whole HTTP contract (the server is a thin shell
around it) and `handle_socket(payload)` the Socket Mode one; both end in `dispatch(payload)`, which
routes `block_actions` (approve / reject / section / edit) and the edit modal's `view_submission`,
schedules the slow work on an executor and returns the acknowledgement straight away, well within
Slack's 3 seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

from arxivwatch.decisions import DecisionService, Outcome
from arxivwatch.errors import ArxivWatchError

log = logging.getLogger(__name__)

EDIT_CALLBACK = "arxivwatch_edit"
Blocks = list[dict[str, Any]]
DecidedBlocks = Callable[..., Blocks]


# A `slack_sdk.WebClient` (or a stand-in): chat_update, chat_postEphemeral, views_open and
# conversations_history are the methods used. Typed loosely: WebClient's keyword signatures do
# not fit a Protocol that a test stand-in could also satisfy.
SlackClient = Any


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What the HTTP adapter sends back."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def verify(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's v0 signature check; a malformed header is a failed check, never an exception."""
    try:
        return verifier.is_valid_request(body, dict(headers.items()))
    except (ValueError, TypeError, OverflowError):
        return False


class MessageUpdater:
    """Swaps a decided paper's buttons for the decision in its digest message.

    One digest message holds several papers, so two clicks in it at once would each rewrite the
    message from their own stale copy and undo each other: updates of a message are serialised
    and start from the blocks this process last wrote.
    """

    def __init__(self, client: SlackClient, *, decided: DecidedBlocks | None = None,
                 keep: int = 256) -> None:
        self.client, self._decided, self._keep = client, decided, keep
        self._latest: OrderedDict[tuple[str, str], Blocks] = OrderedDict()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def update(self, channel: str, ts: str, outcome: Outcome,
               original: Blocks | None = None) -> None:
        """Rewrite message `ts` in `channel` to show `outcome.decision`."""
        key = (channel, ts)
        with self._lock(key):
            base = self._latest.get(key) or original or self.fetch(channel, ts)
            d = outcome.decision
            blocks = self._render(base, d.paper_id, action=d.action, user_id=d.user,
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

    def _render(self, base: Blocks, paper_id: str, **kw: Any) -> Blocks:
        if self._decided is not None:
            return self._decided(base, paper_id, **kw)
        from arxivwatch.slack.blocks import decided_blocks

        return decided_blocks(base, paper_id, **kw)

    def _lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def remember(self, key: tuple[str, str], blocks: Blocks) -> None:
        """Keep `blocks` as the latest known content of message `key` (channel, ts)."""
        with self._guard:
            self._latest[key] = blocks
            self._latest.move_to_end(key)
            while len(self._latest) > self._keep:
                old, _ = self._latest.popitem(last=False)
                self._locks.pop(old, None)


class Interactions:
    """Routes Slack interaction payloads to the decision service, slow work after the ack."""

    def __init__(
        self, service: DecisionService, delivery_or_client: SlackClient, *, signing_secret: str,
        clock: Callable[[], float] = time.time, executor: Executor | None = None,
        decided: DecidedBlocks | None = None,
    ) -> None:
        self.service, self.client = service, delivery_or_client
        self.verifier = SignatureVerifier(signing_secret or "unset", clock=_Clock(clock))
        self.executor = executor or ThreadPoolExecutor(4, thread_name_prefix="slack-work")
        self.updater = MessageUpdater(delivery_or_client, decided=decided)
        self._has_secret = bool(signing_secret)

    # -- entry points ------------------------------------------------------------------------

    def handle_http(self, body: bytes, headers: Mapping[str, str]) -> HttpResponse:
        """Verify a raw HTTP request from Slack, then dispatch it; 401 if the signature fails."""
        if not self._has_secret or not verify(self.verifier, body, headers):
            log.warning("refused a Slack request with a missing, forged or stale signature")
            return HttpResponse(401, b"invalid signature\n", {"Content-Type": "text/plain"})
        try:
            payload = parse_body(body)
        except ValueError as exc:
            log.warning("unreadable Slack request: %s", exc)
            return HttpResponse(400, b"bad request\n", {"Content-Type": "text/plain"})
        if payload.get("type") == "url_verification":
            challenge = json.dumps({"challenge": payload.get("challenge", "")}).encode()
            return HttpResponse(200, challenge, {"Content-Type": "application/json"})
        return self.dispatch(payload)

    def handle_socket(self, payload: Mapping[str, Any]) -> None:
        """A Socket Mode `interactive` payload (the envelope is already acknowledged)."""
        self.dispatch(payload)

    def dispatch(self, payload: Mapping[str, Any]) -> HttpResponse:
        """Route one verified payload: schedule its work, return the ack at once."""
        kind = payload.get("type")
        if kind == "block_actions":
            for action in payload.get("actions") or []:
                self._route_action(payload, action)
        elif kind == "view_submission" and _callback(payload) == EDIT_CALLBACK:
            self._submit(lambda: self._on_submission(payload))
        else:
            log.info("ignored Slack payload of type %r", kind)
        return HttpResponse(200)

    def close(self) -> None:
        """Finish the queued work."""
        self.executor.shutdown(wait=True)

    # -- routing -----------------------------------------------------------------------------

    def _route_action(self, payload: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        action_id = str(action.get("action_id", ""))
        if action_id.startswith("approve"):
            self._submit(lambda: self._on_approve(payload, action))
        elif action_id.startswith("reject"):
            self._submit(lambda: self._on_reject(payload, action))
        elif action_id.startswith("edit"):
            self._submit(lambda: self._on_edit(payload, action))
        elif action_id.startswith("section"):
            # Slack keeps the select's value and sends it in `state` with the next click.
            log.debug("section chosen: %s", _selected(action))
        else:
            log.info("ignored Slack action %r", action_id)

    def _submit(self, work: Callable[[], None]) -> None:
        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("Slack interaction failed")
        self.executor.submit(run)

    # -- slow work ---------------------------------------------------------------------------

    def _on_approve(self, payload: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        pid, where = str(action.get("value", "")), _where(payload)
        section = chosen_section(payload, pid, action.get("block_id"))
        self._decide(where, _user(payload), pid, payload,
                     lambda: self.service.approve(pid, _user(payload), section=section))

    def _on_reject(self, payload: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        pid = str(action.get("value", ""))
        self._decide(_where(payload), _user(payload), pid, payload,
                     lambda: self.service.reject(pid, _user(payload)))

    def _on_edit(self, payload: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        pid, (channel, ts), user = str(action.get("value", "")), _where(payload), _user(payload)
        if not self.service.allowed(user):
            self._tell(channel, user, self._refusal(user))
            return
        blocks = (payload.get("message") or {}).get("blocks")
        if blocks:
            self.updater.remember((channel, ts), list(blocks))
        section = chosen_section(payload, pid, action.get("block_id"))
        try:
            sections, summary = self.service.sections(), self.service.suggested_summary(pid)
        except ArxivWatchError as exc:  # the candidate is gone, or the catalog is unreadable
            log.info("edit of %s by %s refused: %s", pid, user, exc)
            self._tell(channel, user, f":no_entry: {exc}")
            return
        view = edit_modal(pid, channel, ts, sections=sections,
                          current=section or self._suggested_section(pid), summary=summary)
        self.client.views_open(trigger_id=payload.get("trigger_id"), view=view)

    def _on_submission(self, payload: Mapping[str, Any]) -> None:
        view = payload.get("view") or {}
        meta = json.loads(view.get("private_metadata") or "{}")
        pid, channel, ts = meta.get("paper_id", ""), meta.get("channel", ""), meta.get("ts", "")
        values = (view.get("state") or {}).get("values") or {}
        section = ((values.get("section") or {}).get("section") or {}).get("selected_option")
        summary = ((values.get("summary") or {}).get("summary") or {}).get("value")
        user = _user(payload)
        self._decide((channel, ts), user, pid, None, lambda: self.service.approve(
            pid, user, section=(section or {}).get("value"), summary=summary))

    def _decide(self, where: tuple[str, str], user: str, pid: str,
                payload: Mapping[str, Any] | None, act: Callable[[], Outcome]) -> None:
        channel, ts = where
        try:
            outcome = act()
        except ArxivWatchError as exc:
            log.info("decision on %s by %s refused: %s", pid, user, exc)
            self._tell(channel, user, f":no_entry: {exc}")
            return
        original = (payload or {}).get("message", {}).get("blocks") if payload else None
        note = outcome.message if not outcome.applied else ""
        if channel and ts:
            try:
                self.updater.update(channel, ts, outcome, original)
            except Exception as exc:  # the decision stands; say so rather than fail silently
                log.exception("could not update message %s/%s", channel, ts)
                note = f"{outcome.message}; the message could not be updated ({exc})"
        if note:
            self._tell(channel, user, f":information_source: {note}")
        log.info("%s", outcome.message)

    def _tell(self, channel: str, user: str, text: str) -> None:
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except Exception as exc:  # the notice is a courtesy; never let it mask the decision
            log.warning("could not tell %s in %s: %s", user, channel, exc)

    def _refusal(self, user: str) -> str:
        return f":no_entry: <@{user}> is not in slack.approvers; nothing was changed"

    def _suggested_section(self, pid: str) -> str | None:
        cand = self.service.store.get_candidate(pid)
        return str(cand.section) if cand is not None else None


# -- payload helpers (pure) --------------------------------------------------------------------


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON of a `payload=` form body (or a JSON body); ValueError when it is neither."""
    text = body.decode("utf-8")
    if text.lstrip().startswith("{"):
        data = json.loads(text)
    else:
        fields = parse_qs(text, keep_blank_values=True)
        if "payload" not in fields:
            raise ValueError("no payload field in the form body")
        data = json.loads(fields["payload"][0])
    if not isinstance(data, dict):
        raise ValueError("payload is not a JSON object")
    return data


def chosen_section(payload: Mapping[str, Any], paper_id: str, block_id: Any = None) -> str | None:
    """The section picked in this paper's select, from the `state.values` Slack sends."""
    values = ((payload.get("state") or {}).get("values")) or {}
    for bid, inner in values.items():
        for aid, state in (inner or {}).items():
            if not str(aid).startswith("section"):
                continue
            if bid == block_id or paper_id in str(bid) or paper_id in str(aid):
                picked = _selected(state)
                if picked:
                    return picked
    return None


def _selected(state: Mapping[str, Any]) -> str | None:
    option = state.get("selected_option") or {}
    value = option.get("value")
    return str(value) if value else None


def edit_modal(paper_id: str, channel: str, ts: str, *, sections: list[str],
               current: str | None, summary: str) -> dict[str, Any]:
    """The modal to file a paper under a chosen section with an edited summary."""
    options = [_option(s) for s in sections if len(s) <= 150][:100]
    select: dict[str, Any] = {"type": "static_select", "action_id": "section", "options": options}
    initial = next((o for o in options if o["value"] == current), None)
    if initial:
        select["initial_option"] = initial
    meta = json.dumps({"paper_id": paper_id, "channel": channel, "ts": ts})
    return {
        "type": "modal", "callback_id": EDIT_CALLBACK, "private_metadata": meta,
        "title": _plain("File into catalog"), "submit": _plain("Approve"),
        "close": _plain("Cancel"),
        "blocks": [
            {"type": "section", "text": _plain(f"arXiv {paper_id}")},
            {"type": "input", "block_id": "section", "label": _plain("Section"),
             "element": select},
            {"type": "input", "block_id": "summary", "label": _plain("Summary"),
             "element": {"type": "plain_text_input", "action_id": "summary",
                         "initial_value": summary[:3000], "max_length": 3000,
                         "multiline": True}},
        ],
    }


def _option(section: str) -> dict[str, Any]:
    text = section if len(section) <= 75 else "…" + section[-74:]
    return {"text": _plain(text), "value": section}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _user(payload: Mapping[str, Any]) -> str:
    return str((payload.get("user") or {}).get("id", ""))


def _where(payload: Mapping[str, Any]) -> tuple[str, str]:
    """(channel id, message ts) of the message the click came from."""
    container = payload.get("container") or {}
    channel = (payload.get("channel") or {}).get("id") or container.get("channel_id", "")
    ts = (payload.get("message") or {}).get("ts") or container.get("message_ts", "")
    return str(channel), str(ts)


def _callback(payload: Mapping[str, Any]) -> str:
    return str((payload.get("view") or {}).get("callback_id", ""))
