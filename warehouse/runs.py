"""The ``runs`` and ``sources`` tables: one row per crawl run, a snapshot of the registry."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from warehouse.db import transaction
from warehouse.load import LoadCounts


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a short random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def upsert_sources(db_path: str | Path, rows: list[dict]) -> None:
    with transaction(db_path) as con:
        for r in rows:
            con.execute("DELETE FROM sources WHERE source_id = ?", [r["source_id"]])
            con.execute(
                "INSERT INTO sources (source_id, municipality, code, kind, name, start_urls, allowed_domains, schedule, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
                [r["source_id"], r["municipality"], r["code"], r["kind"], r["name"], r["start_urls"], r["allowed_domains"], r["schedule"]],
            )


def start_run(db_path: str | Path, run_id: str, source_ids: list[str]) -> None:
    with transaction(db_path) as con:
        con.execute(
            "INSERT INTO runs (run_id, started_at, status, source_ids) VALUES (?, now(), 'running', ?)",
            [run_id, source_ids],
        )


def finish_run(db_path: str | Path, run_id: str, counts: LoadCounts, status: str, message: str | None = None) -> None:
    """Record a run's totals, counted from its fetch rows (so resumed loads are included)."""
    with transaction(db_path) as con:
        con.execute(
            """
            UPDATE runs SET finished_at = now(), status = ?, message = ?,
              fetched = (SELECT count(*) FROM fetches f WHERE f.run_id = runs.run_id),
              new_versions = (SELECT count(*) FROM fetches f WHERE f.run_id = runs.run_id AND outcome = 'new_version'),
              unchanged = (SELECT count(*) FROM fetches f WHERE f.run_id = runs.run_id AND outcome = 'unchanged'),
              not_modified = (SELECT count(*) FROM fetches f WHERE f.run_id = runs.run_id AND outcome = 'not_modified'),
              errors = (SELECT count(*) FROM fetches f WHERE f.run_id = runs.run_id AND outcome = 'error'),
              error_kinds = ?
            WHERE run_id = ?
            """,
            [status, message, json.dumps(dict(counts.error_kinds)), run_id],
        )


def run_lock_name(run_id: str) -> str:
    return f"run-{run_id}"


def close_abandoned_runs(db_path: str | Path) -> int:
    """Mark runs left 'running' by a killed process as 'interrupted'.

    A live crawl holds its run's lock (``warehouse.locks``); only runs whose lock is free are closed.
    """
    from warehouse.locks import is_held, lock_path

    with transaction(db_path) as con:
        running = [r[0] for r in con.execute("SELECT run_id FROM runs WHERE status = 'running'").fetchall()]
        dead = [r for r in running if not is_held(db_path, run_lock_name(r))]
        if dead:
            con.execute("UPDATE runs SET status = 'interrupted', finished_at = now() "
                        "WHERE run_id IN (SELECT unnest(?::VARCHAR[]))", [dead])
    for r in dead:
        lock_path(db_path, run_lock_name(r)).unlink(missing_ok=True)
    return len(dead)
