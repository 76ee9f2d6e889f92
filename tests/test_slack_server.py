"""The HTTP transport and `serve`: waitress on 127.0.0.1 port 0, driven with `requests`."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.socket_mode.request import SocketModeRequest

from arxivwatch.cli.serve_cmd import serve_until
from arxivwatch.config import SlackSettings
from arxivwatch.errors import ArxivWatchError, ConfigError
from arxivwatch.serving import check_secrets, http_server
from arxivwatch.slack.transport import MAX_BODY, HttpServer, Routes, SocketMode
from tests.fakes.slack_server import FakeSlack
from tests.slack_requests import SECRET, block_action, form, sign
from tests.test_decisions import OTHER, PAPER, decided
from tests.test_slack_interactions import Rig


@pytest.fixture
def rig(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Rig]:
    rig = Rig(tmp_path, fake_slack)
    yield rig
    rig.close()


class Served:
    """A started HttpServer around a rig's App, with a switchable health report."""

    def __init__(self, rig: Rig, **kw: Any) -> None:
        self.health: dict[str, Any] = {"ok": True}
        routes = Routes(lambda: self.health, SlackRequestHandler(rig.app))
        self.server = HttpServer(routes, port=0, **kw).start()
        self.url = self.server.url

    def post(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        return requests.post(f"{self.url}/slack/events", data=body, headers=headers, timeout=5)


@pytest.fixture
def served(rig: Rig) -> Iterator[Served]:
    s = Served(rig)
    yield s
    s.server.stop()


def test_signed_click_end_to_end(rig: Rig, served: Served) -> None:
    """A signed approve over real HTTP: 200, one catalog line, the message updated."""
    body = form(block_action("approve", PAPER.id, rig.message))
    resp = served.post(body, sign(body))
    assert resp.status_code == 200
    rig.settle()
    assert rig.catalog.read_text().count(PAPER.id) == 1
    assert f"decided:{PAPER.id}" in rig.block_ids()


def test_forged_click_over_http_is_401(rig: Rig, served: Served) -> None:
    """A forged request gets 401 and leaves the catalog byte-identical."""
    before = rig.catalog.read_bytes()
    body = form(block_action("approve", PAPER.id, rig.message))
    resp = served.post(body, sign(body, secret="forged"))  # noqa: S106
    rig.settle()
    assert resp.status_code == 401
    assert rig.catalog.read_bytes() == before
    assert decided(rig.store) == {}


@pytest.mark.parametrize(("case", "headers_for"), [
    ("non-numeric timestamp", lambda body: sign(body, ts="soon")),
    ("huge timestamp", lambda body: sign(body, ts="9" * 400)),
    ("signature not ascii", lambda body: {**sign(body), "X-Slack-Signature": "v0=\u00e9"}),
])
def test_malformed_signature_headers_over_http_are_401(
        rig: Rig, served: Served, case: str, headers_for: Any) -> None:
    """Malformed signature headers get 401 over real HTTP (Bolt alone answers 500)."""
    body = form(block_action("approve", PAPER.id, rig.message))
    headers = {k: v.encode("utf-8").decode("latin-1") for k, v in headers_for(body).items()}
    resp = served.post(body, headers)
    rig.settle()
    assert resp.status_code == 401, case
    assert decided(rig.store) == {}


def test_a_signed_payload_that_is_not_json_is_400(rig: Rig, served: Served) -> None:
    """A correctly signed body whose payload is not JSON: 400, nothing decided."""
    body = b"payload=%7Bnot-json"
    assert served.post(body, sign(body)).status_code == 400
    assert decided(rig.store) == {}


def test_many_clicks_at_once_are_all_answered_and_decided_once(
        rig: Rig, served: Served) -> None:
    """40 signed clicks at once on two papers: every one 200, one decision per paper."""
    clicks = [form(block_action(kind, pid, rig.message, user=user))
              for kind in ("approve", "reject") for pid in (PAPER.id, OTHER.id)
              for user in ("U0CURATOR", "U0OTHER") for _ in range(5)]
    barrier, statuses = threading.Barrier(len(clicks)), []

    def click(body: bytes) -> None:
        barrier.wait()
        statuses.append(served.post(body, sign(body)).status_code)

    threads = [threading.Thread(target=click, args=(body,)) for body in clicks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rig.settle()
    assert statuses == [200] * len(clicks)
    assert set(decided(rig.store)) == {PAPER.id, OTHER.id}
    assert rig.catalog.read_text().count("2402.12354") <= 1


def test_a_click_lands_while_150_idle_connections_are_open(rig: Rig, served: Served) -> None:
    """Idle connections neither take the click's place nor a thread: it is answered 200."""
    idle = [socket.create_connection(("127.0.0.1", served.server.port), timeout=5)
            for _ in range(150)]
    try:
        body = form(block_action("reject", PAPER.id, rig.message))
        assert served.post(body, sign(body)).status_code == 200
        assert requests.get(f"{served.url}/healthz", timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()
    rig.settle()
    assert decided(rig.store)[PAPER.id].action == "reject"


@pytest.mark.parametrize(("health", "status"), [
    ({"ok": True, "mode": "http"}, 200), ({"ok": False, "error": "store locked"}, 503),
])
def test_healthz(served: Served, health: dict[str, Any], status: int) -> None:
    """GET /healthz returns the health callable's JSON; 503 when it reports not ok."""
    served.health = health
    resp = requests.get(f"{served.url}/healthz", timeout=5)
    assert resp.status_code == status
    assert resp.json() == health


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"), ("GET", "/slack/events"), ("POST", "/healthz"), ("POST", "/other"),
])
def test_other_routes_are_404(served: Served, method: str, path: str) -> None:
    """Anything but POST /slack/events and GET /healthz is 404."""
    assert requests.request(method, served.url + path, timeout=5).status_code == 404


def test_a_404_post_body_is_not_read_as_the_next_request(served: Served) -> None:
    """On one kept-alive connection, a POST to an unknown path leaves no bytes behind."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", served.server.port,
                                      timeout=5)
    try:
        conn.request("POST", "/nope", body=b"payload=%7B%7D")
        first = conn.getresponse()
        first.read()
        if not first.will_close:
            conn.request("GET", "/healthz")
            second = conn.getresponse()
            assert second.status == 200
            assert second.read().startswith(b"{")
        assert first.status == 404
    finally:
        conn.close()


def test_oversized_body_is_413(served: Served) -> None:
    """A body over the cap is refused without being read."""
    resp = requests.post(f"{served.url}/slack/events", data=b"x" * (MAX_BODY + 1), timeout=5)
    assert resp.status_code == 413


def test_a_truncated_body_times_out_instead_of_holding_a_thread() -> None:
    """A client that promises more bytes than it sends is cut off after the request deadline."""
    server = HttpServer(Routes(dict), port=0, deadline=0.3).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 100\r\n\r\npayload=")
            assert sock.recv(1024) == b""   # closed by the server, well before our 10 s
    finally:
        server.stop()


def test_a_client_dripping_bytes_is_cut_off_at_the_deadline() -> None:
    """A byte every 0.2 s keeps waitress's idle timeout at bay, but not the request deadline."""
    server = HttpServer(Routes(dict), port=0, deadline=0.5).start()
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            for byte in b"POST /slack/events HTTP/1.1\r\nHost: x\r\n" * 20:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:   # reset: the server closed it
                    break
                sock.setblocking(False)
                try:
                    if sock.recv(1) == b"":
                        break
                except BlockingIOError:
                    pass
                sock.setblocking(True)
                time.sleep(0.2)
            else:
                pytest.fail("the dripping connection was never closed")
    finally:
        server.stop()
    assert time.monotonic() - started < 5


def test_stop_finishes_the_running_request_and_closes_idle_connections() -> None:
    """stop(): the request being served gets its answer; idle connections are closed."""
    entered, release = threading.Event(), threading.Event()

    def slow_health() -> dict[str, Any]:
        entered.set()
        release.wait(5)
        return {"ok": True}

    server = HttpServer(Routes(slow_health), port=0).start()
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    answers: list[int] = []
    worker = threading.Thread(target=lambda: answers.append(
        requests.get(f"{server.url}/healthz", timeout=5).status_code))
    worker.start()
    assert entered.wait(5)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    time.sleep(0.2)
    release.set()
    stopper.join(10)
    worker.join(10)
    assert answers == [200]
    assert idle.recv(1) == b""
    idle.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/healthz", timeout=5)


def test_port_zero_binds_a_free_loopback_port(served: Served) -> None:
    """Port 0 picks a free port on 127.0.0.1, reported by `.port` and `.url`."""
    assert served.server.port > 0
    assert served.url == f"http://127.0.0.1:{served.server.port}"


# 192.0.2.1 (TEST-NET-1) is an address this machine does not have: bind fails, with no DNS query
@pytest.mark.parametrize("host", ["127.0.0.1", "192.0.2.1"])
def test_a_busy_port_or_foreign_address_is_one_clear_error(served: Served, host: str) -> None:
    """`serve`/`run` on a port in use or an address not on this machine: ArxivWatchError."""
    with pytest.raises(ArxivWatchError, match="cannot listen on") as caught, \
            http_server(None, dict, host=host, port=served.server.port, echo=print):
        pass
    assert f"{host}:{served.server.port}" in str(caught.value)
    assert "--host/--port" in str(caught.value)


def _settings(fake_slack: FakeSlack, catalog: Path, **secrets: Any) -> Any:
    slack = SlackSettings(channel="#llm-papers", api_url=fake_slack.api_url, **secrets)
    return SimpleNamespace(slack=slack, catalog=SimpleNamespace(
        path=catalog, insert="top", git_commit=False, git_push=False), templates_dir=None,
        config_path=catalog.parent / "topics.yaml")


@pytest.mark.parametrize(("secrets", "needed"), [
    ({"signing_secret": SECRET}, "SLACK_BOT_TOKEN"),
    ({"bot_token": "xoxb-test"}, "SLACK_SIGNING_SECRET"),
])
def test_serve_names_the_missing_secret(fake_slack: FakeSlack, tmp_path: Path,
                                        secrets: dict[str, str], needed: str) -> None:
    """Without the bot token, or (in HTTP mode) the signing secret: a ConfigError naming it."""
    with pytest.raises(ConfigError, match=needed):
        check_secrets(_settings(fake_slack, tmp_path / "README.md", **secrets).slack)


@contextmanager
def serving(settings: Any, store: Any) -> Iterator[tuple[str, list[str]]]:
    """`serve_until` on a thread, port 0: its URL and its lines; stopped (and joined) on exit."""
    stop, lines, started = threading.Event(), [], threading.Event()

    def echo(line: str) -> None:
        lines.append(line)
        started.set()

    worker = threading.Thread(target=serve_until, args=(settings, store, stop),
                              kwargs={"host": "127.0.0.1", "port": 0, "echo": echo})
    worker.start()
    assert started.wait(5)
    try:
        yield lines[0].split("listening on ", 1)[1].split("/slack/events", 1)[0], lines
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()


def test_serve_until_http_mode_starts_and_stops(rig: Rig, fake_slack: FakeSlack) -> None:
    """`serve` in HTTP mode listens, answers /healthz and stops cleanly when told to."""
    settings = _settings(fake_slack, rig.catalog, bot_token=fake_slack.token, signing_secret=SECRET)
    with serving(settings, rig.store) as (url, lines):
        assert requests.get(f"{url}/healthz", timeout=5).json()["ok"] is True
    assert lines[-1] == "stopped"


def test_serve_until_decides_acknowledged_clicks_before_it_returns(
        rig: Rig, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    """Stopped right after a click's 200: the decision and its message update finish first."""
    caplog.set_level(logging.INFO)
    settings = _settings(fake_slack, rig.catalog, bot_token=fake_slack.token, signing_secret=SECRET)
    fake_slack.script(["stall:1"], method="chat.update")   # the work after the ack takes a second
    body = form(block_action("approve", PAPER.id, rig.message))
    with serving(settings, rig.store) as (url, _):
        resp = requests.post(f"{url}/slack/events", data=body, timeout=5,
                             headers=sign(body, ts=int(time.time())))
    assert resp.status_code == 200
    assert f"Approved {PAPER.id}" in caplog.text   # logged once chat.update has returned
    assert rig.catalog.read_text().count(PAPER.id) == 1


class RecordingSocketClient:
    """Stands in for SocketModeClient in a listener call: records the acks sent."""

    def __init__(self) -> None:
        self.acks: list[str] = []
        self.logger = logging.getLogger("test.socket_mode")

    def send_socket_mode_response(self, response: Any) -> None:
        self.acks.append(response.envelope_id)


def test_socket_mode_acks_then_dispatches(rig: Rig) -> None:
    """An interactive envelope is acknowledged, then its payload decided."""
    runner = SocketMode(rig.app, "xapp-test")
    client = RecordingSocketClient()
    listener = runner.handler.client.socket_mode_request_listeners[0]
    listener(client, SocketModeRequest("interactive", "env-1",
                                       block_action("reject", PAPER.id, rig.message)))
    listener(client, SocketModeRequest("events_api", "env-2", {"type": "event_callback"}))
    rig.settle()
    runner.close()
    assert client.acks == ["env-1", "env-2"]
    assert decided(rig.store)[PAPER.id].action == "reject"
