"""The config in force in a long-running process: re-read before each poll and on SIGHUP.

`LiveConfig.refresh()` reads topics.yaml again when its bytes changed. A valid version takes
effect at once (topics, queries, thresholds, channel, approvers...); an invalid one leaves the
last good version in force, is logged as one line (file:line: key: problem) and reported once,
through `warn`, for that version of the file: the next poll sees the same bytes and says nothing
more. Settings the process cannot change while it runs (`RESTART_ONLY`: the state database, the
templates directory, the Slack API URL the clients were built with) keep their running values,
and the warning names them. The host and port are command-line options, never read from the file.

A version is the SHA-256 of the file's bytes and its modification time; `/healthz` and `status`
show the one in force.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arxivwatch.clock import Clock, utcnow
from arxivwatch.config import load as load_config
from arxivwatch.config.settings import ConfigErrors, Loader, Settings
from arxivwatch.errors import ArxivWatchError, ConfigError

log = logging.getLogger(__name__)

Warn = Callable[[Settings, str], None]          # (settings in force, text) -> posted or raises
Changed = Callable[[Settings, "ConfigVersion"], None]

# Keys whose running value stays until a restart: (key path, how to read it from Settings).
RESTART_ONLY: tuple[tuple[str, Callable[[Settings], Any]], ...] = (
    ("state.url", lambda s: s.state.url),
    ("templates_dir", lambda s: s.templates_dir),
    ("slack.api_url", lambda s: s.slack.api_url),
)
UNREADABLE = "unreadable"  # the `_seen` mark of a file that could not be read
SHOWN_PROBLEMS = 10     # problems listed in a Slack warning; the log line has the first


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """One version of the config file: the hash of its bytes and its modification time."""

    path: Path
    sha256: str
    mtime: dt.datetime | None

    @property
    def short(self) -> str:
        """The first 12 hex digits of the hash, as shown to people."""
        return self.sha256[:12]

    def describe(self) -> str:
        """`3f2a9c01b7de (modified 2026-11-24 21:03:07 UTC)`."""
        when = f"{self.mtime:%Y-%m-%d %H:%M:%S} UTC" if self.mtime else "time unknown"
        return f"{self.short} (modified {when})"

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of /healthz."""
        return {"path": str(self.path), "sha256": self.sha256,
                "mtime": self.mtime.isoformat(timespec="seconds") if self.mtime else None}


def file_version(path: Path) -> ConfigVersion:
    """The version of the file on disk now; OSError when it cannot be read."""
    data = path.read_bytes()
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(microsecond=0)
    return ConfigVersion(path, hashlib.sha256(data).hexdigest(), mtime)


def secret_env(slack: Any) -> dict[str, str]:
    """The environment that gives a reloaded config the secrets the process started with."""
    values = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
              "SLACK_APP_TOKEN": slack.app_token}
    return {k: v for k, v in values.items() if v}


def one_line(error: ConfigError) -> str:
    """A config problem on one line: `file:line: key: message` (a caret drawing dropped)."""
    first = str(error.message).splitlines()[0] if error.message else ""
    return str(ConfigError(first, file=error.file, key=error.key, line=error.line))


def problems_of(exc: ArxivWatchError) -> list[ConfigError]:
    """Every problem a failed load reported."""
    if isinstance(exc, ConfigErrors):
        return list(exc.problems)
    if isinstance(exc, ConfigError):
        return [exc]
    return [ConfigError(str(exc))]


def restart_only_changes(running: Settings, new: Settings) -> list[str]:
    """The RESTART_ONLY keys whose value in `new` differs from the running one."""
    return [key for key, read in RESTART_ONLY if read(running) != read(new)]


def keep_running_values(running: Settings, new: Settings) -> Settings:
    """`new`, with the RESTART_ONLY values of `running`."""
    slack = dataclasses.replace(new.slack, api_url=running.slack.api_url)
    return dataclasses.replace(new, state=running.state, templates_dir=running.templates_dir,
                               slack=slack)


@dataclass(frozen=True, slots=True)
class _Rejected:
    """A version of the file that is not in force, and why."""

    sha256: str
    lines: tuple[str, ...]          # one per problem
    reported: bool = False


