"""Tests for arxivwatch.store: schema, papers, candidates, decisions, runs, meta, stats, locks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch.errors import StoreError
from arxivwatch.models import Candidate, Decision, Hit, Paper, Summary
from arxivwatch.store import SCHEMA_VERSION, Store
from arxivwatch.store._schema import migrate

T0 = dt.datetime(2024, 3, 4, 21, 0, tzinfo=dt.UTC)
DAY = dt.date(2024, 3, 4)


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += dt.timedelta(hours=hours)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> Iterator[Store]:
    with Store.open("sqlite:///:memory:", clock=clock) as s:
        yield s


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


def paper(n: int, **kw: object) -> Paper:
    fields: dict[str, object] = {"title": f"Paper {n}", "abstract": f"About {n}.",
                                 "authors": ("Ada Lovelace", "Alan Turing"),
                                 "categories": ("cs.LG", "cs.CL"), "version": 1, "day": DAY}
    fields.update(kw)
    return Paper(f"2403.{n:05d}", **fields)  # type: ignore[arg-type]


def cand(n: int, topic: str = "lora", *, section: str = "LoRA", rank: int = 1,
         day: dt.date = DAY, posted: bool = True, score: float = 2.5) -> Candidate:
    return Candidate(paper(n), topic, section, score, day, hits=(Hit("LoRA", "ti"),),
                     reasons=("title: LoRA",), alternatives=("moe",), rank=rank, posted=posted)


def decision(n: int, action: str = "approve", user: str = "U1",
             at: dt.datetime = T0) -> Decision:
    return Decision(f"2403.{n:05d}", action, user, at, section="LoRA",  # type: ignore[arg-type]
                    summary="A summary.", topic="lora")


# -- opening and schema ------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "postgres://localhost/arxivwatch", "sqlite://", "sqlite:///", "state.db", "",
])
def test_unsupported_url_is_refused_naming_it(url: str) -> None:
    """A URL that is not sqlite:///... fails with the URL and the supported forms."""
    with pytest.raises(StoreError, match=r"unsupported state\.url") as err:
        Store.open(url)
    assert repr(url) in str(err.value)
    assert "sqlite:///:memory:" in str(err.value)


def test_relative_url_resolves_against_cwd_and_creates_the_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlite:///state/x.db is a path relative to the working directory; parents are made."""
    monkeypatch.chdir(tmp_path)
    with Store.open("sqlite:///state/x.db") as s:
        assert s.path == tmp_path / "state" / "x.db"
    assert (tmp_path / "state" / "x.db").is_file()


def test_absolute_url_opens_the_file(tmp_path: Path) -> None:
    """sqlite:////abs/path names an absolute path."""
    target = tmp_path / "abs.db"
    with Store.open(f"sqlite:///{target}") as s:
        assert s.path == target


def test_new_database_is_migrated_to_the_latest_version_in_wal_mode(db_url: str) -> None:
    """A new file gets every migration, WAL journaling and the current user_version."""
    Store.open(db_url).close()
    conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"papers", "candidates", "decisions", "runs", "meta"} <= tables


