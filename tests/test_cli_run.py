"""`arxivwatch run` in-process: wiring without Slack, secrets, the lock, signals, log lines."""

from __future__ import annotations

import io
import json
import logging
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from arxivwatch import logs
from arxivwatch.cli import _register, cli
from arxivwatch.cli.run_cmd import run_until
from arxivwatch.config import load
from arxivwatch.serving import Signals
from arxivwatch.store import Store
from tests.cli_env import NO_SECRETS
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.slack_server import FakeSlack
from tests.scenarios.test_run_process import CATALOG, CONFIG, DAY, KNOWN, PAPERS

_register()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project folder whose config points at a fake arXiv; returns the config path."""
    with FakeArxiv(papers=[*PAPERS, KNOWN], feed=PAPERS, announced=DAY) as arxiv:
        (tmp_path / "catalog").mkdir()
        (tmp_path / "catalog" / "README.md").write_text(CATALOG, encoding="utf-8")
        config = tmp_path / "topics.yaml"
        config.write_text(CONFIG.format(feed=arxiv.feed_url, api=arxiv.api_url,
                                        channel="C0LLMPAPERS", slack="http://127.0.0.1:9/api/"))
        yield config


def invoke(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={**NO_SECRETS, **(env or {})})
    return result.exit_code, result.output


def test_help_names_the_options_and_an_example() -> None:
    """`run --help` documents --now, --port, --log-format and shows an example."""
    code, out = invoke("run", "--help")
    assert code == 0
    for option in ("--now", "--host", "--port", "--log-format", "--stop-timeout"):
        assert option in out
    assert "arxivwatch run --now" in out.split("Example", 1)[1]


def test_without_slack_it_polls_prints_and_serves_healthz(
        project: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    """No tokens: the digest goes to stdout, /healthz answers, clicks get 404, stop returns 0."""
    caplog.set_level(logging.INFO)
    settings = load(project, {})
    stop, result = threading.Event(), []
    with Store.open(settings.state.url) as store:
        thread = threading.Thread(target=lambda: result.append(run_until(
            settings, store, stop, poll_now=True, port=0)))
        thread.start()
        try:
            url = _wait_for_url(caplog)
            _wait_until(lambda: "poll finished" in caplog.text)
            health = requests.get(f"{url}/healthz", timeout=5)
            click = requests.post(f"{url}/slack/events", data=b"payload=x", timeout=5)
        finally:
            stop.set()
            thread.join(10)
    assert result == [0]
    assert health.status_code == 200
    assert health.json()["last_run"]["counts"]["stored"] == len(PAPERS)
    assert click.status_code == 404
    assert "SLACK_SIGNING_SECRET" in click.text
    out = capsys.readouterr().out
    assert all(p["title"] in out for p in PAPERS)


def test_a_run_left_running_by_a_killed_process_is_marked_interrupted(
        project: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A poll killed mid-run (SIGKILL, power loss) is not reported as still running."""
    caplog.set_level(logging.INFO)
    settings = load(project, {})
    stop = threading.Event()
    with Store.open(settings.state.url) as store:
        stale = store.start_run("feed")
        thread = threading.Thread(target=run_until, args=(settings, store, stop),
                                  kwargs={"port": 0})
        thread.start()
        try:
            _wait_until(lambda: "poll finished" in caplog.text)
        finally:
            stop.set()
            thread.join(10)
        outcomes = {r.id: r.outcome for r in store.runs()}
    assert outcomes[stale] == "interrupted"


def _wait_for_url(caplog: pytest.LogCaptureFixture) -> str:
    found = _wait_until(lambda: re.search(r"listening on (http://[\d.:]+)", caplog.text))
    return found.group(1)


def _wait_until(check: object, timeout: float = 15) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()  # type: ignore[operator]
        if value:
            return value  # type: ignore[no-any-return]
        time.sleep(0.05)
    pytest.fail("timed out")


