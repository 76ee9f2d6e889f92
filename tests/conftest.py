"""Shared test setup: no test reaches the internet, and fakes listen on 127.0.0.1 only."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from arxivwatch import logs
from tests.fakes.slack_server import FakeSlack

# slack_sdk and requests honour proxies; the fakes live on loopback.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def keep_root_logger() -> Iterator[None]:
    """`poll`, `serve` and `run` take over the root logger; give pytest's handlers back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, was in quiet.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The fake Slack Web API on 127.0.0.1, port 0."""
    with FakeSlack() as server:
        yield server

