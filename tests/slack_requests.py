"""Slack's side of a request, as the tests send it: the signing secret, the v0 signature, the
form body, a `block_actions` payload, and an executor that lets a test wait for the app's work."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import urlencode

SECRET = "test-signing-secret-0123456789abcdef"  # noqa: S105 (a test fixture)
NOW_TS = 1_717_500_000
CHANNEL = "C0LLMPAPERS"


def sign(body: bytes, *, secret: str = SECRET, ts: int | str = NOW_TS) -> dict[str, str]:
    """Slack's v0 signature over the raw body, with the form content type."""
    mac = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={mac}",
            "Content-Type": "application/x-www-form-urlencoded"}


def form(payload: dict[str, Any]) -> bytes:
    """The body Slack posts: one form field `payload` holding the JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_action(kind: str, pid: str, message: dict[str, Any], *, user: str = "U0CURATOR",
                 section: str | None = None) -> dict[str, Any]:
    """A `block_actions` payload shaped as Slack sends it (state holds the select's value)."""
    select: dict[str, Any] = {"type": "static_select", "selected_option": None}
    if section:
        select["selected_option"] = {"text": {"type": "plain_text", "text": section},
                                     "value": section}
    return {
        "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": "T0"},
        "team": {"id": "T0", "domain": "fake"}, "api_app_id": "A0", "trigger_id": "1.2.abc",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": CHANNEL,
                      "is_ephemeral": False},
        "channel": {"id": CHANNEL, "name": "llm-papers"}, "message": message,
        "response_url": "http://127.0.0.1:9/unused",
        "state": {"values": {f"paper:{pid}": {f"section:{pid}": select}}},
        "actions": [{"type": "button", "action_id": f"{kind}:{pid}", "block_id": f"paper:{pid}",
                     "value": pid, "text": {"type": "plain_text", "text": kind},
                     "action_ts": "1717500000.1"}],
    }


class Workers(ThreadPoolExecutor):
    """The app's executor, remembering its work so a test can wait for all of it."""

    def __init__(self) -> None:
        super().__init__(4, thread_name_prefix="test-slack-work")
        self.futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future

    def settle(self) -> None:
        """Wait until the work submitted so far is done."""
        wait(list(self.futures))