def test_bot_token_without_a_way_to_receive_clicks_is_refused(project: Path) -> None:
    """Posting buttons nobody can click is a config error, said before anything starts."""
    code, out = invoke("--config", str(project), "run", env={"SLACK_BOT_TOKEN": "xoxb-test"})
    assert code == 1
    assert "SLACK_SIGNING_SECRET is not set" in out
    assert not (project.parent / "state.db.instance.lock").exists()


def test_second_instance_is_refused_with_a_clear_message(project: Path) -> None:
    """While another process holds the state's lock, `run` exits 1 and names it."""
    settings = load(project, {})
    with Store.open(settings.state.url) as store, store.acquire_instance_lock():
        code, out = invoke("--config", str(project), "run")
    assert code == 1
    assert "error: another arxivwatch is already running on" in out
    assert "give this one its own state.url" in out


def test_first_signal_asks_to_stop_second_exits_at_once() -> None:
    """SIGTERM sets the stop event; a second one exits with 128 + 15 without waiting."""
    exits: list[int] = []
    signals = Signals(exit_now=exits.append)
    signals.handle(signal.SIGTERM)
    assert signals.stop.is_set()
    assert exits == []
    signals.handle(signal.SIGINT)
    assert exits == [128 + signal.SIGINT]


def test_socket_mode_connects_and_serves_healthz_over_http(
        project: Path, caplog: pytest.LogCaptureFixture) -> None:
    """With SLACK_APP_TOKEN clicks come over Socket Mode; /healthz still answers over HTTP."""
    caplog.set_level(logging.INFO)
    with FakeSlack(socket_url="ws://127.0.0.1:9/link") as slack:
        settings = _with_slack_url(load(project, {"SLACK_BOT_TOKEN": slack.token,
                                                  "SLACK_APP_TOKEN": slack.app_token}),
                                   slack.api_url)
        stop = threading.Event()
        with Store.open(settings.state.url) as store:  # type: ignore[attr-defined]
            thread = threading.Thread(target=run_until, args=(settings, store, stop),
                                      kwargs={"port": 0}, daemon=True)
            thread.start()
            try:
                url = _wait_for_url(caplog)
                _wait_until(lambda: slack.calls_to("apps.connections.open"))
                health = requests.get(f"{url}/healthz", timeout=5)
                click = requests.post(f"{url}/slack/events", data=b"payload=x", timeout=5)
            finally:
                stop.set()
                thread.join(10)
        assert not thread.is_alive()
    opened = slack.calls_to("apps.connections.open")[0]
    assert opened.headers["authorization"] == f"Bearer {slack.app_token}"
    assert health.status_code == 200
    assert click.status_code == 404
    assert "Socket Mode" in click.text


def _with_slack_url(settings: object, url: str) -> object:
    import dataclasses

    slack = dataclasses.replace(settings.slack, api_url=url)  # type: ignore[attr-defined]
    return dataclasses.replace(settings, slack=slack)  # type: ignore[type-var]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_lines_are_one_per_event(fmt: logs.LogFormat) -> None:
    """A record with a multi-line message and a traceback is still a single line."""
    stream = io.StringIO()
    logs.setup(fmt, stream=stream)
    log = logging.getLogger("arxivwatch.test")
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        log.exception("poll failed:\nsee below")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    if fmt == "json":
        event = json.loads(lines[0])
        assert event["level"] == "ERROR"
        assert event["message"] == "poll failed:\nsee below"
        assert "ValueError: bad" in event["exception"]
        assert event["time"].endswith("Z")
    else:
        assert " ERROR arxivwatch.test: poll failed:\\nsee below | Traceback" in lines[0]


def test_log_setup_quiets_chatty_libraries() -> None:
    """APScheduler's per-job INFO lines are dropped; its warnings still show."""
    stream = io.StringIO()
    logs.setup("text", stream=stream)
    logging.getLogger("apscheduler.executors.default").info("Running job")
    logging.getLogger("apscheduler.executors.default").warning("missed by 1 day")
    logging.getLogger("arxivwatch.run").info("listening")
    text = stream.getvalue()
    assert "Running job" not in text
    assert "missed by 1 day" in text
    assert "listening" in text
