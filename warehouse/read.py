"""Read-only lookups the crawler needs (validators for conditional GET, stored bodies)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warehouse.db import Warehouse, connect, read_blobs


@dataclass(frozen=True)
class Known:
    """What the warehouse knows about a URL's current version."""

    sha256: str
    etag: str | None
    last_modified: str | None
    media_type: str | None
    charset: str | None


def known_urls(db_path: str | Path, source_id: str) -> dict[str, Known]:
    """Current version + latest validators of every URL of a source."""
    return known_urls_of(db_path, [source_id]).get(source_id, {})


def known_urls_of(db_path: str | Path, source_ids: list[str]) -> dict[str, dict[str, Known]]:
    """:func:`known_urls` of several sources in one query (one connection): source id -> URL -> Known.
    A crawl process serving many sources reads them a batch at a time instead of one connection each."""
    if not source_ids or not Warehouse.of(db_path).exists():
        return {}
    with connect(db_path) as con:
        rows = con.execute(
            """
            SELECT v.source_id, v.url, v.sha256, f.etag, f.last_modified, v.media_type, v.charset
            FROM versions v
            LEFT JOIN (
                SELECT source_id, url,
                       arg_max(etag, fetched_at) FILTER (WHERE etag IS NOT NULL) AS etag,
                       arg_max(last_modified, fetched_at) FILTER (WHERE last_modified IS NOT NULL) AS last_modified
                FROM fetches
                WHERE source_id IN (SELECT unnest(?::VARCHAR[]))
                  AND outcome IN ('new_version', 'unchanged', 'not_modified')
                GROUP BY source_id, url
            ) f ON f.url = v.url AND f.source_id = v.source_id
            WHERE v.source_id IN (SELECT unnest(?::VARCHAR[])) AND v.valid_to IS NULL
            """,
            [list(source_ids), list(source_ids)],
        ).fetchall()
    out: dict[str, dict[str, Known]] = {sid: {} for sid in source_ids}
    for r in rows:
        out[r[0]][r[1]] = Known(*r[2:])
    return out


def stored_html(db_path: str | Path, source_id: str) -> dict[str, bytes]:
    """Current HTML bodies of a source's URLs, by URL (what a 304 stands for)."""
    if not Warehouse.of(db_path).exists():
        return {}
    with connect(db_path) as con:
        rows = con.execute(
            """
            SELECT v.url, v.sha256 FROM versions v
            WHERE v.source_id = ? AND v.valid_to IS NULL
              AND (v.media_type IS NULL OR v.media_type IN ('text/html', 'application/xhtml+xml'))
            """,
            [source_id],
        ).fetchall()
        data = read_blobs(con, [sha for _, sha in rows])  # the blobs table, or a lake's blob store
    return {url: data[sha] for url, sha in rows if sha in data}


def blob(db_path: str | Path, sha256: str) -> bytes | None:
    return Warehouse.of(db_path).blob(sha256)


@dataclass(frozen=True)
class SourceRunSummary:
    source_id: str
    fetched: int
    new_versions: int
    unchanged: int
    not_modified: int
    errors: int
    error_kinds: dict[str, int]
    first_error: str | None

    @property
    def reachable(self) -> bool:
        return self.new_versions + self.unchanged + self.not_modified > 0


def run_summary(db_path: str | Path, run_id: str) -> list[SourceRunSummary]:
    """Per-source outcome counts of one run, from its fetch rows."""
    with connect(db_path) as con:
        rows = con.execute(
            """
            SELECT source_id, count(*),
                   count(*) FILTER (outcome = 'new_version'), count(*) FILTER (outcome = 'unchanged'),
                   count(*) FILTER (outcome = 'not_modified'), count(*) FILTER (outcome = 'error'),
                   list(error_kind) FILTER (outcome = 'error'),
                   min(error) FILTER (outcome = 'error' AND error_kind <> 'robots')
            FROM fetches WHERE run_id = ? GROUP BY source_id ORDER BY source_id
            """,
            [run_id],
        ).fetchall()
    out = []
    for sid, n, new, same, nm, err, kinds, first in rows:
        counts: dict[str, int] = {}
        for k in kinds or []:
            counts[k] = counts.get(k, 0) + 1
        out.append(SourceRunSummary(sid, n, new, same, nm, err, counts, first))
    return out


@dataclass(frozen=True)
class VersionPair:
    url: str
    source_id: str
    before_sha256: str | None
    after_sha256: str
    media_type: str | None
    charset: str | None
    valid_from: object


def versions_in_run(db_path: str | Path, run_id: str) -> list[VersionPair]:
    """Versions first seen in a run, each with the version it replaced (None if new)."""
    with connect(db_path) as con:
        rows = con.execute(
            """
            SELECT v.url, v.source_id, p.sha256, v.sha256, v.media_type, v.charset, v.valid_from
            FROM versions v
            JOIN fetches f ON f.fetch_id = v.first_fetch_id
            LEFT JOIN versions p ON p.url = v.url AND p.valid_to = v.valid_from
            WHERE f.run_id = ?
            ORDER BY v.source_id, v.url
            """,
            [run_id],
        ).fetchall()
    return [VersionPair(*r) for r in rows]


def earliest_run(db_path: str | Path, run_ids: list[str]) -> str | None:
    """The run among ``run_ids`` that started first (run ids sort by second only)."""
    if not run_ids:
        return None
    with connect(db_path, read_only=True) as con:
        row = con.execute("SELECT run_id FROM runs WHERE run_id IN (SELECT unnest(?::VARCHAR[])) "
                          "ORDER BY started_at, run_id LIMIT 1", [run_ids]).fetchone()
    return row[0] if row else None
