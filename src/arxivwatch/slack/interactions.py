"""Slack interactions on Bolt: one App, its signature check, the listeners and the edit modal.

`make_app` builds the one `slack_bolt.App` that both transports serve (`transport.py`): Bolt
checks signatures, routes by `action_id` and `callback_id`, and sends the acknowledgement. Each
listener acknowledges at once on the request's own thread (`process_before_response`), then
decides in a lazy listener on the app's executor, so an ack never waits behind slow work (a git
push, a busy catalog) and always beats Slack's 3 seconds.

The listeners decide through `decider.SlackDecider`, over the port `decider.Decider` that the
wiring implements. The slash command (`commands.py`) and the "File in catalog" shortcut
(`shortcut.py`) are registered on the same App, over the port `workbench.Workbench`.

A paper's card may also be an ephemeral message (`/arxivwatch add`): Slack cannot update those
through `chat.update`, so its buttons answer through the click's `response_url`.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk import WebClient
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook import WebhookClient

from arxivwatch.errors import ArxivWatchError
from arxivwatch.slack.blocks import (
    APPROVE,
    EDIT,
    REJECT,
    SECTION,
    actions_block_id,
    modal_section_select,
)
from arxivwatch.slack.commands import Commands
from arxivwatch.slack.decider import Blocks, Shown, SlackDecider, Where, why
from arxivwatch.slack.listening import Respond, ack_only, logged, plain, tell_user, user_of
from arxivwatch.slack.shortcut import Shortcut

if TYPE_CHECKING:
    from arxivwatch.slack.workbench import Workbench

log = logging.getLogger(__name__)

EDIT_CALLBACK = "arxivwatch_edit"
# Bolt sets the logger named after the App to the root's level at every request: kept under
# Bolt's namespace, so that it can never silence the `arxivwatch` loggers.
BOLT_NAME = "slack_bolt.arxivwatch"


def make_app(decider: SlackDecider, client: WebClient, *, signing_secret: str | None,
             executor: Executor, clock: Callable[[], float] = time.time,
             workbench: Workbench | None = None) -> App:
    """The App behind both transports: the digest's buttons and the edit modal, and with a
    `workbench` the `/arxivwatch` slash command and the "File in catalog" shortcut.

    `client` carries the bot token (no `auth.test` call: the token is handed to Bolt as is);
    `executor` runs the work after the acks, and finishing it is the caller's (shut it down).
    Requests nothing listens to (another button, a shortcut) are acknowledged and ignored.
    """
    app = App(
        name=BOLT_NAME,
        client=WebClient(base_url=client.base_url, timeout=client.timeout,
                         retry_handlers=client.retry_handlers),
        authorize=_single_workspace(client.token or ""),
        request_verification_enabled=False,            # `Verification` below, in its place
        before_authorize=Verification(signing_secret, clock=clock),
        process_before_response=True,                  # ack on the request's thread...
        listener_executor=executor,                    # ...and the lazy work here
        raise_error_for_unhandled_request=True,        # to `_on_error`: 200, one log line
    )
    app.error(_on_error)
    Listeners(decider).register(app)
    if workbench is not None:
        Commands(workbench).register(app)
        Shortcut(workbench, decider).register(app)
    return app


class Verification(RequestVerification):
    """Bolt's signature check with an injectable clock, and 401 for any malformed header.

    Bolt answers 500 when `X-Slack-Request-Timestamp` is not a number (the SDK's `int()` raises)
    and a non-ASCII signature makes `hmac.compare_digest` raise; both are refusals here. Without
    a signing secret every HTTP request is refused (an empty key would let anyone sign).
    Socket Mode requests carry no signature: the app-level token authenticated the connection.
    """

    def __init__(self, signing_secret: str | None, *, clock: Callable[[], float]) -> None:
        super().__init__(signing_secret or "")
        self._check = SignatureVerifier(signing_secret, clock=_Clock(clock)) \
            if signing_secret else None

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse:
        if req.mode == "socket_mode":
            return next()
        timestamp = _header(req, "x-slack-request-timestamp")
        signature = _header(req, "x-slack-signature")
        try:
            valid = bool(self._check and self._check.is_valid(req.raw_body, timestamp, signature))
        except (ValueError, TypeError, OverflowError):
            valid = False
        if valid:
            return next()
        log.warning("refused a Slack request with a missing, forged or stale signature")
        return BoltResponse(status=401, body={"error": "invalid request"})


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name)
    return values[0] if values else None


def _single_workspace(bot_token: str) -> Callable[..., AuthorizeResult]:
    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)
    return authorize


def _on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
    if isinstance(error, BoltUnhandledRequestError):
        log.info("ignored a Slack request: %s", _describe(body))
        return BoltResponse(status=200, body="")
    log.error("Slack listener failed: %s", error, exc_info=error)
    return None


def _control(kind: str) -> re.Pattern[str]:
    """Matches the `action_id` of one kind of digest control: `approve:<id>` (or `approve`)."""
    return re.compile(rf"^{re.escape(kind)}(:|$)")


class Listeners:
    """The digest's controls and the edit modal; each acks, then works as a lazy listener."""

    def __init__(self, decider: SlackDecider) -> None:
        self.decider = decider

    def register(self, app: App) -> None:
        """Attach the listeners to `app`."""
        app.action(_control(APPROVE))(ack=ack_only, lazy=[logged(self.approve)])
        app.action(_control(REJECT))(ack=ack_only, lazy=[logged(self.reject)])
        app.action(_control(EDIT))(ack=ack_only, lazy=[logged(self.edit)])
        # The select needs no work: Slack sends its value in `state` with the next click.
        app.action(_control(SECTION))(ack_only)
        app.view(EDIT_CALLBACK)(ack=ack_only, lazy=[logged(self.submit)])

    def approve(self, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                respond: Respond) -> None:
        """Approve into the section picked in the paper's select (default: the suggested one)."""
        pid, user, where = str(action.get("value", "")), user_of(body), _where(body)
        section = chosen_section(body, pid, action.get("block_id"))
        card = _card(body, respond)
        self._decide(client, where[0], user, lambda: self.decider.approve(
            pid, user, section=section, where=_shown_where(where, card),
            blocks=_blocks(body)), card)

    def reject(self, body: dict[str, Any], action: dict[str, Any], client: WebClient,
               respond: Respond) -> None:
        """Reject the paper."""
        pid, user, where = str(action.get("value", "")), user_of(body), _where(body)
        card = _card(body, respond)
        self._decide(client, where[0], user, lambda: self.decider.reject(
            pid, user, where=_shown_where(where, card), blocks=_blocks(body)), card)

    def edit(self, body: dict[str, Any], action: dict[str, Any], client: WebClient,
             respond: Respond) -> None:
        """Open the modal to file the paper under a chosen section with an edited summary."""
        pid, (channel, ts), user = str(action.get("value", "")), _where(body), user_of(body)
        card = _card(body, respond)
        tell = card.tell if card else functools.partial(tell_user, client, channel, user)
        port = self.decider.decider
        if not port.allowed(user):
            tell(f":no_entry: <@{user}> is not in slack.approvers; nothing was changed")
            return
        blocks = _blocks(body)
        if blocks and self.decider.updater is not None and card is None:
            self.decider.updater.remember((channel, ts), blocks)
        try:
            sections, summary = port.sections(), port.suggested_summary(pid)
            current = chosen_section(body, pid, action.get("block_id")) \
                or port.suggested_section(pid)
        except ArxivWatchError as exc:  # the candidate is gone, or the catalog is unreadable
            log.info("edit of %s by %s refused: %s", pid, user, exc)
            tell(f":no_entry: {exc}")
            return
        view = edit_modal(pid, channel, ts, sections=sections, current=current, summary=summary,
                          response_url=str(body.get("response_url") or "") if card else None)
        client.views_open(trigger_id=body.get("trigger_id"), view=view)

    def submit(self, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        """The modal's Approve: file the paper with the section and summary given."""
        meta = json.loads(view.get("private_metadata") or "{}")
        pid, where = meta.get("paper_id", ""), (meta.get("channel", ""), meta.get("ts", ""))
        values = (view.get("state") or {}).get("values") or {}
        picked = ((values.get("section") or {}).get("section") or {}).get("selected_option")
        summary = ((values.get("summary") or {}).get("summary") or {}).get("value")
        user, section = user_of(body), (picked or {}).get("value")
        card = _Card.through(meta["response_url"]) if meta.get("response_url") else None
        self._decide(client, where[0], user, lambda: self.decider.approve(
            pid, user, section=section, summary=summary, where=_shown_where(where, card)), card)

    def _decide(self, client: WebClient, channel: str, user: str,
                act: Callable[[], Shown], card: _Card | None = None) -> None:
        tell = card.tell if card else functools.partial(tell_user, client, channel, user)
        try:
            shown = act()
        except ArxivWatchError as exc:
            log.info("decision by %s refused: %s", user, exc)
            tell(f":no_entry: {exc}")
            return
        if card is not None:
            card.show(self.decider, shown)
        elif shown.note:
            tell(f":information_source: {shown.note}")
        log.info("%s", shown.outcome.message)


class _Card:
    """An ephemeral card's way back: its response_url (Bolt's `respond`, or a webhook)."""

    def __init__(self, respond: Respond, blocks: Blocks | None) -> None:
        self.respond, self.blocks = respond, blocks

    @classmethod
    def through(cls, response_url: str) -> _Card:
        hook = WebhookClient(response_url, timeout=10)
        return cls(lambda **kw: hook.send(**kw), None)

    def tell(self, text: str) -> None:
        """A notice to the clicker alone, under the card."""
        try:
            self.respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception as exc:  # a courtesy, as `listening.tell_user`
            log.warning("could not answer through the response_url: %s", why(exc))

    def show(self, decider: SlackDecider, shown: Shown) -> None:
        """The card's buttons replaced by the decision (or, if it stood before, a notice)."""
        if not shown.outcome.applied:
            self.tell(f":information_source: {shown.outcome.message}")
            return
        pid = shown.outcome.decision.paper_id
        base = self.blocks or [{"type": "actions", "block_id": actions_block_id(pid),
                                "elements": []}]
        try:
            self.respond(text=shown.outcome.message, replace_original=True,
                         blocks=decider.decided_blocks(base, shown.outcome))
        except Exception as exc:
            log.warning("could not update the ephemeral card of %s: %s", pid, why(exc))
        if shown.error:   # the digest message that also shows the paper
            self.tell(f":information_source: {shown.note}")


def _card(body: Mapping[str, Any], respond: Respond) -> _Card | None:
    """The way back to an ephemeral card, when the click came from one."""
    if not (body.get("container") or {}).get("is_ephemeral"):
        return None
    return _Card(respond, _blocks(body))


def _shown_where(where: Where, card: _Card | None) -> Where | None:
    """The digest message to update: the clicked one, unless it is an ephemeral card."""
    return None if card is not None else _known(where)


# -- payloads and the modal (pure) ---------------------------------------------------------------


def chosen_section(payload: Mapping[str, Any], paper_id: str, block_id: Any = None) -> str | None:
    """The section picked in this paper's select, from the `state.values` Slack sends."""
    values = ((payload.get("state") or {}).get("values")) or {}
    for bid, inner in values.items():
        for aid, state in (inner or {}).items():
            if not str(aid).startswith(SECTION):
                continue
            if bid == block_id or paper_id in str(bid) or paper_id in str(aid):
                picked = (state or {}).get("selected_option") or {}
                if picked.get("value"):
                    return str(picked["value"])
    return None


def edit_modal(paper_id: str, channel: str, ts: str, *, sections: list[str],
               current: str | None, summary: str,
               response_url: str | None = None) -> dict[str, Any]:
    """The modal to file a paper under a chosen section with an edited summary.

    `response_url`: the card is an ephemeral message, answered through it after the approval.
    """
    select = modal_section_select(sections, current)
    fields = {"paper_id": paper_id, "channel": channel, "ts": ts}
    meta = json.dumps({**fields, "response_url": response_url} if response_url else fields)
    return {
        "type": "modal", "callback_id": EDIT_CALLBACK, "private_metadata": meta,
        "title": plain("File into catalog"), "submit": plain("Approve"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "section", "text": plain(f"arXiv {paper_id}")},
            {"type": "input", "block_id": "section", "label": plain("Section"),
             "element": select},
            {"type": "input", "block_id": "summary", "label": plain("Summary"),
             "element": {"type": "plain_text_input", "action_id": "summary",
                         "initial_value": summary[:3000], "max_length": 3000,
                         "multiline": True}},
        ],
    }


def _blocks(payload: Mapping[str, Any]) -> Blocks | None:
    blocks = (payload.get("message") or {}).get("blocks")
    return list(blocks) if blocks else None


def _known(where: Where) -> Where | None:
    return where if all(where) else None


def _where(payload: Mapping[str, Any]) -> Where:
    """(channel id, message ts) of the message the click came from."""
    container = payload.get("container") or {}
    channel = (payload.get("channel") or {}).get("id") or container.get("channel_id", "")
    ts = (payload.get("message") or {}).get("ts") or container.get("message_ts", "")
    return str(channel), str(ts)


def _describe(body: Mapping[str, Any]) -> str:
    kind = body.get("type") or ("slash command" if body.get("command") else "unknown")
    actions = [str(a.get("action_id")) for a in body.get("actions") or []]
    callback = (body.get("view") or {}).get("callback_id") or body.get("callback_id")
    return " ".join(str(x) for x in (kind, *actions, callback or "") if x)
