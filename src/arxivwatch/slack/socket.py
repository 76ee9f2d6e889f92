"""Socket Mode: Slack pushes interactions over an outbound websocket, so no public URL is needed.

Uses slack_sdk's builtin client (stdlib sockets, no extra dependency). Each envelope is
acknowledged first, then its payload goes to `Interactions.handle_socket`, which only schedules
work, so the ack is never late. Socket Mode frames are not signed: the app-level token is the
authentication.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from arxivwatch.slack.interactions import Interactions

log = logging.getLogger(__name__)


class SocketModeRunner:
    """Connects to Slack with the app-level token and feeds interactions to `Interactions`."""

    def __init__(self, app_token: str, interactions: Interactions, *,
                 web_client: WebClient | None = None) -> None:
        self.interactions = interactions
        self.client = SocketModeClient(app_token=app_token, web_client=web_client)
        self.client.socket_mode_request_listeners.append(self._on_request)

    def connect(self) -> None:
        """Open the connection (non-blocking; the client reconnects by itself)."""
        self.client.connect()
        log.info("connected to Slack in Socket Mode")

    def close(self) -> None:
        """Close the connection."""
        self.client.close()

    def _on_request(self, client: Any, req: SocketModeRequest) -> None:
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if req.type == "interactive":
            self.interactions.handle_socket(req.payload)
        else:
            log.info("ignored Socket Mode envelope of type %r", req.type)
