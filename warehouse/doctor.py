"""Integrity check of a warehouse (`wardwatch doctor`): a list of problems, empty when healthy.

Checks what a crash, a full disk or two concurrent writers could break:

* every version's blob is there, and every blob's bytes still hash to its key;
* each URL has at most one current version, and its validity intervals neither overlap
  nor run backwards; no two consecutive versions of a URL have the same content (a
  duplicate from a replayed load);
* every version's first fetch exists; every successful fetch points to a stored blob;
* every fact points to an extraction and to a version; every fact change / version diff
  points to a version.

Read-only, one short connection (waits while a crawl holds the write lock).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import Warehouse, WarehouseError, connect, staging_dir

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


def check(db_path: str | Path, *, timeout: float | None = None) -> Report:
    """Run every check; raises WarehouseError only when the file cannot be opened at all."""
    db_path = Warehouse.of(db_path)
    if not db_path.exists():
        raise WarehouseError(f"{db_path}: no warehouse here")
    problems: list[Problem] = []
    notes: list[str] = []
    totals: dict[str, int] = {}
    with connect(db_path, read_only=True, timeout=timeout) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            problems.append(Problem("schema", "tables missing (not a wardwatch warehouse, or not migrated)",
                                    len(missing), missing))
        for name in ("blobs", "fetches", "versions", "extractions", "facts"):
            if name in tables:
                totals[name] = _scalar(con, f"SELECT count(*) FROM {name}")
        for name, message, sql, needs in CHECKS:
            if not all(t in tables for t in needs):
                continue
            try:
                rows = con.execute(sql).fetchall()
            except duckdb.Error as exc:  # a corrupt block, an unreadable column...
                problems.append(Problem(name, f"check failed: {_first_line(exc)}", 1, []))
                continue
            if rows:
                problems.append(Problem(name, message, len(rows), [str(r[0]) for r in rows[:EXAMPLES]]))
        if "runs" in tables:
            running = _scalar(con, "SELECT count(*) FROM runs WHERE status = 'running'")
            if running:
                notes.append(f"{running} run(s) marked running (in progress, or killed: the next crawl marks "
                             "them interrupted)")
    staged = len(list(staging_dir(db_path).glob("*.json"))) if staging_dir(db_path).is_dir() else 0
    if staged:
        notes.append(f"{staged} staged capture(s) waiting in {staging_dir(db_path)} (loaded by the next crawl)")
    return Report(str(db_path), problems, notes, totals)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchone()[0])


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
