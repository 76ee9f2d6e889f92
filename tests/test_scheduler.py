"""The scheduled poll: cron timing, catch-up on start, one poll at a time, alerts, health."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import requests
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from arxivwatch import serving
from arxivwatch.config import ScheduleSettings
from arxivwatch.errors import SourceError, StoreError
from arxivwatch.pipeline import PollReport
from arxivwatch.scheduler import FAILURE_KEY, Daemon, needs_catch_up, next_run
from arxivwatch.store import Store

NY = ZoneInfo("America/New_York")
SCHEDULE = ScheduleSettings()                          # 0 21 * * sun-thu, America/New_York
TUESDAY = dt.datetime(2024, 6, 4, 15, 0, tzinfo=NY)    # before that evening's announcement
MONDAY, FRIDAY = dt.date(2024, 6, 3), dt.date(2024, 5, 31)


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)


def ok_report() -> PollReport:
    return PollReport(outcome="ok", day=dt.date(2024, 6, 4), fetched=5, matched=2, stored=2,
                      delivered=1)


def source_error() -> SourceError:
    return SourceError("arXiv did not answer", url="http://127.0.0.1:9/rss/cs.LG", attempt=5,
                       status=503)


class Polls:
    """A poll function that records its calls; optionally blocks or fails."""

    def __init__(self, *, hold: float = 0.0, failures: int = 0) -> None:
        self.times: list[float] = []
        self.walls: list[dt.datetime] = []
        self.hold, self.failures = hold, failures
        self.running = self.most = 0
        self._lock = threading.Lock()
        self.called = threading.Event()

    def __call__(self) -> PollReport:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.times.append(time.monotonic())
            self.walls.append(dt.datetime.now(dt.UTC))
        self.called.set()
        try:
            time.sleep(self.hold)
            if self.failures:
                self.failures -= 1
                raise source_error()
            return ok_report()
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open("sqlite:///:memory:") as s:
        yield s


@pytest.fixture
def daemons() -> Iterator[Callable[..., Daemon]]:
    """Builds daemons on the default schedule and stops them after the test."""
    made: list[Daemon] = []

    def make(poll: Callable[[], PollReport], store: Store, **kw: object) -> Daemon:
        kw.setdefault("now", lambda: TUESDAY)
        daemon = Daemon(SCHEDULE, poll, store, **kw)  # type: ignore[arg-type]
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        daemon.stop(5)


# -- pure decisions --------------------------------------------------------------------------

@pytest.mark.parametrize(("now", "expected"), [
    (ny(2024, 6, 7, 8, 0), ny(2024, 6, 9, 21, 0)),       # Friday -> Sunday evening
    (ny(2024, 6, 9, 20, 59), ny(2024, 6, 9, 21, 0)),     # a minute early: not before 21:00
    (ny(2024, 6, 9, 21, 0), ny(2024, 6, 9, 21, 0)),      # on the dot
    (ny(2024, 6, 9, 21, 0, 1), ny(2024, 6, 10, 21, 0)),  # just after -> Monday
    (ny(2024, 6, 13, 21, 30), ny(2024, 6, 16, 21, 0)),   # Thursday late -> no Fri/Sat polls
    (ny(2024, 11, 3, 12, 0), ny(2024, 11, 3, 21, 0)),    # DST ends that morning: still 21:00
])
def test_next_run_follows_cron_weekdays_in_the_schedule_zone(
        now: dt.datetime, expected: dt.datetime) -> None:
    """`0 21 * * sun-thu` in America/New_York fires Sunday to Thursday at 21:00 local."""
    fire = next_run(SCHEDULE.trigger(), now.astimezone(dt.UTC))
    assert fire == expected
    assert fire is not None
    assert fire.utcoffset() == expected.utcoffset()


def test_next_run_uses_the_configured_zone_not_the_host() -> None:
    """The same cron in UTC fires at 21:00 UTC, hours before 21:00 New York time."""
    now = dt.datetime(2024, 6, 9, 12, tzinfo=dt.UTC)
    utc = next_run(ScheduleSettings(timezone="UTC").trigger(), now)
    assert utc == dt.datetime(2024, 6, 9, 21, tzinfo=dt.UTC)
    assert next_run(SCHEDULE.trigger(), now) == dt.datetime(2024, 6, 10, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(("last", "now", "outcome", "expected"), [
    (None, TUESDAY, None, True),                                # never polled
    (dt.date(2024, 6, 4), TUESDAY, None, False),                # today's feed done
    (MONDAY, TUESDAY, None, True),                              # Tuesday's feed missed
    (MONDAY, ny(2024, 6, 3, 19, 0), None, False),               # Monday, before 20:00
    (MONDAY, ny(2024, 6, 3, 20, 30), None, True),               # Tuesday's announced at 20:00
    (FRIDAY, ny(2024, 6, 1, 12, 0), None, False),               # Saturday: nothing new
    (FRIDAY, ny(2024, 6, 2, 20, 5), None, True),                # Sunday evening: Monday's
    (dt.date(2024, 6, 4), TUESDAY, "running", True),            # killed mid-poll
    (dt.date(2024, 6, 4), TUESDAY, "failed", True),             # failed last time
    (dt.date(2024, 6, 4), TUESDAY, "interrupted", True),        # Ctrl-C mid-poll
    (dt.date(2024, 6, 4), TUESDAY, "ok", False),
])
def test_needs_catch_up(last: dt.date | None, now: dt.datetime, outcome: str | None,
                        expected: bool) -> None:
    """A poll is owed when an announcement was missed or the last poll did not finish well."""
    assert needs_catch_up(last, now, last_outcome=outcome) is expected


# -- the running scheduler -------------------------------------------------------------------

def test_poll_fires_at_the_trigger_time_not_before(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """With nothing owed, the first poll waits for the trigger and runs at its time."""
    store.set_last_announcement(dt.date(2024, 6, 4))
    polls = Polls()
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.4)
    daemon = daemons(polls, store, trigger=DateTrigger(run_date=at))
    first = daemon.start()
    assert first == at
    assert polls.called.wait(3)
    assert at <= polls.walls[0] < at + dt.timedelta(seconds=1)
    assert daemon.polls == 1


def test_up_to_date_start_schedules_the_cron_time(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """No catch-up owed: no poll at start; the first run is the next 21:00 New York."""
    store.set_last_announcement(dt.date(2024, 6, 4))
    polls = Polls()
    daemon = daemons(polls, store)
    expected = next_run(SCHEDULE.trigger(), dt.datetime.now(dt.UTC))
    assert daemon.start() == expected
    assert not polls.called.wait(0.3)
    assert daemon.next_run_time() == expected
    assert expected is not None
    assert expected.astimezone(NY).hour == 21


@pytest.mark.parametrize("setup", ["missed", "never", "killed", "now-flag"])
def test_start_polls_at_once_when_owed_or_asked(
        store: Store, daemons: Callable[..., Daemon], setup: str) -> None:
    """A missed announcement, an empty store, a killed run, or --now: one poll right away."""
    store.set_last_announcement(MONDAY if setup == "missed" else dt.date(2024, 6, 4))
    if setup == "never":
        store.set_meta("last_announcement", None)
    if setup == "killed":
        store.start_run("feed")           # never finished: the process died
    polls = Polls()
    daemon = daemons(polls, store)
    first = daemon.start(poll_now=setup == "now-flag")
    assert first is not None
    assert abs(first - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=1)
    assert polls.called.wait(3)
    time.sleep(0.1)
    assert len(polls.times) == 1
    after = daemon.next_run_time()
    assert after is not None
    assert after > dt.datetime.now(dt.UTC)


def test_overlapping_runs_never_happen(store: Store, daemons: Callable[..., Daemon]) -> None:
    """A trigger faster than the poll, plus a poll started by hand: never two at once."""
    store.set_last_announcement(dt.date(2024, 6, 4))
    polls = Polls(hold=0.5)
    daemon = daemons(polls, store, trigger=IntervalTrigger(seconds=0.1))
    daemon.start(poll_now=True)
    assert polls.called.wait(2)
    assert daemon.run_poll() is None                  # by hand, while one is running
    time.sleep(0.6)
    assert polls.most == 1
    assert daemon.skipped >= 1                        # APScheduler's max_instances kicked in


def test_stop_lets_the_running_poll_finish_then_refuses_new_ones(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """stop() waits for the poll in flight (bounded); afterwards no poll starts."""
    polls = Polls(hold=0.3)
    daemon = daemons(polls, store)
    daemon.start(poll_now=True)
    assert polls.called.wait(2)
    assert daemon.stop(timeout=5) is True
    assert polls.running == 0
    assert daemon.last is not None
    assert daemon.last.outcome == "ok"
    assert daemon.run_poll() is None
    assert daemon.next_run_time() is None


def test_stop_gives_up_after_its_timeout(store: Store, daemons: Callable[..., Daemon]) -> None:
    """A poll that outlives the bound makes stop() return False instead of hanging."""
    polls = Polls(hold=1.0)
    daemon = daemons(polls, store)
    daemon.start(poll_now=True)
    assert polls.called.wait(2)
    started = time.monotonic()
    assert daemon.stop(timeout=0.1) is False
    assert time.monotonic() - started < 0.5


# -- failures --------------------------------------------------------------------------------

def test_failure_is_reported_once_per_streak_and_recovery_noted(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """Three failures in a row: one Slack note; a success: a recovery note; a new failure:
    reported again."""
    notes: list[str] = []
    polls = Polls(failures=3)
    daemon = daemons(polls, store, notify=notes.append)
    for _ in range(3):
        assert daemon.run_poll() is None
    assert len(notes) == 1
    assert "arXiv did not answer" in notes[0]
    assert json.loads(store.get_meta(FAILURE_KEY) or "{}")["error"].startswith("arXiv did")
    assert daemon.run_poll() is not None
    assert len(notes) == 2
    assert "works again" in notes[1]
    assert store.get_meta(FAILURE_KEY) is None
    polls.failures = 1
    daemon.run_poll()
    assert len(notes) == 3


def test_reported_failure_survives_a_restart(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """The 'already reported' mark is in the store: a restarted daemon does not repeat it."""
    notes: list[str] = []
    daemons(Polls(failures=1), store, notify=notes.append).run_poll()
    daemons(Polls(failures=1), store, notify=notes.append).run_poll()
    assert len(notes) == 1


def test_a_note_that_cannot_be_sent_is_tried_on_the_next_failure(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """When Slack itself is down, the failure is not marked reported, so it is retried."""
    sent: list[str] = []

    def flaky(text: str) -> None:
        if not sent and not getattr(flaky, "tried", False):
            flaky.tried = True  # type: ignore[attr-defined]
            raise OSError("connection refused")
        sent.append(text)

    daemon = daemons(Polls(failures=2), store, notify=flaky)
    daemon.run_poll()
    assert store.get_meta(FAILURE_KEY) is None
    daemon.run_poll()
    assert len(sent) == 1
    assert store.get_meta(FAILURE_KEY) is not None


def test_a_busy_store_while_reporting_a_failure_is_one_log_line(
        store: Store, daemons: Callable[..., Daemon], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The state database still locked when the failure is recorded: one line, no traceback."""
    def busy(key: str, value: str | None) -> None:
        raise StoreError("state database x.db is busy")

    monkeypatch.setattr(store, "set_meta", busy)
    daemons(Polls(failures=1), store, notify=lambda text: None).run_poll()
    [record] = [r for r in caplog.records if "could not record" in r.getMessage()]
    assert "x.db is busy" in record.getMessage()
    assert not record.exc_info


