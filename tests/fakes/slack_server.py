"""A fake Slack Web API on 127.0.0.1 (port 0) that records calls and enforces Block Kit limits.

Point `slack_sdk.WebClient(token=fake.token, base_url=fake.api_url)` at it::

    with FakeSlack() as fake:
        client = WebClient(token=fake.token, base_url=fake.api_url, retry_handlers=[])
        client.chat_postMessage(channel="#llm-papers", text="hi", blocks=[...])
        assert fake.messages("C0LLMPAPERS")[0]["text"] == "hi"

Implemented methods: `chat.postMessage`, `chat.update`, `chat.postEphemeral`,
`conversations.history` (with `metadata` when `include_all_metadata` is set), `auth.test`,
`views.open`, `views.update` (by view id, checking `hash` like Slack; `fake.view(id)` is the
modal as it stands), `users.info`, `apps.connections.open` (needs the app token and
`socket_url`).
`POST /response_url/<n>` records what an interaction handler sends to a `response_url`
(`fake.response_url(channel, ts)` hands one out; `replace_original` rewrites that message).

Faults are scripted and consumed one per API call, per method first, then global::

    fake.script(["429:2", "503", "stall:0.5", "ok", "channel_not_found"])
    fake.script(["not_in_channel"], method="chat.postMessage")

`429[:N]` answers HTTP 429 with `Retry-After: N` (default 1); `500`/`502`/`503`/`504` answer that
status without doing anything; `stall:S` processes the call at once and then holds the answer
for S seconds, so a client that times out was nevertheless heard (Slack posted the message but the
bot never learnt its ts: the ambiguous case); `ok` passes one call through; any other word answers
HTTP 200 `{"ok": false, "error": word}`.

Every violation of the Block Kit limits answers `{"ok": false, "error": "invalid_blocks",
"problems": [...]}`, so a test that posts bad blocks fails loudly.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_BLOCKS, MAX_MODAL_BLOCKS, MAX_JSON_CHARS = 50, 100, 12_000
DEFAULT_SCOPES = frozenset({"chat:write", "channels:history", "users:read"})
_JSON_ARGS = ("blocks", "metadata", "view", "attachments")


@dataclass
class Call:
    """One request the fake received: the API method, its arguments (JSON, form and query
    merged, JSON-valued form fields decoded) and the request headers (lower-case names)."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    http_method: str = "POST"
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)


