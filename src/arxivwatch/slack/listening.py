"""What every Bolt listener of arxivwatch shares: the bare ack, the logged lazy work, who clicked,
a notice to one user, and the plain text, mrkdwn and context blocks of the messages and modals
they show.

The digest's listeners (`interactions`), `/arxivwatch` (`commands`) and the "File in catalog"
shortcut (`shortcut`) all ack on the request's thread and do their work as lazy listeners.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from arxivwatch.slack.decider import why

log = logging.getLogger("arxivwatch.slack.interactions")

Respond = Callable[..., Any]      # Bolt's `respond`: answers through the response_url


def ack_only(ack: Callable[..., None]) -> None:
    """The acknowledgement of a listener whose work (if any) is lazy."""
    ack()


def logged(work: Callable[..., None]) -> Callable[..., None]:
    """A lazy listener whose failure is logged with its traceback (Bolt logs one line)."""
    @functools.wraps(work)
    def run(**kwargs: Any) -> None:
        try:
            work(**kwargs)
        except Exception:
            log.exception("Slack interaction failed")
    return run


def user_of(payload: Mapping[str, Any]) -> str:
    """The id of the user who clicked, submitted or typed."""
    return str((payload.get("user") or {}).get("id", ""))


def plain(text: str) -> dict[str, Any]:
    """A plain_text object."""
    return {"type": "plain_text", "text": text}


def mrkdwn_block(text: str, **extra: Any) -> dict[str, Any]:
    """A section block of mrkdwn text (cut to Slack's 3,000 characters), with `extra` keys
    (a block_id, an accessory)."""
    return {"type": "section", **extra, "text": {"type": "mrkdwn", "text": text[:3000]}}


def context_block(text: str) -> dict[str, Any]:
    """A context block of one mrkdwn text (cut to Slack's 3,000 characters)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def tell_user(client: WebClient, channel: str, user: str, text: str,
              response_url: str = "") -> None:
    """A notice to `user` alone: through `response_url` when there is one, else an ephemeral
    post in `channel`. A failure is logged: the notice is a courtesy, never masking a decision."""
    try:
        if response_url:
            WebhookClient(response_url, timeout=10).send(text=text, response_type="ephemeral",
                                                         replace_original=False)
        else:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
    except Exception as exc:
        log.warning("could not tell %s in %s: %s", user, channel, why(exc))
