"""The environment a CLI test runs in: no Slack secrets and no config override of the caller's."""

from __future__ import annotations

from arxivwatch.config import SECRET_ENV

NO_SECRETS: dict[str, str | None] = {name: None for name in (*SECRET_ENV, "ARXIVWATCH_CONFIG")}
