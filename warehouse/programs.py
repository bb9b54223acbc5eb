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
    """Make ``program_catalog`` hold ``rows`` (program_id, name, scope, prefecture, agency, aliases, urls);
    returns how many rows were written (0 when it already held them)."""
    want = sorted(tuple(list(v) if isinstance(v, (list, tuple)) else v for v in r) for r in rows)
    with connect(db, read_only=True) as con:
        have = sorted(tuple(r) for r in con.execute(
            "SELECT program_id, name, scope, prefecture, agency, aliases, urls FROM program_catalog").fetchall())
    if have == want:
        return 0
    with transaction(db) as con:
        con.execute("DELETE FROM program_catalog")
        if rows:
            con.execute("INSERT INTO program_catalog SELECT *, now() FROM (SELECT unnest(?, recursive := true))",
                        [[dict(zip(_CATALOG_COLUMNS, r)) for r in want]])
    return len(rows)


_CATALOG_COLUMNS = ("program_id", "name", "scope", "prefecture", "agency", "aliases", "urls")


def extraction_state(db: Warehouse | Path) -> tuple:
    """A cheap fingerprint of what the aliases are learnt from: extractions and datasets stored so far."""
    with connect(db, read_only=True) as con:
        return tuple(con.execute(
            "SELECT (SELECT count(*) FROM extractions), (SELECT max(extracted_at) FROM extractions), "
            "(SELECT count(*) FROM datasets), (SELECT max(imported_at) FROM datasets), "
            "(SELECT count(*) FROM program_catalog)").fetchone())


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
    text span (start_offset/end_offset), page, heading path, source kind and validity (valid_from), and
    ``context_before`` / ``context_after``: up to 40 / 20 characters of the page text around the span
    (None for dataset facts), for rules that read the words next to a value (償還, 締切, 最大).
    ``page_contacts`` are the current contact facts (department, phone, email, address) of the record's
    official pages that belong to another program or to none (a page-level お問い合わせ section).
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
            """SELECT pf.program_id, pf.municipality, pf.program_name, pf.source_id, pf.source_kind, pf.origin_kind,
                      pf.url, pf.version_id, pf.valid_from, pf.kind, pf.qualifier, pf.value, pf.value_num, pf.text,
                      pf.page, pf.start_offset, pf.end_offset, pf.heading_path,
                      substring(e.main_text, greatest(pf.start_offset - 40, 0) + 1,
                                pf.start_offset - greatest(pf.start_offset - 40, 0)) AS context_before,
                      substring(e.main_text, pf.end_offset + 1, 20) AS context_after
               FROM program_facts pf
               LEFT JOIN versions v ON pf.origin_kind = 'page' AND v.version_id = pf.version_id
               LEFT JOIN latest_extractions e ON e.sha256 = v.sha256
               ORDER BY pf.program_id, pf.municipality, pf.source_kind, pf.url, pf.start_offset NULLS LAST""")
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
        pages = sorted({u for rec in records for u in rec.get("official_urls") or []})
        cur = con.execute(
            """SELECT url, version_id, valid_from, program_id, kind, qualifier, value, text, page, start_offset,
                      end_offset, heading_path
               FROM current_facts
               WHERE source_kind = 'official' AND kind IN ('department', 'phone', 'email', 'address')
                 AND list_contains(?::VARCHAR[], url)
               ORDER BY url, start_offset""", [pages])
        ccols = [d[0] for d in cur.description]
        contacts: dict[str, list[dict[str, Any]]] = {}
        for r in cur.fetchall():
            d = dict(zip(ccols, r))
            if isinstance(d.get("value"), str):
                try:
                    d["value"] = json.loads(d["value"])
                except ValueError:
                    pass
            contacts.setdefault(d["url"], []).append(d)
    for rec in records:
        rec["urls"] = list(dict.fromkeys([*(rec.get("official_urls") or []), *(rec.get("secondary_urls") or [])]))
        rec["facts"] = facts.get((rec["program_id"], rec["municipality"]), [])
        rec["page_contacts"] = [c for u in rec.get("official_urls") or [] for c in contacts.get(u, [])
                                if c["program_id"] != rec["program_id"]]
    return records