def _old_database(path: Path, version: int) -> str:
    """A state file at an older schema version holding one candidate; its URL."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, str(path), target=version) == version
    conn.execute("INSERT INTO papers (id, title, first_seen, last_seen) "
                 "VALUES ('2403.00001', 'Old', '2024-01-01T00:00:00+00:00', "
                 "'2024-01-01T00:00:00+00:00')")
    conn.execute("INSERT INTO candidates (paper_id, topic, section, score, day, created_at, "
                 "updated_at) VALUES ('2403.00001', 'lora', 'LoRA', 1.0, '2024-01-01', "
                 "'2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00')")
    conn.close()
    return f"sqlite:///{path}"


def test_version_1_database_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    """An older (v1) file is brought up to date and its candidates stay readable."""
    path = tmp_path / "old.db"
    with Store.open(_old_database(path, 1)) as s:
        got = s.get_candidate("2403.00001")
        assert got is not None
        assert (got.candidate.paper.title, got.status, got.posted_at) == ("Old", "pending", None)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_version_2_database_gains_summaries_and_keeps_its_candidates(tmp_path: Path) -> None:
    """A v2 file (before issue 18) migrates; its candidates read back with no summary."""
    with Store.open(_old_database(tmp_path / "v2.db", 2)) as s:
        got = s.get_candidate("2403.00001")
        assert got is not None
        assert (got.candidate.paper.title, got.candidate.summary) == ("Old", None)


def test_candidate_summary_is_stored_once_with_its_maker(db_url: str) -> None:
    """The summary made at the poll reads back, and a rerun of the poll does not replace it."""
    made = Summary("Proposing LoRA+, which sets two learning rates.", "llm:llama3.1:8b")
    with Store.open(db_url) as s:
        s.add_candidates([dataclasses.replace(cand(1), summary=made)])
        s.add_candidates([dataclasses.replace(cand(1), summary=Summary("Other.", "built-in"))])
        got = s.get_candidate("2403.00001")
        assert got is not None
        assert got.candidate.summary == made
        assert s.unposted()[0].candidate.summary == made


def test_reopening_is_idempotent(db_url: str) -> None:
    """Opening a migrated file again migrates nothing and keeps the data."""
    with Store.open(db_url) as s:
        s.upsert_papers([paper(1)])
    with Store.open(db_url) as s:
        assert s.get_paper("2403.00001") == paper(1)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database from a newer arxivwatch fails with its version and the path."""
    path = tmp_path / "new.db"
    sqlite3.connect(path).execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match=r"schema version 99, newer .* \(4\)") as err:
        Store.open(f"sqlite:///{path}")
    assert str(path) in str(err.value)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    """A garbage file gives a StoreError naming it, not a sqlite3 traceback."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"junk\.db is not an SQLite database"):
        Store.open(f"sqlite:///{path}")


# -- papers ------------------------------------------------------------------------------------

def test_upsert_papers_counts_new_ones_and_round_trips(store: Store) -> None:
    """upsert_papers returns how many ids were new; get_paper returns the same Paper."""
    assert store.upsert_papers([paper(1), paper(2)]) == 2
    assert store.upsert_papers([paper(2), paper(3)]) == 1
    assert store.get_paper("2403.00002") == paper(2)
    assert store.get_paper("2403.99999") is None


def test_upsert_never_erases_known_fields(store: Store) -> None:
    """A later, poorer copy (a feed item) keeps comments, version and first day from the API."""
    store.upsert_papers([paper(1, comments="ICLR 2024", journal_ref="JMLR", version=3)])
    poorer = paper(1, title="Paper 1 (v4)", comments=None, version=2,
                   day=DAY + dt.timedelta(days=5), announce_type="replace")
    store.upsert_papers([poorer])
    got = store.get_paper("2403.00001")
    assert got is not None
    assert (got.title, got.comments, got.journal_ref, got.version, got.day, got.announce_type) \
        == ("Paper 1 (v4)", "ICLR 2024", "JMLR", 3, DAY, "replace")


def test_iter_papers_pages_in_id_order_and_filters_by_day(store: Store) -> None:
    """iter_papers streams every paper past one page, and `since` keeps later days only."""
    early = DAY - dt.timedelta(days=30)
    store.upsert_papers([paper(n, day=early if n % 2 else DAY) for n in range(1, 2502)])
    ids = [p.id for p in store.iter_papers()]
    assert len(ids) == 2501
    assert ids == sorted(ids)
    assert sum(1 for _ in store.iter_papers(since=DAY)) == 1250


@settings(max_examples=60, deadline=None)
@given(st.builds(
    Paper, id=st.from_regex(r"2[0-9]{3}\.[0-9]{5}", fullmatch=True),
    title=st.text(min_size=1).filter(str.strip), abstract=st.text(),
    authors=st.lists(st.text(), max_size=4).map(tuple),
    categories=st.lists(st.sampled_from(["cs.LG", "cs.AI", "stat.ML"]), max_size=3).map(tuple),
    comments=st.none() | st.text(), journal_ref=st.none() | st.text(),
    doi=st.none() | st.text(), version=st.none() | st.integers(1, 50),
    day=st.none() | st.dates(), announce_type=st.none() | st.sampled_from(["new", "cross"])))
def test_any_paper_round_trips(p: Paper) -> None:
    """Whatever text a paper holds, it reads back equal."""
    with Store.open("sqlite:///:memory:") as s:
        s.upsert_papers([p])
        assert s.get_paper(p.id) == p


# -- candidates --------------------------------------------------------------------------------

def test_add_candidates_is_idempotent_and_skips_unposted(store: Store) -> None:
    """Only posted candidates are stored, each paper once; a rerun inserts nothing."""
    batch = [cand(1), cand(2, posted=False), cand(3)]
    assert store.add_candidates(batch) == ["2403.00001", "2403.00003"]
    assert store.add_candidates(batch) == []
    assert store.add_candidates([cand(1, topic="moe")]) == []
    assert store.get_candidate("2403.00002") is None
    assert store.get_paper("2403.00002") is None


def test_stored_candidate_round_trips(store: Store, clock: Clock) -> None:
    """get_candidate gives back the same Candidate, pending, with its creation time."""
    store.add_candidates([cand(1)])
    got = store.get_candidate("2403.00001")
    assert got is not None
    assert got.candidate == cand(1)
    assert (got.id, got.status, got.decision, got.created_at) == ("2403.00001", "pending",
                                                                  None, clock.now)


def test_known_ids_covers_candidates_and_decisions(store: Store) -> None:
    """known_ids returns the ids with a candidate or a decision, nothing else."""
    store.add_candidates([cand(1)])
    store.upsert_papers([paper(2)])
    store.decide(decision(3))
    assert store.known_ids(["2403.00001", "2403.00002", "2403.00003", "x"]) \
        == {"2403.00001", "2403.00003"}
    assert store.known_ids([]) == set()


def test_unposted_orders_by_section_day_rank(store: Store) -> None:
    """unposted lists pending unposted candidates by section, then day, then rank."""
    later = DAY + dt.timedelta(days=1)
    store.add_candidates([cand(1, section="MoE", rank=1), cand(2, rank=2),
                          cand(3, rank=1, day=later), cand(4, rank=1)])
    assert [c.id for c in store.unposted()] == [
        "2403.00004", "2403.00002", "2403.00003", "2403.00001"]


def test_mark_posted_records_the_message_and_leaves_decided_ones_decided(
        store: Store, clock: Clock) -> None:
    """mark_posted sets channel, ts and status posted; an already decided one stays decided."""
    store.add_candidates([cand(1), cand(2), cand(3)])
    store.decide(decision(2, "reject"))
    clock.advance(1)
    assert store.mark_posted(["2403.00001", "2403.00002"], "C1", "171.5") == 2
    one, two = store.get_candidate("2403.00001"), store.get_candidate("2403.00002")
    assert one is not None
    assert two is not None
    assert (one.status, one.slack_channel, one.slack_ts, one.posted_at) \
        == ("posted", "C1", "171.5", clock.now)
    assert two.status == "rejected"
    assert [c.id for c in store.unposted()] == ["2403.00003"]


def test_candidates_filters_by_status_topic_and_day(store: Store) -> None:
    """candidates() narrows by status, topic and first day."""
    later = DAY + dt.timedelta(days=1)
    store.add_candidates([cand(1), cand(2, topic="moe"), cand(3, day=later)])
    store.decide(decision(1))
    assert [c.id for c in store.candidates(status="approved")] == ["2403.00001"]
    assert [c.id for c in store.candidates(topic="moe")] == ["2403.00002"]
    assert [c.id for c in store.candidates(since=later)] == ["2403.00003"]
    assert len(store.candidates()) == 3


def test_counts_by_status_includes_zeros(store: Store) -> None:
    """Every status appears, with zero when none."""
    store.add_candidates([cand(1), cand(2), cand(3)])
    store.mark_posted(["2403.00002"], "C", "1.0")
    store.decide(decision(3, "reject"))
    assert store.counts_by_status() == {"pending": 1, "posted": 1, "approved": 0, "rejected": 1}


# -- decisions ---------------------------------------------------------------------------------

def test_first_decision_stands(store: Store) -> None:
    """The first decision applies; a second returns it unapplied and changes nothing."""
    store.add_candidates([cand(1)])
    first = store.decide(decision(1, "approve", "U1"))
    second = store.decide(decision(1, "reject", "U2", at=T0 + dt.timedelta(minutes=1)))
    assert first.applied
    assert not second.applied
    assert second.decision == decision(1, "approve", "U1")
    got = store.get_candidate("2403.00001")
    assert got is not None
    assert (got.status, got.decision) == ("approved", decision(1, "approve", "U1"))
    assert store.decisions() == [decision(1, "approve", "U1")]


def test_decision_by_hand_creates_a_never_offered_row(store: Store) -> None:
    """A decision on a paper with no candidate makes a row that is not pending nor in stats."""
    result = store.decide(decision(7, "approve", "cli:ada"))
    assert result.applied
    got = store.get_candidate("2403.00007")
    assert got is not None
    c = got.candidate
    assert (got.status, c.posted, c.section, c.topic) == ("approved", False, "LoRA", "lora")
    assert store.get_paper("2403.00007") is None   # only an id so far: no metadata to serve
    assert store.stats() == []
    assert store.unposted() == []
    store.upsert_papers([paper(7)])
    assert store.get_paper("2403.00007") == paper(7)


def test_decisions_since_filters_and_keeps_utc(store: Store) -> None:
    """decisions(since) keeps decisions at or after a day or instant, as tz-aware UTC."""
    plus2 = dt.timezone(dt.timedelta(hours=2))
    store.decide(decision(1, at=dt.datetime(2024, 3, 4, 1, 0, tzinfo=plus2)))  # 3 March UTC
    store.decide(decision(2, at=T0))
    assert [d.paper_id for d in store.decisions(since=DAY)] == ["2403.00002"]
    assert [d.paper_id for d in store.decisions(since=T0)] == ["2403.00002"]
    assert store.decisions()[0].at == dt.datetime(2024, 3, 3, 23, 0, tzinfo=dt.UTC)


def test_naive_decision_time_is_refused(store: Store) -> None:
    """A naive datetime would be misread later, so it is refused at once."""
    with pytest.raises(ValueError, match="naive"):
        store.decide(decision(1, at=dt.datetime(2024, 1, 1)))


@pytest.mark.parametrize("separate_connections", [False, True])
def test_racing_approve_and_reject_apply_exactly_once(
        db_url: str, separate_connections: bool) -> None:
    """Threads racing approve against reject (shared or own connections): one decision stands."""
    stores = [Store.open(db_url) for _ in range(8 if separate_connections else 1)]
    stores[0].add_candidates([cand(1)])
    barrier = threading.Barrier(16)
    results, errors = [], []

    def click(i: int) -> None:
        barrier.wait()
        action = "approve" if i % 2 else "reject"
        try:
            results.append(stores[i % len(stores)].decide(decision(1, action, f"U{i}")))
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 16
    assert sum(r.applied for r in results) == 1
    assert len({r.decision for r in results}) == 1
    got = stores[0].get_candidate("2403.00001")
    assert got is not None
    assert got.decision == results[0].decision
    assert got.status == {"approve": "approved", "reject": "rejected"}[got.decision.action]
    for s in stores:
        s.close()


# -- runs, meta, stats -------------------------------------------------------------------------

def test_runs_are_recorded_newest_first(store: Store, clock: Clock) -> None:
    """start_run/finish_run keep source, times, outcome, counts and error."""
    first = store.start_run("feed")
    clock.advance(0.5)
    store.finish_run(first, "ok", {"fetched": 90, "candidates": 4})
    second = store.start_run("api")
    running = store.last_run()
    assert running is not None
    assert (running.id, running.outcome, running.finished_at) == (second, "running", None)
    store.finish_run(second, "failed", error="arXiv unreachable")
    runs = store.runs()
    assert [r.id for r in runs] == [second, first]
    assert (runs[1].source, runs[1].started_at, runs[1].finished_at, runs[1].counts) == (
        "feed", T0, T0 + dt.timedelta(hours=0.5), {"fetched": 90, "candidates": 4})
    assert (runs[0].outcome, runs[0].error) == ("failed", "arXiv unreachable")
    assert store.last_run(source="feed") == runs[1]
    assert store.runs(limit=1) == [runs[0]]


def test_runs_left_running_can_be_marked_interrupted(store: Store, clock: Clock) -> None:
    """abandon_running_runs closes runs a dead process left open, and only those."""
    done = store.start_run("feed")
    store.finish_run(done, "ok", {})
    stale = store.start_run("feed")
    clock.advance(2)
    assert store.abandon_running_runs() == 1
    assert [(r.id, r.outcome) for r in store.runs()] == [(stale, "interrupted"), (done, "ok")]
    assert store.runs()[0].finished_at == clock.now


def test_finishing_an_unknown_run_fails(store: Store) -> None:
    """finish_run on an id that was never started is a StoreError, not a silent no-op."""
    with pytest.raises(StoreError, match="no run 42"):
        store.finish_run(42, "ok", {})


def test_meta_set_get_delete_and_last_announcement(store: Store) -> None:
    """Meta values are set, overwritten and deleted; last_announcement is a date."""
    assert store.get_meta("feed.etag") is None
    assert store.last_announcement() is None
    store.set_meta("feed.etag", '"abc"')
    store.set_meta("feed.etag", '"def"')
    assert store.get_meta("feed.etag") == '"def"'
    store.set_meta("feed.etag", None)
    assert store.get_meta("feed.etag") is None
    store.set_last_announcement(DAY)
    assert store.last_announcement() == DAY


def test_stats_per_topic_over_a_window(store: Store, clock: Clock) -> None:
    """stats counts offered, approved, rejected, pending, precision and median hours per topic."""
    store.add_candidates([cand(n) for n in range(1, 5)] + [cand(5, topic="moe")])
    store.add_candidates([cand(6, day=DAY + dt.timedelta(days=9))])
    store.mark_posted([f"2403.{n:05d}" for n in range(1, 7)], "C", "1.0")
    for n, action, hours in [(1, "approve", 2), (2, "approve", 4), (3, "reject", 10)]:
        store.decide(decision(n, action, at=T0 + dt.timedelta(hours=hours)))
    lora, moe = store.stats(since=DAY, until=DAY + dt.timedelta(days=1))
    assert (lora.topic, lora.posted, lora.approved, lora.rejected, lora.pending) \
        == ("lora", 4, 2, 1, 1)
    assert lora.precision == pytest.approx(2 / 3)
    assert lora.median_hours_to_decision == pytest.approx(4.0)
    assert (moe.topic, moe.posted, moe.pending, moe.precision, moe.median_hours_to_decision) \
        == ("moe", 1, 1, None, None)
    assert [s.posted for s in store.stats()] == [5, 1]


# -- processes: the instance lock and kill -9 ---------------------------------------------------

def _child(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


_HOLD_LOCK = """
    import sys
    from arxivwatch.store import Store
    with Store.open(sys.argv[1]) as s, s.acquire_instance_lock():
        print("locked", flush=True)
        sys.stdin.readline()
