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
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from arxivwatch.errors import SlackError
from arxivwatch.slack.interactions import Interactions

log = logging.getLogger(__name__)

_TOKEN_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "account_inactive",
                 "token_expired", "not_allowed_token_type", "missing_scope"}


class SocketModeRunner:
    """Connects to Slack with the app-level token and feeds interactions to `Interactions`."""

    def __init__(self, app_token: str, interactions: Interactions, *,
                 web_client: WebClient | None = None) -> None:
        self.interactions = interactions
        self.client = SocketModeClient(app_token=app_token, web_client=web_client)
        self.client.socket_mode_request_listeners.append(self._on_request)

    def connect(self) -> None:
        """Open the connection (non-blocking; the client reconnects by itself).

        Raises SlackError, saying what to fix, when Slack refuses the app token.
        """
        try:
            self.client.connect()
        except SlackApiError as exc:
            self.close()  # stop the client's threads: the caller gives up
            error = str(exc.response.get("error") or "unknown_error")
            raise SlackError(explain_connect(error), error=error) from exc
        except OSError as exc:
            self.close()
            raise SlackError(f"Socket Mode: could not reach Slack's apps.connections.open "
                             f"({exc}): check slack.api_url and the network") from exc
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


def explain_connect(error: str) -> str:
    """One line saying why `apps.connections.open` failed and what to change."""
    if error in _TOKEN_ERRORS:
        return (f"Socket Mode: Slack refused SLACK_APP_TOKEN ({error}): use the app-level token "
                f"(xapp-..., Basic Information > App-Level Tokens, scope connections:write) "
                f"and turn Socket Mode on in the app settings")
    return (f"Socket Mode: Slack's apps.connections.open failed ({error}): check that Socket "
            f"Mode is on in the app settings, or unset SLACK_APP_TOKEN to serve over HTTP")
