"""The exceptions arxivwatch raises on purpose.

Every error a user can cause or fix derives from ArxivWatchError; the CLI turns these into one
clear line and a non-zero exit. Anything else is a bug and keeps its traceback. This module
imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Sequence


class ArxivWatchError(Exception):
    """Base class: a failure with a message a user can act on."""


class ConfigError(ArxivWatchError):
    """A problem in topics.yaml or the environment, located by file, key path and line."""

    def __init__(
        self, message: str, *, file: str | None = None, key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message, self.file, self.key, self.line = message, file, key, line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
        prefix = f"{where}: " if where else ""
        key = f"{self.key}: " if self.key else ""
        return f"{prefix}{key}{self.message}"


class QuerySyntaxError(ArxivWatchError):
    """A topic query that does not parse; shows the query with a caret under the column."""

    def __init__(self, message: str, query: str, column: int) -> None:
        self.message, self.query, self.column = message, query, column
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message} at column {self.column + 1}\n  {self.query}\n  {' ' * self.column}^"


class IdError(ArxivWatchError, ValueError):
    """A string that is not an arXiv identifier in any accepted form."""


class CatalogError(ArxivWatchError):
    """A problem reading or writing the markdown catalog."""

    def __init__(self, message: str, *, close_matches: Sequence[str] = ()) -> None:
        self.message, self.close_matches = message, tuple(close_matches)
        super().__init__(str(self))

    def __str__(self) -> str:
        if not self.close_matches:
            return self.message
        return f"{self.message}; closest headings: " + ", ".join(
            repr(m) for m in self.close_matches)


class SourceError(ArxivWatchError):
    """arXiv could not be reached or answered badly after all retries."""

    def __init__(
        self, message: str, *, url: str, attempt: int, status: int | None = None,
    ) -> None:
        self.message, self.url, self.attempt, self.status = message, url, attempt, status
        super().__init__(str(self))

    def __str__(self) -> str:
        status = f", HTTP {self.status}" if self.status is not None else ""
        return f"{self.message} ({self.url}, attempt {self.attempt}{status})"


class StoreError(ArxivWatchError):
    """The state database is unusable (wrong schema version, locked by another instance...)."""


class SlackError(ArxivWatchError):
    """Slack refused or failed a call; the message says what to fix."""

    def __init__(self, message: str, *, error: str | None = None) -> None:
        self.message, self.error = message, error
        super().__init__(message)


class DecisionError(ArxivWatchError):
    """A decision that cannot be taken (unknown paper, already decided, not allowed)."""


class BacktestError(ArxivWatchError):
    """A labels file, label mapping or replay input that cannot be used."""
