"""The ``runs`` and ``sources`` tables: one row per crawl run, a snapshot of the registry."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from warehouse.db import connect, transaction
from warehouse.load import LoadCounts


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a short random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def upsert_sources(db_path: str | Path, rows: list[dict]) -> None:
    with transaction(db_path) as con:
        for r in rows:
            con.execute("DELETE FROM sources WHERE source_id = ?", [r["source_id"]])
            con.execute(
                "INSERT INTO sources (source_id, municipality, code, kind, name, start_urls, allowed_domains, schedule, "
                "switchboard, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                [r["source_id"], r["municipality"], r["code"], r["kind"], r["name"], r["start_urls"], r["allowed_domains"],
                 r["schedule"], r.get("switchboard")],
            )


def start_run(db_path: str | Path, run_id: str, source_ids: list[str]) -> None:
    with transaction(db_path) as con:
        con.execute(
            "INSERT INTO runs (run_id, started_at, status, source_ids) VALUES (?, now(), 'running', ?)",
            [run_id, source_ids],
        )


def finish_run(db_path: str | Path, run_id: str, counts: LoadCounts | None, status: str, message: str | None = None) -> None:
    """Record a run's totals and its errors by kind (``error_kinds``: kind -> count), counted from its
    fetch rows — so captures loaded by another process (a parallel source's load, a resumed load) are
    included, and ``counts`` (what this process loaded last) is not needed for them."""
    with transaction(db_path) as con:
        kinds = dict(con.execute(
            "SELECT coalesce(error_kind, 'unknown') AS kind, count(*) FROM fetches "
            "WHERE run_id = ? AND outcome = 'error' GROUP BY kind ORDER BY count(*) DESC, kind", [run_id]).fetchall())
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
            [status, message, json.dumps({k: int(n) for k, n in kinds.items()}), run_id],
        )


def error_kinds(db_path: str | Path, run_id: str) -> dict[str, int]:
    """A finished run's ``error_kinds`` as a dict (``{}`` for a run without errors or not finished)."""
    with connect(db_path, read_only=True) as con:
        row = con.execute("SELECT error_kinds FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None or row[0] is None:
        return {}
    value = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return {str(k): int(n) for k, n in (value or {}).items()}


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


def left_by_dead_runs(db_path: str | Path, folder: Path) -> list[str]:
    """Fetch ids of the captures staged in ``folder`` by runs that no live process holds (killed or
    interrupted crawls) and not yet in the warehouse: what the next crawl "resumes". Captures of runs
    still going — another source's crawl sharing the folder — are not among them."""
    from warehouse import staging
    from warehouse.locks import is_held

    dead = [fid for run_id, ids in staging.by_run(folder).items() if not is_held(db_path, run_lock_name(run_id))
            for fid in ids]
    if not dead:
        return []
    with transaction(db_path) as con:
        loaded = {r[0] for r in con.execute("SELECT fetch_id FROM fetches WHERE fetch_id IN (SELECT unnest(?::VARCHAR[]))",
                                            [dead]).fetchall()}
    return [fid for fid in dead if fid not in loaded]


def mark_interrupted(db_path: str | Path, run_ids: list[str], message: str, *, only_running: bool = False) -> int:
    """Record runs stopped by a signal as 'interrupted' (with ``message``): runs still 'running', and —
    unless ``only_running`` — runs whose crawl ended 'ok' but whose pipeline (extract, diff) was cut
    short. Failed/partial runs keep their status. Returns how many rows changed."""
    if not run_ids:
        return 0
    statuses = ["running"] if only_running else ["running", "ok"]
    with transaction(db_path) as con:
        ids = [r[0] for r in con.execute(
            "SELECT run_id FROM runs WHERE run_id IN (SELECT unnest(?::VARCHAR[])) AND status IN (SELECT unnest(?::VARCHAR[]))",
            [list(run_ids), statuses]).fetchall()]
        if ids:
            con.execute("UPDATE runs SET status = 'interrupted', message = ?, finished_at = coalesce(finished_at, now()) "
                        "WHERE run_id IN (SELECT unnest(?::VARCHAR[]))", [message, ids])
    return len(ids)
