"""A stdlib HTTP server for Slack interactions: `POST /slack/events` and `GET /healthz`.

The handler only moves bytes: it reads the raw body exactly as sent (the signature covers those
bytes), hands it to `Interactions.handle_http` and writes the response. Everything else is 404.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from arxivwatch.slack.interactions import HttpResponse, Interactions

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1 << 20  # Slack interaction payloads are a few KiB; refuse anything absurd
REQUEST_TIMEOUT = 10.0  # seconds a client may stall mid-request before its connection is closed

Health = Callable[[], Mapping[str, Any]]


class SlackHttpServer(ThreadingHTTPServer):
    """Serves Slack interactions and a health check on one host and port."""

    daemon_threads = True

    def __init__(self, interactions: Interactions, health: Health, *,
                 host: str = "127.0.0.1", port: int = 3000,
                 request_timeout: float = REQUEST_TIMEOUT) -> None:
        self.interactions, self.health = interactions, health
        self.request_timeout = request_timeout
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:3000."""
        host = self.server_address[0]
        return f"http://{host if isinstance(host, str) else host.decode()}:{self.port}"

    def start(self) -> SlackHttpServer:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="slack-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and wait for the serving thread."""
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    server: SlackHttpServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        # Without a socket timeout a truncated body or an idle kept-alive connection holds its
        # thread forever; http.server closes the connection on the timeout.
        super().setup()
        self.connection.settimeout(self.server.request_timeout)

    def do_POST(self) -> None:
        if self.path.split("?")[0] != EVENTS_PATH:
            # The body is not read, so the connection cannot carry another request.
            self._send(HttpResponse(404, b"not found\n"), close=True)
            return
        length = self._length()
        if length is None:
            return
        body = self.rfile.read(length)
        headers = {k: v for k, v in self.headers.items()}
        self._send(self.server.interactions.handle_http(body, headers))

    def do_GET(self) -> None:
        if self.path.split("?")[0] != HEALTH_PATH:
            self._send(HttpResponse(404, b"not found\n"))
            return
        try:
            report = dict(self.server.health())
        except Exception as exc:
            log.exception("health check failed")
            report = {"ok": False, "error": str(exc)}
        status = 200 if report.get("ok", True) else 503
        body = json.dumps(report, default=str).encode()
        self._send(HttpResponse(status, body, {"Content-Type": "application/json"}))

    def _length(self) -> int | None:
        """The Content-Length, or None after answering 411/413/400."""
        raw = self.headers.get("Content-Length")
        if raw is None:
            self._send(HttpResponse(411, b"length required\n"), close=True)
            return None
        try:
            length = int(raw)
        except ValueError:
            self._send(HttpResponse(400, b"bad content-length\n"), close=True)
            return None
        if length < 0 or length > MAX_BODY:
            self._send(HttpResponse(413, b"payload too large\n"), close=True)
            return None
        return length

    def _send(self, resp: HttpResponse, *, close: bool = False) -> None:
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(resp.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
