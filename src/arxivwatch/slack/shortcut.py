"""The "File in catalog" message shortcut: a paper pasted in the channel, filed from Slack.

On a message holding arXiv links, the shortcut opens a modal at once (Slack's trigger expires in
3 seconds, an arXiv look-up may take longer), looks the papers up, then fills it in for the first
link: title, the section select (the section of the topic the paper matches best, preselected),
and the summary the catalog line would get, editable. With several links a select at the top
switches the modal to another paper. Approve makes the paper a candidate and then approves it
through the same path as a digest click (`SlackDecider.approve`: one decision, one catalog line,
git when configured, the digest message updated if the paper was posted). Only
`slack.approvers` may file: anyone else is told so before anything opens, and again on submit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from arxivwatch.errors import ArxivWatchError
from arxivwatch.ids import find_arxiv_ids
from arxivwatch.render import slack_escape, slack_link
from arxivwatch.slack.blocks import modal_section_select
from arxivwatch.slack.decider import SlackDecider
from arxivwatch.slack.listening import (
    Respond,
    ack_only,
    context_block,
    logged,
    mrkdwn_block,
    plain,
    tell_user,
    user_of,
)
from arxivwatch.slack.workbench import Filing, Workbench

log = logging.getLogger(__name__)

SHORTCUT = "file_in_catalog"        # the callback_id in the app manifest
FILE_CALLBACK = "arxivwatch_file"   # the modal's callback_id
PICK = "file_pick"                  # the paper select of a message with several links
MAX_LINKS = 20                      # papers offered from one message


def links_in(message: Mapping[str, Any]) -> list[str]:
    """The arXiv ids a message refers to, in order: its text, then its blocks and attachments."""
    found = find_arxiv_ids(str(message.get("text") or ""))
    for text in _strings(message.get("blocks"), message.get("attachments")):
        found += [i for i in find_arxiv_ids(text) if i not in found]
    return found[:MAX_LINKS]


def _strings(*values: Any) -> list[str]:
    out: list[str] = []
    stack = list(values)
    while stack:
        value = stack.pop(0)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return out


class Shortcut:
    """The shortcut, the modal's paper select and its submission; each acks, then works."""

    def __init__(self, workbench: Workbench, decider: SlackDecider) -> None:
        self.workbench, self.decider = workbench, decider

    def register(self, app: App) -> None:
        """Attach the listeners to `app`."""
        app.message_shortcut(SHORTCUT)(ack=ack_only, lazy=[logged(self.open)])
        app.action(PICK)(ack=ack_only, lazy=[logged(self.pick)])
        app.view(FILE_CALLBACK)(ack=ack_only, lazy=[logged(self.submit)])

    def open(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """Refuse, or open the modal for the message's first arXiv link."""
        user, message = user_of(body), body.get("message") or {}
        if not self.workbench.allowed(user):
            respond(text=f":no_entry: <@{user}> is not in slack.approvers; nothing was filed",
                    response_type="ephemeral", replace_original=False)
            return
        ids = links_in(message)
        if not ids:
            respond(text=":information_source: that message holds no arXiv link (arxiv.org/abs/"
                         "…, arxiv.org/pdf/… or arXiv:ID); nothing to file",
                    response_type="ephemeral", replace_original=False)
            return
        meta = {"ids": ids, "paper_id": ids[0], "user": user,
                "channel": (body.get("channel") or {}).get("id", ""),
                "response_url": body.get("response_url", "")}
        opened = client.views_open(trigger_id=body.get("trigger_id"),
                                   view=waiting_view(meta, f"Looking up arXiv {ids[0]}…"))
        self._show(client, opened["view"], meta)

    def pick(self, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """Another paper picked in the modal: show that one."""
        view = body.get("view") or {}
        meta = _meta(view)
        picked = (action.get("selected_option") or {}).get("value")
        if not picked or picked not in meta.get("ids", []):
            return
        self._show(client, view, {**meta, "paper_id": picked})

    def _show(self, client: WebClient, view: Mapping[str, Any], meta: dict[str, Any]) -> None:
        try:
            content = filing_view(self.workbench.filing(meta["ids"], meta["paper_id"]), meta)
        except ArxivWatchError as exc:
            content = waiting_view(meta, f":no_entry: {slack_escape(exc)}", done=True)
        except Exception:  # a bug: say so in the modal rather than leave it "looking up"
            log.exception("could not prepare the File in catalog modal for %s", meta["paper_id"])
            content = waiting_view(meta, ":warning: something went wrong; the arxivwatch log "
                                         "says what", done=True)
        client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=content)

    def submit(self, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        """Approve: make the paper a candidate, then approve it as a digest click would."""
        meta, user = _meta(view), user_of(body)
        pid = str(meta.get("paper_id", ""))
        section, summary = submitted(view)
        try:
            if not section:
                raise ArxivWatchError("no section was picked; nothing was filed")
            self.workbench.propose(pid, section, user)
            shown = self.decider.approve(pid, user, section=section, summary=summary)
        except ArxivWatchError as exc:
            log.info("filing %s by %s refused: %s", pid, user, exc)
            self._tell(client, meta, user, f":no_entry: {slack_escape(exc)}")
            return
        outcome = shown.outcome
        line = f"\n```{slack_escape(outcome.catalog_line)}```" if outcome.catalog_line else ""
        note = f"\n{slack_escape(shown.note)}" if shown.error else ""
        self._tell(client, meta, user, f":white_check_mark: {slack_escape(outcome.message)}"
                                       f"{line}{note}")
        log.info("%s", outcome.message)

    @staticmethod
    def _tell(client: WebClient, meta: Mapping[str, Any], user: str, text: str) -> None:
        """To the user alone: through the shortcut's response_url, else an ephemeral post."""
        tell_user(client, str(meta.get("channel", "")), user, text,
                  str(meta.get("response_url") or ""))


# -- the modal (pure) ----------------------------------------------------------------------------


def waiting_view(meta: Mapping[str, Any], text: str, *, done: bool = False) -> dict[str, Any]:
    """The modal while the look-up runs, or with the reason it cannot go on (`done`)."""
    return {"type": "modal", "callback_id": FILE_CALLBACK, "private_metadata": json.dumps(meta),
            "title": plain("File in catalog"), "close": plain("Close" if done else "Cancel"),
            "blocks": [mrkdwn_block(text)]}


def filing_view(filing: Filing, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The modal for one paper: which paper, the section, the summary; Approve files it."""
    pid = filing.paper_id
    blocks: list[dict[str, Any]] = []
    if len(filing.choices) > 1:
        options = [{"text": plain(_fit(label, 75)), "value": i} for i, label in filing.choices]
        picker = {"type": "static_select", "action_id": PICK, "options": options[:100],
                  "initial_option": next((o for o in options if o["value"] == pid), options[0])}
        blocks.append(mrkdwn_block(f"{len(options)} arXiv links in the message; filing:",
                                   block_id="pick", accessory=picker))
    about = f"*{slack_link(filing.url, filing.title)}*\n{slack_escape(filing.authors)}"
    blocks.append(mrkdwn_block(about, block_id=f"paper:{pid}"))
    view = {"type": "modal", "callback_id": FILE_CALLBACK,
            "private_metadata": json.dumps({**meta, "paper_id": pid}),
            "title": plain("File in catalog"), "close": plain("Cancel"), "blocks": blocks}
    if filing.already:
        blocks.append(context_block(f":information_source: {slack_escape(filing.already)}"))
        return view
    select = modal_section_select(filing.sections, filing.section,
                                  placeholder=plain("Pick the section"))
    # The block ids carry the paper: Slack keeps what was typed in an input whose block id is
    # unchanged, so another paper's summary would otherwise survive a switch.
    blocks += [
        {"type": "input", "block_id": f"section:{pid}", "label": plain("Section"),
         "element": select},
        {"type": "input", "block_id": f"summary:{pid}", "label": plain("Summary"),
         "element": {"type": "plain_text_input", "action_id": "summary", "multiline": True,
                     "initial_value": filing.summary[:3000], "max_length": 3000}},
    ]
    return {**view, "submit": plain("Approve")}


def submitted(view: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(section, summary) from a submitted modal's state."""
    values = (view.get("state") or {}).get("values") or {}
    section = summary = None
    for block_id, inner in values.items():
        for state in (inner or {}).values():
            if str(block_id).startswith("section:"):
                section = ((state or {}).get("selected_option") or {}).get("value")
            elif str(block_id).startswith("summary:"):
                summary = (state or {}).get("value")
    return section, summary


def _meta(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
