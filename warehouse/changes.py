"""Version diffs and fact changes: which versions are undiffed, the stored versions with their
extraction as the diff functions need them, each version's baseline, and storing a batch of
results. The diffing is the changes stage's (``wardwatch/stages/changes.py``).

A version's baseline is the newest earlier version of the same URL whose response was "ok" —
error pages, soft-404s, empty and blocked responses are recorded but never become a baseline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse.db import Warehouse, connect, insert_rows, transaction

BATCH = 2000

@dataclass
class Doc:
    """A stored version with its extraction, as the diff functions need it."""

    version_id: str
    url: str
    source_id: str
    sha256: str
    valid_from: Any
    requested_url: str | None
    run_id: str | None
    title: str | None
    main_text: str
    extractor_version: str | None
    facts: list[dict[str, Any]]


def undiffed(db_path: Warehouse | Path, source_id: str | None) -> list[str]:
    with connect(db_path) as con:
        return [r[0] for r in con.execute(
            """
            SELECT v.version_id FROM versions v
            WHERE EXISTS (SELECT 1 FROM extractions e WHERE e.sha256 = v.sha256)
              AND NOT EXISTS (SELECT 1 FROM version_diffs d WHERE d.after_version_id = v.version_id)
              AND (? IS NULL OR v.source_id = ?)
            ORDER BY v.valid_from LIMIT ?
            """,
            [source_id, source_id, BATCH],
        ).fetchall()]


def load_docs(con: Any, version_ids: list[str]) -> dict[str, Doc]:
    """Versions with main text and facts (newest extraction), by version id."""
    if not version_ids:
        return {}
    # extractions are filtered by hash before picking the newest (the view would scan them all)
    picked = """
        WITH v AS (SELECT * FROM versions WHERE version_id IN (SELECT unnest(?::VARCHAR[]))),
        e AS (SELECT * FROM extractions WHERE sha256 IN (SELECT sha256 FROM v)
              QUALIFY row_number() OVER (PARTITION BY sha256 ORDER BY extracted_at DESC) = 1)
    """
    rows = con.execute(
        picked + """
        SELECT v.version_id, v.url, v.source_id, v.sha256, v.valid_from, f.requested_url, f.run_id,
               e.title, coalesce(e.main_text, ''), e.extractor_version
        FROM v
        LEFT JOIN fetches f ON f.fetch_id = v.first_fetch_id
        LEFT JOIN e ON e.sha256 = v.sha256
        """,
        [version_ids],
    ).fetchall()
    docs = {r[0]: Doc(*r, facts=[]) for r in rows}
    facts = con.execute(
        picked + """
        SELECT v.version_id, f.kind, f.value, f.text, f.start_offset, f.end_offset, f.qualifier, f.program, f.page, f.extra,
               f.program_id, f.heading_path
        FROM v JOIN e ON e.sha256 = v.sha256
        JOIN facts f ON f.sha256 = e.sha256 AND f.extractor_version = e.extractor_version
        ORDER BY v.version_id, f.seq
        """,
        [version_ids],
    ).fetchall()
    for vid, kind, value, text, start, end, qual, program, page, extra, program_id, heading_path in facts:
        fact = {"kind": kind, "value": json.loads(value) if value is not None else None, "text": text, "start": start,
                "end": end, "qualifier": qual, "program": program, "page": page}
        if extra:
            fact.update(json.loads(extra))
        fact["program_id"] = program_id
        fact["heading_path"] = list(heading_path or [])
        docs[vid].facts.append(fact)
    return docs


def baselines(con: Any, docs: list[Doc]) -> dict[str, str]:
    """For each doc, the newest earlier version of its URL that was an "ok" response."""
    rows = con.execute(
        """
        SELECT v.version_id, (
            SELECT d.after_version_id FROM version_diffs d JOIN versions p ON p.version_id = d.after_version_id
            WHERE d.url = v.url AND d.response_class = 'ok' AND p.valid_from < v.valid_from
            ORDER BY p.valid_from DESC LIMIT 1)
        FROM versions v WHERE v.version_id IN (SELECT unnest(?::VARCHAR[]))
        """,
        [[d.version_id for d in docs]],
    ).fetchall()
    return {r[0]: r[1] for r in rows if r[1]}


def docs_with_baselines(db: Warehouse | Path, version_ids: list[str]) -> tuple[dict[str, Doc], dict[str, str], dict[str, Doc]]:
    """The versions, the id of each one's baseline, and the baseline versions (one connection)."""
    with connect(db) as con:
        docs = load_docs(con, version_ids)
        base_ids = baselines(con, sorted(docs.values(), key=lambda d: d.valid_from))
        bases = load_docs(con, sorted(set(base_ids.values())))
    return docs, base_ids, bases


def store_diffs(db: Warehouse | Path, rows: list[dict[str, Any]], fact_rows: list[dict[str, Any]]) -> None:
    """One batch of version_diffs and fact_changes rows, in one transaction."""
    with transaction(db) as con:
        _insert_rows(con, "version_diffs", rows)
        _insert_rows(con, "fact_changes", fact_rows)


def _insert_rows(con: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    if table == "version_diffs":
        cols.append("computed_at")
        rows = [{**r, "computed_at": _now()} for r in rows]
    insert_rows(con, table, cols, [[r[c] for c in cols] for r in rows])


def _now() -> str:
    return datetime.now(UTC).isoformat()
