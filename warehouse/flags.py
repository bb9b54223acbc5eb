"""Flag records: what the flag rules look at, and opening / refreshing / closing flags.

A flag is identified by its finding's stable key. It opens when a rule reports the key, stays
open (``last_seen`` updated) while the rule keeps reporting it, and closes itself (``closed_at``,
``close_reason``) when the cause disappears. Which rules run, and on what, is the flags stage's
(``wardwatch/stages/flags.py``); this module only reads and writes rows.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from warehouse.changes import Doc, load_docs
from warehouse.db import Warehouse, connect, insert_rows, transaction

FLAG_COLUMNS = ("flag_id", "rule", "severity", "source_id", "url", "program", "kind", "evidence", "first_seen", "last_seen",
                "closed_at", "close_reason", "program_id")


def flag_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def last_evaluation_day(db: Warehouse | Path) -> date | None:
    with connect(db) as con:
        return con.execute("SELECT max(today) FROM flag_evaluations").fetchone()[0]


def current_versions(db: Warehouse | Path) -> list[tuple[str, str, str, str, Any]]:
    """(version_id, url, source kind, municipality, valid_from) of every current version."""
    with connect(db) as con:
        return con.execute(
            "SELECT v.version_id, v.url, s.kind, s.municipality, v.valid_from FROM versions v "
            "JOIN sources s USING (source_id) WHERE v.valid_to IS NULL").fetchall()


def page_inputs(db: Warehouse | Path, version_ids: list[str], official_urls: list[str],
                fy_start: date) -> tuple[dict[str, Doc], dict[str, str], dict[str, Doc], dict[str, list[dict[str, Any]]]]:
    """The versions, the id of each one's version in force the day before ``fy_start``, those
    versions, and the latest fact changes of ``official_urls`` (one connection)."""
    day_before = fy_start - timedelta(days=1)
    with connect(db) as con:
        docs = load_docs(con, version_ids)
        prev_ids = dict(con.execute(
            "SELECT c.version_id, p.version_id FROM versions c JOIN versions p ON p.url = c.url "
            "AND p.valid_from <= ?::TIMESTAMPTZ AND (p.valid_to IS NULL OR p.valid_to > ?::TIMESTAMPTZ) "
            "WHERE c.version_id IN (SELECT unnest(?::VARCHAR[]))", [day_before, day_before, version_ids]).fetchall())
        prev = load_docs(con, sorted(set(prev_ids.values())))
        latest = latest_fact_changes(con, official_urls)
    return docs, prev_ids, prev, latest


def latest_fact_changes(con: Any, urls: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Fact changes of each URL's most recent content change (with the program id of each)."""
    rows = con.execute(
        """
        SELECT d.url, c.program, c.program_id, c.kind, c.qualifier, c.change, c.before, c.after, c.before_text,
               c.after_text, d.detected_at, d.before_version_id, d.after_version_id
        FROM fact_changes c JOIN version_diffs d USING (after_version_id)
        WHERE d.url IN (SELECT unnest(?::VARCHAR[])) AND d.after_version_id = (
            SELECT l.after_version_id FROM version_diffs l WHERE l.url = d.url AND l.change_class = 'content'
            ORDER BY l.detected_at DESC LIMIT 1)
        ORDER BY d.url, c.seq
        """,
        [urls],
    ).fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    for url, program, program_id, kind, qual, change, before, after, btext, atext, when, bvid, avid in rows:
        out.setdefault(url, []).append({
            "url": url, "program": program, "program_id": program_id, "kind": kind, "qualifier": qual,
            "change": change,
            "before": json.loads(before) if before else None, "after": json.loads(after) if after else None,
            "before_text": btext, "after_text": atext, "detected_at": str(when),
            "before_version_id": bvid, "after_version_id": avid})
    return out


def cross_inputs(db: Warehouse | Path) -> tuple[list[tuple], list[tuple], dict[str, list[dict[str, Any]]]]:
    """Secondary facts, the current official facts of the same municipalities, and the latest
    fact changes of those official pages; facts with their program id."""
    with connect(db) as con:
        secondary = con.execute(
            "SELECT municipality, source_id, origin, program, program_id, kind, qualifier, value, text "
            "FROM secondary_facts").fetchall()
        if not secondary:
            return [], [], {}
        munis = sorted({r[0] for r in secondary})
        official = con.execute(
            "SELECT municipality, url, program, program_id, kind, qualifier, value, text, start_offset, end_offset "
            "FROM current_facts WHERE source_kind = 'official' AND municipality IN (SELECT unnest(?::VARCHAR[]))",
            [munis]).fetchall()
        changes = latest_fact_changes(con, sorted({r[1] for r in official}))
    return secondary, official, changes