class LiveConfig:
    """The settings in force, a refresh that re-reads the file, and what /healthz shows."""

    def __init__(self, settings: Settings, env: Mapping[str, str], *, load: Loader | None = None,
                 warn: Warn | None = None, on_change: Changed | None = None,
                 clock: Clock = utcnow) -> None:
        """`settings` were loaded from `settings.config_path` at start (it is in force now)."""
        self.path, self.env = settings.config_path, env
        self._load = load or load_config
        self._warn, self._on_change, self._clock = warn, on_change, clock
        self._lock = threading.RLock()
        self._settings, self._loaded_at = settings, clock()
        self._rejected: _Rejected | None = None    # the version on disk, when not in force
        self._kept: tuple[str, ...] = ()           # RESTART_ONLY keys the file changed
        self._reported_kept: set[str] = set()      # versions whose kept keys were reported
        try:
            self._version = file_version(self.path)
        except OSError:
            self._version = ConfigVersion(self.path, "", None)
        self._seen = self._version.sha256          # the bytes last examined

    # -- what is in force -----------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        with self._lock:
            return self._settings

    @property
    def version(self) -> ConfigVersion:
        """The version of the file the settings in force were read from."""
        with self._lock:
            return self._version

    @property
    def loaded_at(self) -> dt.datetime:
        """When the version in force was read."""
        with self._lock:
            return self._loaded_at

    def view(self) -> LiveSettings:
        """An object that reads like Settings and always shows the ones in force."""
        return LiveSettings(self)

    def describe(self) -> dict[str, Any]:
        """The config in force, and the version on disk when it was refused (for /healthz)."""
        with self._lock:
            body: dict[str, Any] = {**self._version.as_dict(),
                                    "loaded_at": self._loaded_at.isoformat(timespec="seconds")}
            body["rejected"] = None if self._rejected is None else {
                "sha256": self._rejected.sha256, "problems": list(self._rejected.lines)}
            body["kept_until_restart"] = list(self._kept)
            return body

    def status_line(self) -> str:
        """One line for `status`: the version in force, and a refused one on disk."""
        with self._lock:
            line = f"config in force: {self._version.describe()}"
            if self._rejected is not None:
                line += (f"; the file on disk ({self._rejected.sha256[:12]}) is not valid and "
                         f"is ignored: {self._rejected.lines[0]}")
            if self._kept:
                line += f"; kept until a restart: {', '.join(self._kept)}"
            return line

    # -- reloading ------------------------------------------------------------------------------

    def refresh(self, reason: str = "poll") -> Settings:
        """Re-read the file if its bytes changed; the settings in force afterwards."""
        with self._lock:
            try:
                version = file_version(self.path)
            except OSError as exc:
                self._unreadable(exc)
            else:
                if version.sha256 == self._version.sha256:
                    self._seen, self._rejected = version.sha256, None   # back to the one in force
                elif version.sha256 != self._seen:
                    self._seen = version.sha256
                    self._examine(version, reason)
            self._report_pending()
            return self._settings

    def _unreadable(self, exc: OSError) -> None:
        if self._seen == UNREADABLE:
            return
        self._seen = UNREADABLE
        why = exc.strerror or str(exc)
        self._rejected = _Rejected(UNREADABLE, (f"{self.path}: cannot read the config file: "
                                                f"{why}",))
        log.error("config %s cannot be read (%s); version %s stays in force", self.path, why,
                  self._version.describe())

    def _examine(self, version: ConfigVersion, reason: str) -> None:
        try:
            new = self._load(self.path, self.env)
        except ArxivWatchError as exc:
            self._refuse(version, problems_of(exc))
            return
        self._rejected = None
        kept = restart_only_changes(self._settings, new)
        self._settings = keep_running_values(self._settings, new) if kept else new
        self._version, self._loaded_at, self._kept = version, self._clock(), tuple(kept)
        log.info("config reloaded (%s): version %s, %d topics: %s", reason, version.describe(),
                 len(new.topics), ", ".join(t.name for t in new.topics))
        if kept:
            log.warning("config %s changes %s, which take effect only after a restart; the "
                        "running values are kept", self.path, ", ".join(kept))
        if self._on_change is not None:
            try:
                self._on_change(self._settings, version)
            except Exception:  # what is in force is already decided; recording it is a courtesy
                log.exception("could not record the config version in force")

    def _refuse(self, version: ConfigVersion, problems: list[ConfigError]) -> None:
        lines = tuple(one_line(p) for p in problems) or (f"{self.path}: not valid",)
        self._rejected = _Rejected(version.sha256, lines)
        more = f" (and {len(lines) - 1} more problems)" if len(lines) > 1 else ""
        log.error("config not reloaded: %s%s; version %s stays in force", lines[0], more,
                  self._version.describe())

    def _report_pending(self) -> None:
        """Tell the channel, once per version, of a refused file or of kept restart-only keys."""
        if self._warn is None:
            return
        rejected = self._rejected
        if rejected is not None:
            if not rejected.reported and self._send(self._refusal_text(rejected)):
                self._rejected = dataclasses.replace(rejected, reported=True)
            return
        version = self._version.sha256
        if self._kept and version not in self._reported_kept and self._send(self._kept_text()):
            self._reported_kept.add(version)

    def _send(self, text: str) -> bool:
        assert self._warn is not None
        try:
            self._warn(self._settings, text)
        except Exception as exc:  # tried again at the next refresh
            log.warning("could not post the config warning to Slack: %s", exc)
            return False
        return True

    def _refusal_text(self, rejected: _Rejected) -> str:
        shown = "\n".join(f"• {line}" for line in rejected.lines[:SHOWN_PROBLEMS])
        more = len(rejected.lines) - SHOWN_PROBLEMS
        extra = f"\n… and {more} more (`arxivwatch check` lists them all)" if more > 0 else ""
        return (f":warning: arxivwatch: {self.path.name} was edited but is not valid, so "
                f"version {self._version.describe()} stays in force. Fix the file; the next "
                f"poll (or SIGHUP) picks it up. Said once for this version of the file.\n"
                f"{shown}{extra}")

    def _kept_text(self) -> str:
        return (f":information_source: arxivwatch: {self.path.name} version "
                f"{self._version.describe()} is in force, but {', '.join(self._kept)} only "
                f"change when `arxivwatch run` restarts; the running values are kept until then.")


class LiveSettings:
    """Reads like `Settings`, attribute by attribute, from the settings in force at each read.

    For long-lived objects built once (the decision service behind Slack's buttons), so that an
    edit of `slack.approvers` or `catalog.git` applies to the next click without a restart.
    """

    def __init__(self, live: LiveConfig) -> None:
        self._live = live

    def __getattr__(self, name: str) -> Any:
        return getattr(self._live.settings, name)