def test_a_bug_in_the_poll_is_caught_and_logged(
        store: Store, daemons: Callable[..., Daemon], caplog: pytest.LogCaptureFixture) -> None:
    """An unexpected exception does not kill the scheduler thread; it is logged with a trace."""
    def broken() -> PollReport:
        raise KeyError("oops")

    daemon = daemons(broken, store)
    assert daemon.run_poll() is None
    failed = [r for r in caplog.records if r.getMessage().startswith("poll failed")]
    assert failed
    assert failed[0].exc_info is not None
    assert daemon.health()[0] is False


# -- health ----------------------------------------------------------------------------------

def test_health_before_any_poll(store: Store, daemons: Callable[..., Daemon]) -> None:
    """Nothing polled yet: ok, no last run, the next run from the cron schedule."""
    ok, body = daemons(Polls(), store).health()
    assert ok is True
    assert body["ok"] is True
    assert body["last_run"] is None
    assert body["next_run"] == "2024-06-04T21:00:00-04:00"
    assert body["schedule"] == {"cron": SCHEDULE.cron, "timezone": SCHEDULE.timezone}


def test_health_reports_the_last_run_and_fails_after_a_failed_poll(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """After a success: counts and outcome; after a failure: not ok, with the error."""
    polls = Polls()
    daemon = daemons(polls, store)
    daemon.run_poll()
    ok, body = daemon.health()
    assert ok
    assert body["last_run"]["outcome"] == "ok"
    assert body["last_run"]["counts"]["stored"] == 2
    assert body["last_run"]["at"] == TUESDAY.isoformat(timespec="seconds")
    polls.failures = 1
    daemon.run_poll()
    ok, body = daemon.health()
    assert not ok
    assert body["last_run"]["outcome"] == "failed"
    assert "arXiv did not answer" in body["last_run"]["error"]


def test_health_reads_a_failed_run_from_the_store_after_restart(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """A fresh process whose store remembers a failed poll reports 503 until it polls."""
    run = store.start_run("feed")
    store.finish_run(run, "failed", {}, error="arXiv is down")
    ok, body = daemons(Polls(), store).health()
    assert not ok
    assert body["last_run"]["error"] == "arXiv is down"


def test_healthz_over_http_answers_200_then_503(
        store: Store, daemons: Callable[..., Daemon]) -> None:
    """GET /healthz on a real port: 200 with the report, 503 once the last poll failed."""
    polls = Polls()
    daemon = daemons(polls, store)
    daemon.run_poll()
    with serving.http_server(None, lambda: daemon.health()[1], host="127.0.0.1", port=0,
                             echo=lambda _: None) as server:
        first = requests.get(f"{server.url}/healthz", timeout=5)
        polls.failures = 1
        daemon.run_poll()
        second = requests.get(f"{server.url}/healthz", timeout=5)
        events = requests.post(f"{server.url}/slack/events", data=b"x", timeout=5)
    assert first.status_code == 200
    assert first.json()["last_run"]["outcome"] == "ok"
    assert second.status_code == 503
    assert second.json()["ok"] is False
    assert events.status_code == 404


def test_slack_notifier_posts_an_escaped_note_to_the_channel() -> None:
    """The failure note goes to the digest channel; an error text cannot ping or plant links."""
    from arxivwatch.config import SlackSettings
    from arxivwatch.scheduler import slack_notifier
    from tests.fakes.slack_server import FakeSlack

    with FakeSlack() as fake:
        slack = SlackSettings(channel="C0LLMPAPERS", api_url=fake.api_url, bot_token=fake.token)
        notify = slack_notifier(SimpleNamespace(slack=slack))  # type: ignore[arg-type]
        assert notify is not None
        notify("poll failed: <!channel> & <https://evil|click>")
        [message] = fake.messages("C0LLMPAPERS")
    text = message["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in text
    assert "<!channel>" not in message["text"]


def test_slack_notifier_fits_a_long_error_into_one_block() -> None:
    """An error text longer than a Block Kit section still goes out (cut, not refused)."""
    from arxivwatch.config import SlackSettings
    from arxivwatch.scheduler import slack_notifier
    from tests.fakes.slack_server import FakeSlack

    with FakeSlack() as fake:
        slack = SlackSettings(channel="C0LLMPAPERS", api_url=fake.api_url, bot_token=fake.token)
        notify = slack_notifier(SimpleNamespace(slack=slack))  # type: ignore[arg-type]
        assert notify is not None
        notify("poll failed: " + "<&>" * 2000)
        [message] = fake.messages("C0LLMPAPERS")
    assert 0 < len(message["blocks"][0]["text"]["text"]) <= 3000


def test_no_slack_notifier_without_a_bot_token() -> None:
    """Without SLACK_BOT_TOKEN there is nobody to tell: failures are only logged."""
    from arxivwatch.config import SlackSettings
    from arxivwatch.scheduler import slack_notifier

    settings = SimpleNamespace(slack=SlackSettings(channel="C0LLMPAPERS"))
    assert slack_notifier(settings) is None  # type: ignore[arg-type]
