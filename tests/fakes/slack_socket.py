"""A fake Slack Socket Mode endpoint: a websocket server on 127.0.0.1 (port 0) in a thread.

Hand its `url` to `FakeSlack(socket_url=...)`, so `apps.connections.open` sends the client here::

    with FakeSocketMode() as sock, FakeSlack(socket_url=sock.url) as slack:
        ...                                  # start the app with SLACK_APP_TOKEN=slack.app_token
        sock.wait_connected()
        envelope_id = sock.push({"type": "block_actions", ...})
        sock.wait_ack(envelope_id)

Like Slack, it greets each connection with `{"type": "hello", ...}`, wraps what a test pushes in
an envelope `{"envelope_id", "type", "accepts_response_payload", "payload"}`, and records every
frame the client sends back (an ack is `{"envelope_id": ...}`) and how each connection ended.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

T = TypeVar("T")


@dataclass
class Link:
    """One client connection: the path it asked for, what it sent, and how it ended."""

    path: str
    conn: ServerConnection
    received: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    close_code: int | None = None   # 1000 for a clean close frame, 1006 for a dropped socket


class FakeSocketMode:
    """The fake websocket endpoint; use it as a context manager (or `start()` / `close()`)."""

    def __init__(self, *, app_id: str = "A0FAKE") -> None:
        self.app_id = app_id
        self.links: list[Link] = []
        self._changed = threading.Condition()
        self._server: Server = serve(self._handle, "127.0.0.1", 0, compression=None,
                                     ping_interval=None)
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The `ws://127.0.0.1:PORT/link/` URL that `apps.connections.open` should return."""
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake-ticket"

    def start(self) -> FakeSocketMode:
        """Starts serving in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stops accepting and closes the open connections."""
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- test controls -----------------------------------------------------------------------

    def push(self, payload: dict[str, Any], *, kind: str = "interactive") -> str:
        """Sends `payload` in an envelope to the newest open connection; returns its id."""
        link = self.wait_connected()
        envelope_id = str(uuid.uuid4())
        link.conn.send(json.dumps({"envelope_id": envelope_id, "type": kind,
                                   "accepts_response_payload": False, "payload": payload}))
        return envelope_id

    def acks(self) -> list[str]:
        """The envelope ids the client acknowledged, in order, over every connection."""
        with self._changed:
            return [f["envelope_id"] for link in self.links for f in link.received
                    if "envelope_id" in f]

    def wait_connected(self, timeout: float = 10) -> Link:
        """The newest open connection, waiting for one if needed."""
        return self._wait(lambda: next((k for k in reversed(self.links) if not k.closed), None),
                          timeout, "a Socket Mode connection")

    def wait_ack(self, envelope_id: str, timeout: float = 5) -> None:
        """Returns once the client acknowledged `envelope_id`."""
        self._wait(lambda: envelope_id in self.acks(), timeout, f"the ack of {envelope_id}")

    def wait_all_closed(self, timeout: float = 10) -> list[Link]:
        """Every connection so far, once all of them have closed."""
        def all_closed() -> list[Link] | None:
            done = self.links and all(k.closed for k in self.links)
            return list(self.links) if done else None

        return self._wait(all_closed, timeout, "the connections to close")

    def _wait(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (found := check()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake Socket Mode: timed out waiting for {what}")
                self._changed.wait(left)
            return found

    # -- the server side (one thread per connection) -----------------------------------------

    def _handle(self, conn: ServerConnection) -> None:
        link = Link(conn.request.path if conn.request else "", conn)
        conn.send(json.dumps({"type": "hello", "num_connections": 1,
                              "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                              "connection_info": {"app_id": self.app_id}}))
        self._record(lambda: self.links.append(link))
        try:
            for frame in conn:
                self._record(partial(link.received.append, json.loads(frame)))
        except ConnectionClosed:
            pass  # a dropped socket: close_code below says so
        finally:
            self._record(lambda: _mark_closed(link))

    def _record(self, change: Callable[[], object]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()


def _mark_closed(link: Link) -> None:
    link.closed = True
    link.close_code = link.conn.close_code
