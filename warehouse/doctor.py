"""Integrity check of a warehouse (`wardwatch doctor`): a list of problems, empty when healthy.

Checks what a crash, a full disk or two concurrent writers could break:

* every version's blob is there, and every blob's bytes still hash to its key;
* each URL has at most one current version, and its validity intervals neither overlap
  nor run backwards; no two consecutive versions of a URL have the same content (a
  duplicate from a replayed load);
* every version's first fetch exists and names the version's URL and content; every fetch's run
  exists; every successful fetch points to a stored blob;
* every fact points to an extraction and to a version, its text is still ``main_text[start:end]``
  of that extraction, and its value is valid JSON agreeing with ``value_num``; each extraction's
  ``fact_count`` is the number of its facts; every fact change / version diff points to a version.

On a DuckLake warehouse the bytes are in the blob store: every ``blobs`` row must have its file
there, of the recorded size and matching its hash; and since DuckLake enforces no PRIMARY KEY, every
key the migrations declare is checked for duplicates (what two concurrent writers would break).

Read-only, one short connection (waits while a crawl holds the write lock; a lake's readers never wait).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse import staging
from warehouse.blobs import check_store
from warehouse.db import Warehouse, WarehouseError, connect, staging_dir
from warehouse.schema import declared_keys

EXAMPLES = 5


@dataclass
class Problem:
    check: str
    message: str
    count: int
    examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    db: str
    problems: list[Problem]
    notes: list[str]
    totals: dict[str, int]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"db": self.db, "healthy": self.healthy, "problems": [p.to_json() for p in self.problems],
                "notes": self.notes, "totals": self.totals}


# (check name, message, SQL returning one example string per offending row, tables it needs)
CHECKS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("version_blob", "versions whose blob is missing",
     "SELECT v.url || ' (' || v.sha256 || ')' FROM versions v LEFT JOIN blobs b USING (sha256) WHERE b.sha256 IS NULL",
     ("versions", "blobs")),
    ("blob_hash", "blobs whose bytes do not match their hash or size",
     "SELECT sha256 FROM blobs WHERE sha256(data) <> sha256 OR octet_length(data) <> size", ("blobs",)),
    ("current_versions", "URLs with more than one current version",
     "SELECT url || ' (' || count(*) || ' current)' FROM versions WHERE valid_to IS NULL GROUP BY url HAVING count(*) > 1",
     ("versions",)),
    ("interval_order", "versions whose validity ends before it starts",
     "SELECT url || ' ' || version_id FROM versions WHERE valid_to IS NOT NULL AND valid_to < valid_from", ("versions",)),
    ("interval_overlap", "versions whose validity overlaps the next version of the same URL",
     """SELECT url || ' ' || version_id || ' overlaps ' || next_id FROM (
            SELECT url, version_id, valid_to,
                   lead(version_id) OVER w AS next_id, lead(valid_from) OVER w AS next_from
            FROM versions WINDOW w AS (PARTITION BY url ORDER BY valid_from, version_id))
        WHERE next_id IS NOT NULL AND (valid_to IS NULL OR valid_to > next_from)""", ("versions",)),
    ("duplicate_versions", "consecutive versions of a URL with the same content",
     """SELECT url || ' ' || version_id FROM (
            SELECT url, version_id, sha256, lag(sha256) OVER (PARTITION BY url ORDER BY valid_from, version_id) AS prev
            FROM versions) WHERE prev = sha256""", ("versions",)),
    ("version_fetch", "versions whose first fetch is missing",
     "SELECT v.url || ' ' || v.version_id FROM versions v LEFT JOIN fetches f ON f.fetch_id = v.first_fetch_id "
     "WHERE f.fetch_id IS NULL", ("versions", "fetches")),
    ("version_fetch_mismatch", "versions whose URL or content differs from their first fetch's",
     "SELECT v.url || ' ' || v.version_id || ' (first fetch ' || f.fetch_id || ': ' || "
     "CASE WHEN f.url IS DISTINCT FROM v.url THEN f.url ELSE 'content ' || coalesce(f.sha256, 'none') END || ')' "
     "FROM versions v JOIN fetches f ON f.fetch_id = v.first_fetch_id "
     "WHERE f.url IS DISTINCT FROM v.url OR f.sha256 IS DISTINCT FROM v.sha256 ORDER BY v.url, v.version_id",
     ("versions", "fetches")),
    ("fetch_run", "fetches whose run is missing",
     "SELECT f.run_id || ' (' || count(*) || ' fetches, e.g. ' || min(f.url) || ')' FROM fetches f "
     "LEFT JOIN runs r USING (run_id) WHERE r.run_id IS NULL GROUP BY f.run_id ORDER BY f.run_id", ("fetches", "runs")),
    ("fetch_blob", "successful fetches whose content is not stored",
     "SELECT f.url || ' ' || f.fetch_id FROM fetches f LEFT JOIN blobs b USING (sha256) "
     "WHERE f.outcome IN ('new_version', 'unchanged') AND (f.sha256 IS NULL OR b.sha256 IS NULL)", ("fetches", "blobs")),
    ("fact_extraction", "facts without their extraction row",
     "SELECT DISTINCT f.sha256 || ' ' || f.extractor_version FROM facts f LEFT JOIN extractions e "
     "USING (sha256, extractor_version) WHERE e.sha256 IS NULL", ("facts", "extractions")),
    ("fact_version", "facts whose content belongs to no version",
     "SELECT DISTINCT f.sha256 FROM facts f LEFT JOIN (SELECT DISTINCT sha256 FROM versions) v USING (sha256) "
     "WHERE v.sha256 IS NULL", ("facts", "versions")),
    ("extraction_version", "extractions whose content belongs to no version",
     "SELECT DISTINCT e.sha256 FROM extractions e LEFT JOIN (SELECT DISTINCT sha256 FROM versions) v USING (sha256) "
     "WHERE v.sha256 IS NULL", ("extractions", "versions")),
    ("fact_text", "facts whose text or offsets no longer match their extraction's main text",
     "SELECT f.sha256 || ' ' || f.extractor_version || ' #' || f.seq || ' ' || f.kind || ' ' || "
     "CASE WHEN e.main_text IS NULL THEN 'no main text' "
     "WHEN f.start_offset < 0 OR f.end_offset <= f.start_offset OR f.end_offset > length(e.main_text) "
     "THEN 'offsets ' || f.start_offset || '-' || f.end_offset || ' outside 0-' || length(e.main_text) "
     "ELSE '\"' || left(f.text, 40) || '\" is not \"' || "
     "left(substring(e.main_text, f.start_offset + 1, f.end_offset - f.start_offset), 40) || '\"' END "
     "FROM facts f JOIN extractions e USING (sha256, extractor_version) "
     "WHERE e.main_text IS NULL OR f.start_offset < 0 OR f.end_offset <= f.start_offset "
     "OR f.end_offset > length(e.main_text) "
     "OR f.text IS DISTINCT FROM substring(e.main_text, f.start_offset + 1, f.end_offset - f.start_offset) "
     "ORDER BY f.sha256, f.extractor_version, f.seq", ("facts", "extractions")),
    ("fact_value", "facts without a value, or whose value disagrees with its number",
     "SELECT f.sha256 || ' ' || f.extractor_version || ' #' || f.seq || ' ' || f.kind || ' value ' || "
     "coalesce(left(f.value, 40), 'NULL') || ' number ' || coalesce(CAST(f.value_num AS VARCHAR), 'NULL') "
     "FROM facts f WHERE f.value IS NULL "
     "OR f.value_num IS DISTINCT FROM (CASE WHEN json_type(f.value) IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
     "THEN TRY_CAST(f.value AS DOUBLE) END) "
     "ORDER BY f.sha256, f.extractor_version, f.seq", ("facts",)),
    ("extraction_fact_count", "extractions whose fact count differs from the facts stored for them",
     "SELECT e.sha256 || ' ' || e.extractor_version || ' (' || e.fact_count || ' recorded, ' || count(f.seq) "
     "|| ' stored)' FROM extractions e LEFT JOIN facts f USING (sha256, extractor_version) "
     "GROUP BY e.sha256, e.extractor_version, e.fact_count HAVING count(f.seq) <> e.fact_count", ("extractions", "facts")),
    ("fact_change_version", "fact changes whose version is missing",
     "SELECT DISTINCT c.after_version_id FROM fact_changes c LEFT JOIN versions v ON v.version_id = c.after_version_id "
     "WHERE v.version_id IS NULL", ("fact_changes", "versions")),
    ("version_diff_version", "version diffs pointing to a missing version",
     "SELECT d.after_version_id FROM version_diffs d "
     "LEFT JOIN versions a ON a.version_id = d.after_version_id "
     "LEFT JOIN versions b ON b.version_id = d.before_version_id "
     "WHERE a.version_id IS NULL OR (d.before_version_id IS NOT NULL AND b.version_id IS NULL)",
     ("version_diffs", "versions")),
]

REQUIRED_TABLES = ("blobs", "fetches", "versions", "runs", "sources")
LAKE_SKIPPED = {"blob_hash"}  # the bytes are not in the table: check_store checks them


def key_checks() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """One check per declared PRIMARY KEY / UNIQUE key: no two rows share it (a lake enforces none)."""
    out = []
    for table, keys in sorted(declared_keys().items()):
        for cols in keys:
            quoted = [f'"{c}"' for c in cols]
            key = " || ' ' || ".join(f"coalesce(CAST({q} AS VARCHAR), 'NULL')" for q in quoted)
            out.append((f"duplicate_key_{table}", f"rows of {table} sharing the key ({', '.join(cols)})",
                        f"SELECT {key} || ' (' || count(*) || ' rows)' FROM {table} "
                        f"GROUP BY {', '.join(quoted)} HAVING count(*) > 1 ORDER BY 1", (table,)))
    return out


def check(db_path: str | Path, *, timeout: float | None = None) -> Report:
    """Run every check; raises WarehouseError only when the file cannot be opened at all."""
    db_path = Warehouse.of(db_path)
    if not db_path.exists():
        raise WarehouseError(f"{db_path}: no warehouse here")
    problems: list[Problem] = []
    notes: list[str] = []
    totals: dict[str, int] = {}
    lake = db_path.lake is not None
    with connect(db_path, read_only=True, timeout=timeout) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_catalog = current_database()").fetchall()}
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            problems.append(Problem("schema", "tables missing (not a wardwatch warehouse, or not migrated)",
                                    len(missing), missing))
        for name in ("blobs", "fetches", "versions", "extractions", "facts"):
            if name in tables:
                totals[name] = _scalar(con, f"SELECT count(*) FROM {name}")
        checks = [c for c in CHECKS if c[0] not in LAKE_SKIPPED] + key_checks() if lake else CHECKS
        for name, message, sql, needs in checks:
            if not all(t in tables for t in needs):
                continue
            try:
                rows = con.execute(sql).fetchall()
            except duckdb.Error as exc:  # a corrupt block, an unreadable column...
                problems.append(Problem(name, f"check failed: {_first_line(exc)}", 1, []))
                continue
            if rows:
                problems.append(Problem(name, message, len(rows), [str(r[0]) for r in rows[:EXAMPLES]]))
        if lake and "blobs" in tables:
            checked, bad = check_store(con)
            totals["stored_blobs"] = checked
            if bad:
                problems.append(Problem("blob_store", "blobs missing from the blob store, or whose bytes do not "
                                        "match their hash or size", len(bad), bad[:EXAMPLES]))
        if "runs" in tables:
            running = _scalar(con, "SELECT count(*) FROM runs WHERE status = 'running'")
            if running:
                notes.append(f"{running} run(s) marked running (in progress, or killed: the next crawl marks "
                             "them interrupted)")
    folder = staging_dir(db_path)
    staged = len(list(folder.glob("*.json"))) if folder.is_dir() else 0
    if staged:
        notes.append(f"{staged} staged capture(s) waiting in {folder} (loaded by the next crawl)")
    left = len(staging.orphans(folder)) if folder.is_dir() else 0
    if left:
        notes.append(f"{left} orphan file(s) of interrupted writes in {folder} (removed by the next crawl)")
    return Report(str(db_path), problems, notes, totals)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchone()[0])


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
