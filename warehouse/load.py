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
from warehouse.db import WarehouseError, insert_rows, store_blobs, transaction

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

    def merge(self, other: LoadCounts) -> None:
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
        chunk, captures = [], []
        for p in paths[i : i + batch]:
            try:
                captures.append(staging.read(p))
                chunk.append(p)
            except FileNotFoundError:  # another process loaded (and removed) it meanwhile
                continue
        if not captures:
            continue
        try:
            with transaction(db_path) as con:
                counts.merge(_load_batch(con, captures))
        except (duckdb.Error, WarehouseError) as exc:  # disk full, read-only, locked: the batch is rolled back
            left = len(staging.pending(folder))
            reason = str(exc) if isinstance(exc, WarehouseError) else f"{db_path}: cannot store captures: {_first_line(exc)}"
            raise WarehouseError(f"{reason} ({left} capture(s) stay staged in {folder} for the next run)") from None
        for p in chunk:  # only after the commit: a crash before this re-loads idempotently
            staging.remove(p)
    return counts


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _outcome(cap: staging.Capture) -> str:
    if cap.not_modified:
        return "not_modified"
    if cap.error_kind or cap.status is None or cap.body is None or not (200 <= cap.status < 300):
        return "error"
    return "new_version"  # may become "unchanged" below


def _in(con: duckdb.DuckDBPyConnection, sql: str, values: list[str]) -> list[tuple]:
    """Run ``sql`` with ``?`` standing for a list of values (unnest of a list parameter)."""
    return con.execute(sql.replace("?", "(SELECT unnest(?::VARCHAR[]))"), [values]).fetchall() if values else []


FETCH_COLUMNS = ("fetch_id", "run_id", "source_id", "url", "requested_url", "fetched_at", "status", "etag",
                 "last_modified", "content_type", "media_type", "sha256", "size", "outcome", "error_kind", "error",
                 "depth", "referer", "elapsed_ms")
VERSION_COLUMNS = ("version_id", "url", "source_id", "sha256", "media_type", "charset", "valid_from", "valid_to",
                   "first_fetch_id")
BLOB_COLUMNS = ("sha256", "media_type", "size", "data", "first_seen")


def _load_batch(con: duckdb.DuckDBPyConnection, captures: list[staging.Capture]) -> LoadCounts:
    """Insert a batch of captures in a handful of set-based statements."""
    counts = LoadCounts()
    done = {r[0] for r in _in(con, "SELECT fetch_id FROM fetches WHERE fetch_id IN ?", [c.fetch_id for c in captures])}
    captures = sorted((c for c in captures if c.fetch_id not in done), key=lambda c: c.fetched_at)
    urls = sorted({c.url for c in captures})
    current = {r[0]: (r[1], r[2]) for r in _in(
        con, "SELECT url, version_id, sha256 FROM versions WHERE valid_to IS NULL AND url IN ?", urls)}
    shas = sorted({c.sha256 for c in captures if _outcome(c) == "new_version"})
    stored = {r[0] for r in _in(con, "SELECT sha256 FROM blobs WHERE sha256 IN ?", shas)}
    blobs, versions, closes, fetches = [], [], [], []
    for cap in captures:
        outcome = _outcome(cap)
        sha = cap.sha256 if outcome == "new_version" else None
        cur = current.get(cap.url)
        if outcome == "not_modified":
            sha = cur[1] if cur else None
        if outcome == "new_version":
            if sha not in stored:
                stored.add(sha)
                blobs.append([sha, cap.media_type, len(cap.body), cap.body, cap.fetched_at])
            if cur and cur[1] == sha:
                outcome = "unchanged"
            else:
                if cur:
                    closes.append((cur[0], cap.fetched_at))
                versions.append([cap.fetch_id, cap.url, cap.source_id, sha, cap.media_type, cap.charset,
                                 cap.fetched_at, None, cap.fetch_id])
                current[cap.url] = (cap.fetch_id, sha)
        error_kind = cap.error_kind or ("http" if cap.status else "unknown") if outcome == "error" else None
        fetches.append([cap.fetch_id, cap.run_id, cap.source_id, cap.url, cap.requested_url, cap.fetched_at, cap.status,
                        cap.etag, cap.last_modified, cap.content_type, cap.media_type, sha,
                        len(cap.body) if cap.body is not None and not cap.not_modified else None,
                        outcome, error_kind, cap.error, cap.depth, cap.referer, cap.elapsed_ms])
        counts.add(cap.source_id, outcome, error_kind)
    # a version opened and closed within this batch is closed before it is inserted
    closed_here = {vid: ts for vid, ts in closes}
    for row in versions:
        row[7] = closed_here.pop(row[0], None)
    for version_id, ts in closed_here.items():
        con.execute("UPDATE versions SET valid_to = ?::TIMESTAMPTZ WHERE version_id = ?", [ts, version_id])
    store_blobs(con, blobs)  # the blobs table, or a lake's blob store + the table (warehouse.db.store_blobs)
    insert_rows(con, "versions", VERSION_COLUMNS, versions)
    insert_rows(con, "fetches", FETCH_COLUMNS, fetches)
    return counts
