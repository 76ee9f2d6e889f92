"""A fake OpenAI-compatible chat completions server on 127.0.0.1, port 0, with scripted faults.

`POST /v1/chat/completions` answers `{"choices": [{"message": {"content": ...}}]}` with the text
`answer(request_body)` gives (by default a summary naming the paper's title). Faults are consumed
one per request::

    fake.script(["500", "stall:0.5", "badjson", "nochoice", "length", "drop", "ok"])

`500`/`429`/`404` answer that status with an OpenAI-style error body; `stall:S` waits S seconds
before answering; `badjson` answers text that is not JSON; `nochoice` an empty `choices`;
`length` an answer with `finish_reason: "length"`; `drop` closes the connection unanswered;
`say:TEXT` answers TEXT; `ok` passes one request through. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[dict[str, Any]], str]


@dataclass
class Request:
    """One request the fake received: its JSON body and headers (lower-case names)."""

    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def user_text(self) -> str:
        """The user message of the prompt."""
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")


def title_answer(body: dict[str, Any]) -> str:
    """A plausible summary: 'Summarising <title>.' from the prompt's 'Paper title:' line."""
    text = next(m["content"] for m in body["messages"] if m["role"] == "user")
    title = text.split("Paper title: ", 1)[1].split("\n", 1)[0]
    return f"Summarising {title} in the list's voice."


class FakeLLM:
    """The server; use as a context manager. `url` is the base URL (`.../v1`)."""

    def __init__(self, answer: Answer = title_answer) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, faults: Iterable[str]) -> None:
        """Queues faults for the next requests, one each."""
        with self._lock:
            self._faults.extend(faults)

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self) -> str:
        with self._lock:
            return self._faults.popleft() if self._faults else "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                with fake._lock:
                    fake.requests.append(Request(body, {k.lower(): v for k, v in
                                                        self.headers.items()}))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                self._answer(fake._next_fault(), body)

            def _answer(self, fault: str, body: dict[str, Any]) -> None:
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault.startswith("stall:"):
                    time.sleep(float(fault.split(":", 1)[1]))
                    fault = "ok"
                if fault.isdigit():
                    self._send(int(fault), {"error": {"message": f"scripted {fault}",
                                                      "type": "server_error"}})
                    return
                if fault == "badjson":
                    self._raw(200, b"<html>not json</html>")
                    return
                text = fault[4:] if fault.startswith("say:") else fake.answer(body)
                choices = [] if fault == "nochoice" else [{
                    "index": 0, "message": {"role": "assistant", "content": text},
                    "finish_reason": "length" if fault == "length" else "stop"}]
                self._send(200, {"id": "chatcmpl-1", "object": "chat.completion",
                                 "model": body.get("model"), "choices": choices})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                self._raw(status, json.dumps(payload).encode())

            def _raw(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass   # the client gave up (a timeout test)

        return Handler