def dataset_pages(db: Warehouse | Path) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Per current imported dataset: (its file path, its source id, its facts as fact dicts with
    ``program_id``, ``record_id``, ``municipality`` and ``field``), in dataset order."""
    with connect(db) as con:
        rows = con.execute(
            """
            SELECT d.path, d.source_id, f.record_id, f.municipality, f.program, f.program_id, f.kind, f.qualifier,
                   f.value, f.text, f.field
            FROM dataset_facts f JOIN datasets d USING (dataset_id)
            WHERE d.valid_to IS NULL ORDER BY d.path, d.source_id, f.seq
            """).fetchall()
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for path, sid, rid, muni, program, program_id, kind, qual, value, text, fld in rows:
        out.setdefault((path, sid), []).append({
            "kind": kind, "value": json.loads(value) if value is not None else None, "qualifier": qual,
            "program": program, "program_id": program_id, "text": text, "record_id": rid, "municipality": muni,
            "field": fld})
    return [(path, sid, facts) for (path, sid), facts in out.items()]


def dataset_paths(db: Warehouse | Path) -> set[str]:
    """The file path of every imported dataset version, current or replaced (the ``url`` of its flags)."""
    with connect(db) as con:
        return {r[0] for r in con.execute("SELECT DISTINCT path FROM datasets").fetchall()}


def fetch_inputs(db: Warehouse | Path) -> list[tuple]:
    """Per fetched URL: (url, latest status, referer, source_id, fetched_at, had_content, current response class)."""
    with connect(db) as con:
        return con.execute(
            """
            WITH latest AS (
                SELECT url, arg_max(status, fetched_at) AS status, arg_max(referer, fetched_at) AS referer,
                       arg_max(source_id, fetched_at) AS source_id, max(fetched_at) AS at
                FROM fetches WHERE status IS NOT NULL GROUP BY url
            )
            SELECT l.url, l.status, l.referer, l.source_id, l.at,
                   EXISTS (SELECT 1 FROM versions v WHERE v.url = l.url) AS had_content,
                   (SELECT d.response_class FROM version_diffs d JOIN versions v ON v.version_id = d.after_version_id
                    WHERE v.url = l.url AND v.valid_to IS NULL) AS current_class
            FROM latest l
            """).fetchall()


def source_runs(db: Warehouse | Path, limit: int = 10) -> list[tuple]:
    """Per registry source: (source_id, municipality, first start URL, [(run_id, started_at, failed, reason)] newest
    first) over its latest ``limit`` finished crawls. A crawl failed when none of the source's start pages
    (depth 0) was fetched — the same test as the report's crawl health."""
    with connect(db) as con:
        rows = con.execute(
            """
            WITH r AS (SELECT run_id, started_at, unnest(source_ids) AS source_id FROM runs WHERE status <> 'running'),
                 ranked AS (SELECT *, row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC) AS n FROM r),
                 per AS (
                    SELECT k.source_id, k.run_id, k.started_at,
                           count(*) FILTER (f.depth = 0 AND f.outcome <> 'error') AS start_ok,
                           arg_max(f.error, f.fetched_at) FILTER (f.outcome = 'error') AS reason
                    FROM ranked k LEFT JOIN fetches f ON f.run_id = k.run_id AND f.source_id = k.source_id
                    WHERE k.n <= ? GROUP BY ALL)
            SELECT p.source_id, s.municipality, s.start_urls[1],
                   list((p.run_id, p.started_at, p.start_ok = 0, p.reason) ORDER BY p.started_at DESC)
            FROM per p JOIN sources s USING (source_id) GROUP BY ALL ORDER BY p.source_id
            """, [limit]).fetchall()
    return [(sid, muni, url, [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in runs])
            for sid, muni, url, runs in rows]


def apply(db: Warehouse | Path, findings: list[dict[str, Any]], keep_open: set[str]) -> tuple[int, int]:
    """Open new flags, refresh open ones, close open ones no finding reports any more — except
    those in ``keep_open`` (flag ids outside the evaluated scope). Set-based; returns (opened, closed)."""
    by_id = {flag_id(f["key"]): f for f in findings}
    with transaction(db) as con:
        existing = {r[0]: r[1:] for r in con.execute("SELECT flag_id, rule, url, closed_at FROM flag_records").fetchall()}
        new = [fid for fid in by_id if fid not in existing]
        seen = [fid for fid in by_id if fid in existing]
        reopened = sum(existing[fid][2] is not None for fid in seen)
        gone = [fid for fid, (_rule, _url, closed_at) in existing.items()
                if closed_at is None and fid not in by_id and fid not in keep_open]
        now = con.execute("SELECT now()").fetchone()[0]
        insert_rows(con, "flag_records", FLAG_COLUMNS, [
            [fid, f["rule"], f["severity"], f["source_id"], f["url"], f["program"], f["kind"],
             json.dumps(f["evidence"], ensure_ascii=False, default=str), now, now, None, None, f.get("program_id")]
            for fid, f in ((fid, by_id[fid]) for fid in new)])
        if seen:
            con.execute(
                "UPDATE flag_records SET last_seen = $1, closed_at = NULL, close_reason = NULL, evidence = u.evidence, "
                "severity = u.severity, program_id = u.program_id FROM (SELECT unnest($2::VARCHAR[]) AS id, "
                "unnest($3::JSON[]) AS evidence, unnest($4::VARCHAR[]) AS severity, unnest($5::VARCHAR[]) AS program_id) u "
                "WHERE flag_id = u.id",
                [now, seen, [json.dumps(by_id[f]["evidence"], ensure_ascii=False, default=str) for f in seen],
                 [by_id[f]["severity"] for f in seen], [by_id[f].get("program_id") for f in seen]])
        if gone:
            con.execute("UPDATE flag_records SET closed_at = $1, close_reason = 'cause disappeared' "
                        "WHERE flag_id IN (SELECT unnest($2::VARCHAR[]))", [now, gone])
    return len(new) + reopened, len(gone)


def open_flags(db: Warehouse | Path) -> list[tuple[str, str, str | None]]:
    """(flag_id, rule, url) of every open flag."""
    with connect(db) as con:
        return con.execute("SELECT flag_id, rule, url FROM flag_records WHERE closed_at IS NULL").fetchall()


def record_evaluation(db: Warehouse | Path, today: date, scope: str, checked: int, opened: int, closed: int) -> None:
    with transaction(db) as con:
        con.execute("INSERT INTO flag_evaluations VALUES (now(), ?, ?, ?, ?, ?)", [today, scope, checked, opened, closed])
