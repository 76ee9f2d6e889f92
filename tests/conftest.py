"""Shared test setup: no test reaches the internet, and fakes listen on 127.0.0.1 only."""

from __future__ import annotations

import os

# slack_sdk and requests honour proxies; the fakes live on loopback.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
