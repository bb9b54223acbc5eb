"""Read-side helpers for analysts and the CLI: changes, flags, read-only SQL, Parquet export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from warehouse.db import connect

CHANGE_FIELDS = ("url", "source_id", "program", "kind", "qualifier", "change", "before", "after", "before_text",
                 "after_text", "detected_at")
FLAG_FIELDS = ("rule", "severity", "source_id", "url", "program", "kind", "evidence", "first_seen", "closed_at")


def _jsonish(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def changes(db_path: Path, since: str | None = None) -> list[dict[str, Any]]:
    """Fact changes, newest first; ``since`` is an ISO date/time or a run id."""
    where, params = "", []
    if since:
        if re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]+", since):
            where, params = "WHERE detected_at >= (SELECT started_at FROM runs WHERE run_id = ?)", [since]
        else:
            where, params = "WHERE detected_at >= ?::TIMESTAMPTZ", [since]
    with connect(db_path, read_only=True) as con:
        rows = con.execute(f"SELECT {', '.join(CHANGE_FIELDS)} FROM changes {where} "
                           "ORDER BY detected_at DESC, url, seq", params).fetchall()
    return [{**dict(zip(CHANGE_FIELDS, r)), "before": _jsonish(r[6]), "after": _jsonish(r[7]), "detected_at": str(r[10])}
            for r in rows]


def flags(db_path: Path, open_only: bool = False) -> list[dict[str, Any]]:
    with connect(db_path, read_only=True) as con:
        rows = con.execute(f"SELECT {', '.join(FLAG_FIELDS)} FROM flags {'WHERE open' if open_only else ''} "
                           "ORDER BY first_seen DESC, rule, url").fetchall()
    return [{**dict(zip(FLAG_FIELDS, r)), "evidence": _jsonish(r[6]), "first_seen": str(r[7]),
             "closed_at": str(r[8]) if r[8] is not None else None} for r in rows]


def query(db_path: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Run SQL on a read-only connection (writes and file access are refused)."""
    with connect(db_path, read_only=True, config={"enable_external_access": False}) as con:
        cur = con.execute(sql)
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()


def export(db_path: Path, folder: Path) -> list[tuple[str, int]]:
    """Every table and view as ``folder/<name>.parquet``; returns (name, rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    with connect(db_path, read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name").fetchall()]
        for name in names:
            target = folder / f"{name}.parquet"
            con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{_sql_path(target)}' (FORMAT parquet)")
            out.append((name, con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]))
    return out


def _sql_path(p: Path) -> str:
    return str(p.resolve()).replace("'", "''")
