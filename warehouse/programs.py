"""Programs (制度): the catalog copy, learnt aliases, and the reads behind ``wardwatch programs`` and the rules.

The views (``programs``, ``program_facts``, ``program_history``, ``program_amounts_seen``) are in
``migrations/0006_programs.sql``; this module writes ``program_catalog`` and ``program_aliases`` and reads
program records for the CLI, the GIF export and the flag rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from warehouse.db import Warehouse, connect, snapshot, transaction


def sync_catalog(db: Warehouse | Path, rows: list[tuple]) -> int:
    """Replace ``program_catalog`` with ``rows`` (program_id, name, scope, prefecture, agency, aliases, urls)."""
    with transaction(db) as con:
        con.execute("DELETE FROM program_catalog")
        if rows:
            con.executemany("INSERT INTO program_catalog VALUES (?, ?, ?, ?, ?, ?, ?, now())", [list(r) for r in rows])
    return len(rows)


def official_municipal_programs(db: Warehouse | Path) -> list[tuple[str, str, str]]:
    """(code, program_id, name) of every municipal program official pages state facts about."""
    with connect(db, read_only=True) as con:
        return con.execute(
            """SELECT s.code, f.program_id, mode(f.program_name)
               FROM facts f JOIN versions v ON v.sha256 = f.sha256 JOIN sources s ON s.source_id = v.source_id
               WHERE s.kind = 'official' AND f.program_id LIKE s.code || ':%' GROUP BY ALL ORDER BY ALL""").fetchall()


def secondary_municipal_programs(db: Warehouse | Path) -> list[tuple[str, str, str]]:
    """(code, program_id, name) of municipal program ids secondary pages and datasets use."""
    with connect(db, read_only=True) as con:
        return con.execute(
            """SELECT s.code, f.program_id, mode(f.program_name)
               FROM facts f JOIN versions v ON v.sha256 = f.sha256 JOIN sources s ON s.source_id = v.source_id
               WHERE s.kind = 'secondary' AND f.program_id LIKE s.code || ':%' GROUP BY ALL
               UNION
               SELECT s.code, f.program_id, mode(f.program_name)
               FROM dataset_facts f JOIN datasets d USING (dataset_id) JOIN sources s ON s.source_id = d.source_id
               WHERE f.program_id LIKE s.code || ':%' GROUP BY ALL
               ORDER BY ALL""").fetchall()


def save_aliases(db: Warehouse | Path, rows: list[tuple[str, str, str, str]]) -> int:
    """Upsert (code, alias_id, program_id, name) rows; returns how many were new or changed."""
    if not rows:
        return 0
    changed = 0
    with transaction(db) as con:
        for code, alias_id, program_id, name in rows:
            old = con.execute("SELECT program_id FROM program_aliases WHERE code = ? AND alias_id = ?",
                              [code, alias_id]).fetchone()
            if old and old[0] == program_id:
                continue
            con.execute("DELETE FROM program_aliases WHERE code = ? AND alias_id = ?", [code, alias_id])
            con.execute("INSERT INTO program_aliases VALUES (?, ?, ?, ?, now())", [code, alias_id, program_id, name])
            changed += 1
    return changed


def amounts_seen(db: Warehouse | Path) -> list[dict[str, Any]]:
    """The amounts official pages state per national program and fiscal year (view ``program_amounts_seen``)."""
    with connect(db, read_only=True) as con:
        cur = con.execute("SELECT program_id, qualifier, fiscal_year, yen, pages, municipalities "
                          "FROM program_amounts_seen ORDER BY program_id, fiscal_year, yen")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def program_records(db: Warehouse | Path, *, municipality: str | None = None,
                    program: str | None = None) -> list[dict[str, Any]]:
    """One record per program x municipality: {program_id, name, scope, municipality, code, urls,
    official_urls, secondary_urls, first_seen, last_seen, last_changed, facts: [...]}.

    ``facts`` are the current facts (view ``program_facts``) with their evidence: url, version_id, the
    text span (start_offset/end_offset), page, heading path, source kind and validity (valid_from).
    ``municipality`` matches the name or the code; ``program`` the program id or (a part of) its name.
    """
    where, params = [], []
    if municipality:
        where.append("(municipality = ? OR code = ?)")
        params += [municipality, municipality]
    if program:
        where.append("(program_id = ? OR contains(name, ?))")
        params += [program, program]
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    with snapshot(db) as con:
        cur = con.execute(f"SELECT * FROM programs {clause} ORDER BY municipality, scope, program_id", params)
        cols = [d[0] for d in cur.description]
        records = [dict(zip(cols, r)) for r in cur.fetchall()]
        if not records:
            return []
        cur = con.execute(
            """SELECT program_id, municipality, program_name, source_id, source_kind, origin_kind, url, version_id,
                      valid_from, kind, qualifier, value, value_num, text, page, start_offset, end_offset,
                      heading_path
               FROM program_facts ORDER BY program_id, municipality, source_kind, url, start_offset NULLS LAST""")
        fcols = [d[0] for d in cur.description]
        facts: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in cur.fetchall():
            d = dict(zip(fcols, r))
            if isinstance(d.get("value"), str):
                try:
                    d["value"] = json.loads(d["value"])
                except ValueError:
                    pass
            facts.setdefault((d.pop("program_id"), d.pop("municipality")), []).append(d)
    for rec in records:
        rec["urls"] = list(dict.fromkeys([*(rec.get("official_urls") or []), *(rec.get("secondary_urls") or [])]))
        rec["facts"] = facts.get((rec["program_id"], rec["municipality"]), [])
    return records
