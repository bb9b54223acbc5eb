"""Loading staged captures into blobs / fetches / versions (SCD2 validity intervals).

A capture becomes one ``fetches`` row. A 200 response's bytes go to ``blobs`` once per
content hash, and a ``versions`` row is added only when the hash differs from the URL's
current version (the previous row's ``valid_to`` is closed at the same instant).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse import staging
from warehouse.db import transaction

BATCH = 200


@dataclass
class LoadCounts:
    fetched: int = 0
    new_versions: int = 0
    unchanged: int = 0
    not_modified: int = 0
    errors: int = 0
    error_kinds: Counter = field(default_factory=Counter)
    by_source: dict[str, Counter] = field(default_factory=dict)

    def add(self, source_id: str, outcome: str, error_kind: str | None) -> None:
        self.fetched += 1
        setattr(self, _FIELD[outcome], getattr(self, _FIELD[outcome]) + 1)
        if outcome == "error":
            self.error_kinds[error_kind or "unknown"] += 1
        per = self.by_source.setdefault(source_id, Counter())
        per[outcome] += 1
        if outcome == "error":
            per["error:" + (error_kind or "unknown")] += 1

    def merge(self, other: "LoadCounts") -> None:
        for name in ("fetched", "new_versions", "unchanged", "not_modified", "errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.error_kinds.update(other.error_kinds)
        for sid, c in other.by_source.items():
            self.by_source.setdefault(sid, Counter()).update(c)


_FIELD = {"new_version": "new_versions", "unchanged": "unchanged", "not_modified": "not_modified", "error": "errors"}


def load_pending(db_path: str | Path, folder: Path, *, batch: int = BATCH) -> LoadCounts:
    """Load every staged capture in ``folder``, ``batch`` per transaction."""
    counts = LoadCounts()
    paths = staging.pending(folder)
    for i in range(0, len(paths), batch):
        chunk = paths[i : i + batch]
        captures = [staging.read(p) for p in chunk]
        with transaction(db_path) as con:
            part = LoadCounts()
            for cap in captures:
                outcome = _load_one(con, cap)
                if outcome is not None:
                    part.add(cap.source_id, outcome, cap.error_kind)
        counts.merge(part)
        for p in chunk:  # only after the commit: a crash before this re-loads idempotently
            staging.remove(p)
    return counts


def _outcome(cap: staging.Capture) -> str:
    if cap.not_modified:
        return "not_modified"
    if cap.error_kind or cap.status is None or cap.body is None or not (200 <= cap.status < 300):
        return "error"
    return "new_version"  # may become "unchanged" below


def _load_one(con: duckdb.DuckDBPyConnection, cap: staging.Capture) -> str | None:
    """Insert one capture; returns its outcome, or None if it was already loaded."""
    if con.execute("SELECT 1 FROM fetches WHERE fetch_id = ?", [cap.fetch_id]).fetchone():
        return None
    outcome = _outcome(cap)
    sha = cap.sha256 if outcome == "new_version" else None
    current = con.execute(
        "SELECT version_id, sha256 FROM versions WHERE url = ? AND valid_to IS NULL", [cap.url]
    ).fetchone()
    if outcome == "not_modified":
        sha = current[1] if current else None
    error_kind = cap.error_kind
    if outcome == "error" and not error_kind:
        error_kind = "http" if cap.status else "unknown"
    if outcome == "new_version":
        con.execute(
            "INSERT INTO blobs (sha256, media_type, size, data, first_seen) "
            "SELECT ?, ?, ?, ?, ?::TIMESTAMPTZ WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?)",
            [sha, cap.media_type, len(cap.body), cap.body, cap.fetched_at, sha],
        )
        if current and current[1] == sha:
            outcome = "unchanged"
        else:
            if current:
                con.execute("UPDATE versions SET valid_to = ?::TIMESTAMPTZ WHERE version_id = ?", [cap.fetched_at, current[0]])
            con.execute(
                "INSERT INTO versions (version_id, url, source_id, sha256, media_type, charset, valid_from, valid_to, first_fetch_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?::TIMESTAMPTZ, NULL, ?)",
                [cap.fetch_id, cap.url, cap.source_id, sha, cap.media_type, cap.charset, cap.fetched_at, cap.fetch_id],
            )
    con.execute(
        "INSERT INTO fetches (fetch_id, run_id, source_id, url, requested_url, fetched_at, status, etag, last_modified, "
        "content_type, media_type, sha256, size, outcome, error_kind, error, depth, referer, elapsed_ms) "
        "VALUES (?, ?, ?, ?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            cap.fetch_id, cap.run_id, cap.source_id, cap.url, cap.requested_url, cap.fetched_at, cap.status,
            cap.etag, cap.last_modified, cap.content_type, cap.media_type, sha,
            len(cap.body) if cap.body is not None and not cap.not_modified else None,
            outcome, error_kind if outcome == "error" else None, cap.error, cap.depth, cap.referer, cap.elapsed_ms,
        ],
    )
    return outcome