class FakeSlack:
    """The fake server; use it as a context manager (or `start()` / `close()`)."""

    def __init__(
        self, *, token: str = "xoxb-test", app_token: str = "xapp-test",  # noqa: S107 - fakes
        channels: dict[str, str] | None = None, member_of: Iterable[str] | None = None,
        scopes: Iterable[str] = DEFAULT_SCOPES, users: dict[str, str] | None = None,
        clock: Callable[[], float] = time.time, socket_url: str | None = None,
    ) -> None:
        self.token, self.app_token, self.socket_url = token, app_token, socket_url
        self.channels = dict(channels or {"C0LLMPAPERS": "llm-papers"})  # id -> name
        self.member_of = set(self.channels if member_of is None else member_of)
        self.scopes = set(scopes)
        self.users = dict(users or {"U0CURATOR": "curator", "U0OTHER": "other"})
        self.calls: list[Call] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.view_updates: list[dict[str, Any]] = []
        self._open_views: dict[str, dict[str, Any]] = {}
        self.responses: dict[int, list[dict[str, Any]]] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._faults: dict[str | None, deque[str]] = {}
        self._response_targets: dict[int, tuple[str | None, str | None]] = {}
        self._clock, self._last_ts = clock, 0.0
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server root, e.g. `http://127.0.0.1:54321/`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def api_url(self) -> str:
        """The Web API base for `WebClient(base_url=...)` and `slack.api_url`."""
        return self.url + "api/"

    def start(self) -> FakeSlack:
        """Starts serving in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)  # a short poll makes close() quick
        self._thread.start()
        return self

    def close(self) -> None:
        """Stops the server and wakes any stalled request."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- test controls -----------------------------------------------------------------------

    def script(self, faults: Iterable[str], *, method: str | None = None) -> None:
        """Queues faults for the next calls (of `method` only, when given)."""
        with self._lock:
            self._faults.setdefault(method, deque()).extend(faults)

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one API method, in order (faulted ones included)."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages currently in a channel (id or name; default: the only one), oldest first."""
        with self._lock:
            cid = self._resolve(channel) if channel else next(iter(self.channels))
            return [dict(m) for m in self._history.get(cid or "", [])]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """One message by channel and ts (KeyError when absent)."""
        for m in self.messages(channel):
            if m["ts"] == ts:
                return m
        raise KeyError(f"no message {ts} in {channel}")

    def add_message(self, channel: str, **fields: Any) -> dict[str, Any]:
        """Seeds the channel history with a message (e.g. one posted by someone else)."""
        with self._lock:
            cid = self._resolve(channel) or channel
            msg = {"type": "message", "ts": self._next_ts(), "text": "", **fields}
            self._history.setdefault(cid, []).append(msg)
            return dict(msg)

    def view(self, view_id: str) -> dict[str, Any]:
        """A modal as it stands after `views.open` and any `views.update` (KeyError if none)."""
        with self._lock:
            return dict(self._open_views[view_id])

    def response_url(self, channel: str | None = None, ts: str | None = None) -> str:
        """A fresh `response_url`, optionally tied to a message for `replace_original`."""
        with self._lock:
            n = len(self._response_targets) + 1
            self._response_targets[n] = (self._resolve(channel) if channel else None, ts)
            self.responses[n] = []
            return f"{self.url}response_url/{n}"

    # -- request handling (called from server threads) ---------------------------------------

    def handle_api(self, method: str, args: dict[str, Any], headers: dict[str, str],
                   verb: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Answers one API call: faults first, then the token, then the method itself."""
        call = Call(method, args, headers, verb)
        with self._lock:
            self.calls.append(call)
            fault = self._next_fault(method)
        status, extra, body = self._apply_fault(fault)
        if body is None:
            body = self._authorised(method, headers) or self._dispatch(method, args)
            status = 200 if method in _METHODS else 404
        call.status, call.response = status, body
        if fault and fault.startswith("stall:"):
            self._closing.wait(float(fault.split(":", 1)[1]))
        return status, extra, body

    def handle_response_url(self, n: int, body: dict[str, Any]) -> int:
        """Records a response_url post; `replace_original` rewrites the bound message."""
        with self._lock:
            if n not in self.responses:
                return 404
            self.responses[n].append(body)
            channel, ts = self._response_targets[n]
            if channel and ts and body.get("replace_original") and "blocks" in body:
                if _check_blocks(body["blocks"], MAX_BLOCKS):
                    return 400
                self._find(channel, ts).update(text=body.get("text", ""), blocks=body["blocks"])
            return 200

    def _next_fault(self, method: str) -> str | None:
        for key in (method, None):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def _apply_fault(self, fault: str | None) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        if fault is None or fault == "ok" or fault.startswith("stall:"):
            return 200, {}, None
        if fault.startswith("429"):
            after = fault.split(":", 1)[1] if ":" in fault else "1"
            return 429, {"Retry-After": after}, {"ok": False, "error": "ratelimited"}
        if fault.isdigit():
            return int(fault), {}, {"ok": False, "error": f"http_{fault}"}
        return 200, {}, {"ok": False, "error": fault}

    def _authorised(self, method: str, headers: dict[str, str]) -> dict[str, Any] | None:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return {"ok": False, "error": "not_authed"}
        wanted = self.app_token if method == "apps.connections.open" else self.token
        if auth.removeprefix("Bearer ") != wanted:
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _dispatch(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = _METHODS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self._lock:
            return handler(self, args)

    # -- state helpers (lock held) -----------------------------------------------------------

    def _resolve(self, channel: str | None) -> str | None:
        if channel in self.channels:
            return channel
        name = (channel or "").lstrip("#")
        return next((cid for cid, n in self.channels.items() if n == name), None)

    def _next_ts(self) -> str:
        self._last_ts = max(self._clock(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _find(self, channel: str, ts: str) -> dict[str, Any]:
        return next(m for m in self._history.get(channel, []) if m["ts"] == ts)

    def _channel_error(self, channel: str | None, *, by_id: bool = False) -> dict[str, Any] | None:
        cid = self._resolve(channel)
        if cid is None or (by_id and channel != cid):  # chat.update wants the id, not a name
            return _fail("channel_not_found")
        return None if cid in self.member_of else _fail("not_in_channel")

    # -- API methods -------------------------------------------------------------------------

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._channel_error(args.get("channel")) or _message_problem(args)
        if error:
            return error
        cid = self._resolve(args["channel"]) or ""
        msg = {"type": "message", "ts": self._next_ts(), "text": args.get("text", ""),
               "blocks": args.get("blocks", []), "user": "U0BOT", "bot_id": "B0BOT"}
        if args.get("metadata"):
            msg["metadata"] = args["metadata"]
        self._history.setdefault(cid, []).append(msg)
        return {"ok": True, "channel": cid, "ts": msg["ts"], "message": dict(msg)}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        error = self._channel_error(channel, by_id=True) or _message_problem(args)
        if error:
            return error
        try:
            msg = self._find(channel or "", ts or "")
        except StopIteration:
            return {"ok": False, "error": "message_not_found"}
        msg.update({k: args[k] for k in ("text", "blocks", "metadata") if k in args})
        return {"ok": True, "channel": channel, "ts": ts, "text": msg["text"],
                "message": dict(msg)}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._channel_error(args.get("channel")) or _message_problem(args)
        if error:
            return error
        if args.get("user") not in self.users:
            return {"ok": False, "error": "user_not_in_channel"}
        self.ephemerals.append(dict(args))
        return {"ok": True, "message_ts": self._next_ts()}

    def _history_page(self, args: dict[str, Any]) -> dict[str, Any]:
        if "channels:history" not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": "channels:history"}
        error = self._channel_error(args.get("channel"), by_id=True)
        if error:
            return error
        found = _history_window(self._history.get(args["channel"], []), args)
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        page, more = found[start:start + limit], start + limit < len(found)
        if not _truthy(args.get("include_all_metadata")):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        cursor = str(start + limit) if more else ""
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": cursor}}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "arxivwatch",
                "team_id": "T0FAKE", "user_id": "U0BOT", "bot_id": "B0BOT"}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        refused = _view_refused(view)
        if refused is not None:
            return refused
        self.views.append(dict(args))
        opened = {**view, "id": f"V{len(self.views):06d}", "hash": f"{len(self.views)}.0"}
        self._open_views[opened["id"]] = opened
        return {"ok": True, "view": dict(opened)}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view, current = args.get("view"), self._open_views.get(str(args.get("view_id")))
        if current is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        refused = _view_refused(view)
        if refused is not None:
            return refused
        self.view_updates.append(dict(args))
        serial, count = current["hash"].split(".")
        updated = {**view, "id": current["id"], "hash": f"{serial}.{int(count) + 1}"}
        self._open_views[current["id"]] = updated
        return {"ok": True, "view": dict(updated)}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user")
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": user, "name": self.users[user],
                                     "real_name": self.users[user].title()}}

    def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        return {"ok": True, "url": self.socket_url}


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "conversations.history": FakeSlack._history_page,
    "auth.test": FakeSlack._auth_test,
    "views.open": FakeSlack._views_open,
    "views.update": FakeSlack._views_update,
    "users.info": FakeSlack._users_info,
    "apps.connections.open": FakeSlack._connections_open,
}


def _view_refused(view: Any) -> dict[str, Any] | None:
    """Slack's answer to a modal it would refuse (None when it is a valid one)."""
    if not isinstance(view, dict) or view.get("type") != "modal":
        return _fail("invalid_arguments")
    problems = _check_blocks(view.get("blocks", []), MAX_MODAL_BLOCKS)
    problems += _check_plain(view, "title", 24) + _check_plain(view, "submit", 24)
    return _fail("invalid_blocks", problems) if problems else None


def _fail(error: str, problems: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error": error}
    if problems:
        body["problems"] = problems
    return body


def _message_problem(args: dict[str, Any]) -> dict[str, Any] | None:
    if not args.get("text") and not args.get("blocks"):
        return _fail("no_text")
    problems = _check_blocks(args.get("blocks") or [], MAX_BLOCKS)
    return _fail("invalid_blocks", problems) if problems else None


def _history_window(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """Newest first, like Slack; `oldest`/`latest` exclusive unless `inclusive`."""
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
    inclusive = _truthy(args.get("inclusive"))

    def inside(ts: float) -> bool:
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    return [dict(m) for m in reversed(messages) if inside(float(m["ts"]))]


def _truthy(value: Any) -> bool:
    return str(value).lower() in {"1", "true"}


# -- Block Kit limits (an independent check of what arxivwatch.slack.blocks builds) ------------


def check_blocks(blocks: Any, max_blocks: int = MAX_BLOCKS) -> list[str]:
    """The Block Kit problems the fake refuses: public so tests can show why a post failed."""
    return _check_blocks(blocks, max_blocks)


def _check_blocks(blocks: Any, max_blocks: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    problems = [f"{len(blocks)} blocks > {max_blocks}"] if len(blocks) > max_blocks else []
    if len(json.dumps(blocks, ensure_ascii=False)) > MAX_JSON_CHARS:
        problems.append(f"blocks JSON longer than {MAX_JSON_CHARS} chars")
    block_ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    problems += [f"duplicate block_id {b}" for b in _dupes(block_ids)]
    action_ids: list[str] = []
    for i, block in enumerate(blocks):
        problems += _check_block(i, block, action_ids)
    problems += [f"duplicate action_id {a}" for a in _dupes(action_ids)]
    return problems


def _check_block(i: int, block: Any, action_ids: list[str]) -> list[str]:
    if not isinstance(block, dict) or "type" not in block:
        return [f"block {i}: not a block"]
    kind, problems = block["type"], []
    if kind == "header":
        problems += _check_plain(block, "text", 150, plain=True)
    if kind == "section":
        problems += _check_text(block.get("text"), 3000, f"block {i} text")
        problems += [f"block {i}: more than 10 fields"] if len(block.get("fields", [])) > 10 else []
    elements = block.get("elements", [])
    if kind == "context" and len(elements) > 10:
        problems.append(f"block {i}: {len(elements)} context elements > 10")
    if kind == "actions" and len(elements) > 25:
        problems.append(f"block {i}: {len(elements)} actions elements > 25")
    for el in elements + ([block["accessory"]] if "accessory" in block else []):
        problems += _check_element(i, el, action_ids)
    return problems


def _check_element(i: int, el: dict[str, Any], action_ids: list[str]) -> list[str]:
    problems: list[str] = []
    if "action_id" in el:
        action_ids.append(el["action_id"])
        if len(el["action_id"]) > 255:
            problems.append(f"block {i}: action_id longer than 255")
    if el.get("type") == "button":
        problems += _check_plain(el, "text", 75, plain=True)
        if len(str(el.get("value", ""))) > 2000:
            problems.append(f"block {i}: button value longer than 2000")
    if el.get("type") == "static_select":
        options = el.get("options", [])
        problems += [f"block {i}: more than 100 options"] if len(options) > 100 else []
        problems += [p for o in options for p in _check_plain(o, "text", 75, plain=True)]
        problems += [f"block {i}: option value > 150" for o in options
                     if len(str(o.get("value", ""))) > 150]
        initial = el.get("initial_option")
        if initial is not None and initial not in options:
            problems.append(f"block {i}: initial_option is not one of the options")
    if el.get("type") in {"mrkdwn", "plain_text"}:
        problems += _check_text(el, 3000, f"block {i} element")
    return problems


def _check_plain(obj: dict[str, Any], key: str, limit: int, *, plain: bool = False) -> list[str]:
    text = obj.get(key)
    if text is None:
        return [] if key == "submit" else [f"missing {key}"]
    if plain and text.get("type") != "plain_text":
        return [f"{key} must be plain_text"]
    return _check_text(text, limit, key)


def _check_text(text: Any, limit: int, where: str) -> list[str]:
    if text is None:
        return []
    if not isinstance(text, dict) or not isinstance(text.get("text"), str):
        return [f"{where}: not a text object"]
    if not text["text"]:
        return [f"{where}: empty text"]
    return [f"{where}: {len(text['text'])} chars > {limit}"] if len(text["text"]) > limit else []


def _dupes(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]


# -- HTTP plumbing -----------------------------------------------------------------------------

_RESPONSE_URL = re.compile(r"^/response_url/(\d+)$")


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def _serve(self, verb: str) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = self.rfile.read(int(headers.get("content-length") or 0))
            hook = _RESPONSE_URL.match(parts.path)
            if hook:
                status = fake.handle_response_url(int(hook.group(1)), json.loads(body or b"{}"))
                return self._send(status, {}, {"ok": status == 200})
            if not parts.path.startswith("/api/"):
                return self._send(404, {}, {"ok": False, "error": "not_found"})
            args = _parse_args(parts.query, body, headers.get("content-type", ""))
            self._send(*fake.handle_api(parts.path.removeprefix("/api/"), args, headers, verb))

        def _send(self, status: int, extra: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **extra}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


def _parse_args(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
    if "json" in content_type:
        args.update(json.loads(body or b"{}"))
        return args
    args.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
    for key in _JSON_ARGS:
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args
