"""The longer SQL statements of the Store, built from column lists kept in _rows."""

# ruff: noqa: S608 - SQL here is built only from constants; values are always bound parameters

from __future__ import annotations

from arxivwatch.store import _rows as rows

_P = "p.id, p.title, p.abstract, p.authors, p.categories, p.comments, p.journal_ref, p.doi, " \
     "p.version, p.day, p.announce_type"
_D = "d.paper_id, d.action, d.user, d.at, d.section, d.summary, d.topic"
SELECT_CANDIDATES = (f"SELECT {rows.CANDIDATE_COLUMNS}, {_P}, {_D} FROM candidates c "
                     "JOIN papers p ON p.id = c.paper_id "
                     "LEFT JOIN decisions d ON d.paper_id = c.paper_id")
UPSERT_PAPER = f"""INSERT INTO papers ({rows.PAPER_COLUMNS}, source, first_seen, last_seen)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET
        title = CASE WHEN excluded.title != '' THEN excluded.title ELSE title END,
        abstract = CASE WHEN excluded.abstract != '' THEN excluded.abstract ELSE abstract END,
        authors = CASE WHEN excluded.authors != '[]' THEN excluded.authors ELSE authors END,
        categories = CASE WHEN excluded.categories != '[]' THEN excluded.categories
                     ELSE categories END,
        comments = COALESCE(excluded.comments, comments),
        journal_ref = COALESCE(excluded.journal_ref, journal_ref),
        doi = COALESCE(excluded.doi, doi),
        version = NULLIF(MAX(COALESCE(excluded.version, 0), COALESCE(version, 0)), 0),
        day = COALESCE(day, excluded.day),
        announce_type = COALESCE(excluded.announce_type, announce_type),
        source = COALESCE(excluded.source, source),
        last_seen = excluded.last_seen"""
INSERT_CANDIDATE = """INSERT INTO candidates (paper_id, topic, section, score, day, rank, posted,
    hits, reasons, alternatives, summary, summary_by, unsure, created_at, updated_at, status)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(paper_id) DO NOTHING"""
IN_IDS = "IN (SELECT value FROM json_each(?))"
