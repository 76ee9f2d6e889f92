"""`arxivwatch run`'s clockwork: the poll on a cron schedule, catch-up on start, health, alerts.

The schedule comes from the config and lives in APScheduler's in-memory job store; what has been
done lives in the state store (runs, last announcement), so a restart loses nothing: on start,
if an announcement was made since the last one processed, the poll runs at once. One poll at a
time (APScheduler's `max_instances=1`, and a lock in case a poll is also started by hand), missed
runs coalesced into one, and a generous misfire grace so a laptop waking up still polls.

A failed poll is logged, retried at the next scheduled time, and reported to Slack once per
streak of failures (remembered in the store, so a restart does not report it again); the next
success clears the mark and posts a short "recovered" note.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]

from arxivwatch import announcements
from arxivwatch.clock import Clock, utcnow
from arxivwatch.errors import ArxivWatchError
from arxivwatch.render import slack_escape

if TYPE_CHECKING:
    from arxivwatch.config import ScheduleSettings, Settings
    from arxivwatch.pipeline import PollReport
    from arxivwatch.store import RunRecord, Store

log = logging.getLogger(__name__)

JOB_ID = "poll"
FAILURE_KEY = "run.failure_reported"   # meta: the failure streak already reported (JSON)
POLL_SOURCE = "feed"                   # the runs-table source of a scheduled poll
UNFINISHED = ("running", "failed", "interrupted")   # a last poll that must be redone on start

Notify = Callable[[str], None]


def needs_catch_up(last_announcement: dt.date | None, now: dt.datetime, *,
                   last_outcome: str | None = None) -> bool:
    """True when a poll is owed: arXiv announced since the last announcement processed (or
    none ever was), or the last poll failed or never finished (killed mid-digest)."""
    if last_announcement is None or last_outcome in UNFINISHED:
        return True
    return last_announcement < announcements.latest_feed_day(now)


def next_run(trigger: BaseTrigger, now: dt.datetime,
             previous: dt.datetime | None = None) -> dt.datetime | None:
    """The first fire time of `trigger` at or after `now` (after `previous` when given)."""
    fire: dt.datetime | None = trigger.get_next_fire_time(previous, now)
    return fire


def make_scheduler(schedule: ScheduleSettings) -> BackgroundScheduler:
    """A BackgroundScheduler in the schedule's time zone: one poll at a time, misfires coalesced."""
    return BackgroundScheduler(
        timezone=zoneinfo.ZoneInfo(schedule.timezone),
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": schedule.misfire_grace_time})


@dataclass(frozen=True, slots=True)
class LastPoll:
    """The last poll, as /healthz shows it."""

    at: dt.datetime | None
    outcome: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def from_run(cls, run: RunRecord) -> LastPoll:
        """The last poll as the runs table remembers it."""
        return cls(run.finished_at or run.started_at, run.outcome, dict(run.counts), run.error)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape /healthz shows."""
        return {"at": _iso(self.at), "outcome": self.outcome, "counts": self.counts,
                "error": self.error}


class Daemon:
    """The scheduled poll: start, run one poll safely, report health, stop gracefully."""

    def __init__(
        self, schedule: ScheduleSettings, poll: Callable[[], PollReport], store: Store, *,
        now: Clock = utcnow, notify: Notify | None = None, trigger: BaseTrigger | None = None,
        scheduler: BackgroundScheduler | None = None,
    ) -> None:
        self.schedule, self.store, self.now = schedule, store, now
        self._poll, self._notify = poll, notify
        self.trigger = trigger or schedule.trigger()
        self.scheduler = scheduler or make_scheduler(schedule)
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        self._guard = threading.Lock()        # held while a poll runs, and for good after stop
        self._stopping = self._stopped = False
        self.last: LastPoll | None = None
        self.polls = 0                        # polls started by this process
        self.skipped = 0                      # runs APScheduler dropped (late or overlapping)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, *, poll_now: bool = False) -> dt.datetime | None:
        """Schedule the poll (at once when asked or catching up) and start; return the first run.

        The injected clock decides whether a poll is owed; APScheduler fires on its own (real)
        clock, so the times handed to it come from the real clock.
        """
        real_now = utcnow()
        owed = poll_now or self._catching_up(self.now())
        first = real_now if owed else next_run(self.trigger, real_now)
        self.scheduler.add_job(self.run_poll, trigger=self.trigger, id=JOB_ID, name="arXiv poll",
                               next_run_time=first)
        self.scheduler.start()
        log.info("scheduled the poll: %s (%s); first run %s", self.schedule.cron,
                 self.schedule.timezone, _iso(first))
        return first

    def _catching_up(self, now: dt.datetime) -> bool:
        last = self.store.last_announcement()
        run = self.store.last_run(source=POLL_SOURCE)
        outcome = run.outcome if run is not None else None
        if not needs_catch_up(last, now, last_outcome=outcome):
            return False
        latest = announcements.latest_feed_day(now)
        log.info("catching up: last announcement processed %s, latest %s, last poll %s; "
                 "polling now", last or "none yet", latest, outcome or "none yet")
        return True

    def stop(self, timeout: float) -> bool:
        """Start no new poll, wait up to `timeout` s for a running one; False if it is still on."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.remove_all_jobs()
            self.scheduler.shutdown(wait=False)
        if self._stopped:
            return True
        if self._guard.acquire(timeout=timeout):
            self._stopped = True   # the guard is kept: no poll can start after a stop
            return True
        log.error("a poll is still running after %s s; giving up on it", timeout)
        return False

    def reschedule(self, schedule: ScheduleSettings) -> None:
        """Follow a new schedule (a reloaded config): the next poll is at its next fire time."""
        if schedule == self.schedule:
            return
        self.schedule, self.trigger = schedule, schedule.trigger()
        if self.scheduler.running and self.scheduler.get_job(JOB_ID) is not None:
            self.scheduler.modify_job(JOB_ID, misfire_grace_time=schedule.misfire_grace_time)
            self.scheduler.reschedule_job(JOB_ID, trigger=self.trigger)
        log.info("schedule changed: %s (%s); next poll %s", schedule.cron, schedule.timezone,
                 _iso(self.next_run_time()))

    # -- one poll -------------------------------------------------------------------------------

    def run_poll(self) -> PollReport | None:
        """Run one poll unless one is running or we are stopping; never raises."""
        if self._stopping or not self._guard.acquire(blocking=False):
            log.warning("poll skipped: %s",
                        "stopping" if self._stopping else "another poll is still running")
            return None
        try:
            self.polls += 1
            return self._poll_once()
        finally:
            self._guard.release()

    def _poll_once(self) -> PollReport | None:
        log.info("poll started")
        try:
            report = self._poll()
        except Exception as exc:
            self._failed(exc)
            return None
        log.info("poll finished: %s", report.summary())
        for warning in report.warnings:
            log.warning("poll: %s", warning)
        self._succeeded(report)
        return report

    def _failed(self, exc: Exception) -> None:
        retry = _iso(self.next_run_time())
        log.error("poll failed: %s; retrying at the next scheduled time (%s)", exc, retry,
                  exc_info=not _is_ours(exc))
        self.last = LastPoll(self.now(), "failed", error=str(exc))
        try:
            self._report_failure(exc, retry)
        except Exception as again:  # our own errors (a busy store) need no traceback
            log.error("could not record or report the poll failure: %s", again,
                      exc_info=not _is_ours(again))

    def _report_failure(self, exc: Exception, retry: str | None) -> None:
        if self.store.get_meta(FAILURE_KEY) is not None:
            log.info("this failure streak was already reported to Slack")
            return
        text = (f":warning: arxivwatch: the arXiv poll failed: {exc}. It will be retried at "
                f"the next scheduled time ({retry or 'none'}). Reported once; a note follows "
                "when a poll succeeds again.")
        if self._send(text):
            mark = {"at": _iso(self.last.at if self.last else None), "error": str(exc)}
            self.store.set_meta(FAILURE_KEY, json.dumps(mark))

    def _succeeded(self, report: PollReport) -> None:
        self.last = LastPoll(self.now(), report.outcome, report.counts())
        try:
            if self.store.get_meta(FAILURE_KEY) is None:
                return
            self.store.set_meta(FAILURE_KEY, None)
            self._send(f":white_check_mark: arxivwatch: polling works again. {report.summary()}")
        except Exception:
            log.exception("could not clear the reported poll failure")

    def _send(self, text: str) -> bool:
        """Post to Slack when configured; True when the message went out (or there is no Slack)."""
        if self._notify is None:
            return True
        try:
            self._notify(text)
        except Exception as exc:
            log.warning("could not tell Slack: %s", exc)
            return False
        return True

    def _on_skipped(self, event: JobEvent) -> None:
        self.skipped += 1
        kind = "missed (later than misfire_grace_time)" if event.code == EVENT_JOB_MISSED \
            else "skipped (the previous poll is still running)"
        log.warning("scheduled poll %s", kind)

    # -- health ---------------------------------------------------------------------------------

    def next_run_time(self) -> dt.datetime | None:
        """When the poll runs next (None once stopping)."""
        if self._stopping:
            return None
        job = self.scheduler.get_job(JOB_ID)
        if job is None or not self.scheduler.running:
            return next_run(self.trigger, self.now())
        when: dt.datetime | None = job.next_run_time
        return when

    def last_poll(self) -> LastPoll | None:
        """This process's last poll, else the last one the store remembers."""
        if self.last is not None:
            return self.last
        run = self.store.last_run(source=POLL_SOURCE)
        return LastPoll.from_run(run) if run is not None else None

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(ok, body): not ok when the last poll failed; body has the last and next runs."""
        last = self.last_poll()
        ok = last is None or last.outcome != "failed"
        body = {
            "ok": ok, "polling": self._guard.locked() and not self._stopping,
            "stopping": self._stopping,
            "last_run": last.as_dict() if last else None,
            "next_run": _iso(self.next_run_time()),
            "last_announcement": _iso(self.store.last_announcement()),
            "schedule": {"cron": self.schedule.cron, "timezone": self.schedule.timezone},
            "skipped_runs": self.skipped,
        }
        return ok, body


def slack_notifier(settings: Settings) -> Notify | None:
    """Posts plain notes to the digest channel; None when Slack is not configured."""
    slack = settings.slack
    if not (slack.configured and slack.bot_token and slack.channel):
        return None
    from arxivwatch.slack.blocks import MAX_TEXT, SlackMessage, truncate
    from arxivwatch.slack.delivery import SlackDelivery, make_client

    delivery = SlackDelivery(make_client(slack.bot_token, slack.api_url), slack.channel)

    def notify(text: str) -> None:
        # An error text has no length bound; Slack refuses a section text over MAX_TEXT.
        safe = truncate(slack_escape(text), MAX_TEXT)
        block = {"type": "section", "text": {"type": "mrkdwn", "text": safe}}
        delivery.post(SlackMessage(text=safe, blocks=[block]))

    return notify


def _is_ours(exc: BaseException) -> bool:
    return isinstance(exc, ArxivWatchError)


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()