"""


def test_instance_lock_held_by_another_process_is_refused(db_url: str, tmp_path: Path) -> None:
    """A second instance on the same database fails naming the path and the holder's pid."""
    child = _child(_HOLD_LOCK, db_url)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "locked\n"
        with Store.open(db_url) as s, pytest.raises(StoreError) as err:
            s.acquire_instance_lock()
        assert str(err.value).startswith(
            f"another arxivwatch is already running on {tmp_path / 'state.db'} "
            f"(pid {child.pid})")
    finally:
        child.communicate("\n", timeout=10)
    with Store.open(db_url) as s, s.acquire_instance_lock() as lock:
        assert lock.held


def test_instance_lock_in_process_and_in_memory(db_url: str) -> None:
    """The lock is exclusive within a process too, released on exit; :memory: needs none."""
    with Store.open(db_url) as s:
        with s.acquire_instance_lock(), pytest.raises(StoreError, match="already running"):
            s.acquire_instance_lock()
        s.acquire_instance_lock().release()
    with Store.open("sqlite:///:memory:") as m, m.acquire_instance_lock() as lock:
        assert not lock.held


_KILLED_MID_TRANSACTION = """
    import datetime as dt, sys
    from arxivwatch.models import Candidate, Paper
    from arxivwatch.store import Store

    def cand(n):
        return Candidate(Paper(f"2403.{n:05d}", f"P{n}"), "lora", "LoRA", 1.0, dt.date(2024, 3, 4))

    class Stalling(list):
        def __iter__(self):
            for i, c in enumerate(list.__iter__(self)):
                if i == 50:
                    print("mid-transaction", flush=True)
                    sys.stdin.readline()
                yield c

    s = Store.open(sys.argv[1])
    s.add_candidates([cand(n) for n in range(10)])
    s.add_candidates(Stalling(cand(n) for n in range(10, 110)))
"""


def test_kill_9_mid_transaction_leaves_a_consistent_store(db_url: str) -> None:
    """A process killed half-way through add_candidates leaves none of that batch behind."""
    child = _child(_KILLED_MID_TRANSACTION, db_url)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "mid-transaction\n"
    finally:
        child.kill()
        child.wait(timeout=10)
    with Store.open(db_url) as s:
        assert len(s.candidates()) == 10
        assert s.add_candidates([cand(n) for n in range(5, 15)]) == [
            f"2403.{n:05d}" for n in range(10, 15)]
    conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
