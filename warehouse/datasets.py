"""Stored program datasets (``datasets``, ``dataset_facts``) and their ``sources`` rows.

``load`` writes one validated dataset version in ONE transaction; parsing and validating the file
is the dataset stage's (``wardwatch/stages/datasets.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from warehouse.db import Warehouse, transaction
from warehouse.values import stored_value

JST = timezone(timedelta(hours=9))


class DatasetConflict(Exception):
    """The dataset cannot become the source's newest version (wrong source kind, out of date order)."""


def load(db: Warehouse | Path, *, source_id: str, sha256: str, path: Path, fmt: str, records: int,
         facts: list[dict[str, Any]], stated: datetime | None, municipality: str | None, default_municipality: str,
         code_of: Callable[[str], str]) -> dict[str, Any]:
    """Load one dataset version; a file the source already has is "unchanged"."""
    sid, sha = source_id, sha256
    with transaction(db) as con:
        same = con.execute(
            "SELECT dataset_id, valid_to IS NULL FROM datasets WHERE source_id = ? AND sha256 = ? ORDER BY valid_from DESC",
            [sid, sha]).fetchone()
        if same:
            return {"status": "unchanged", "dataset_id": same[0], "current": bool(same[1])}
        source = con.execute("SELECT kind, municipality FROM sources WHERE source_id = ?", [sid]).fetchone()
        if source and source[0] != "secondary":
            raise DatasetConflict(f"source '{sid}' is a {source[0]} source in the registry; pass another --source")
        muni = municipality or (source[1] if source else None) or default_municipality
        code = code_of(muni)
        current = con.execute("SELECT dataset_id, valid_from FROM datasets WHERE source_id = ? AND valid_to IS NULL",
                              [sid]).fetchone()
        valid_from = stated or datetime.now(UTC)
        if current and valid_from <= current[1]:
            if stated is not None and stated.date() < current[1].astimezone(JST).date():
                raise DatasetConflict(
                    f"file is dated {stated:%Y-%m-%d} but source '{sid}' already has a version from "
                    f"{current[1].astimezone(JST):%Y-%m-%d} ({current[0]}); import versions in date order")
            valid_from = current[1] + timedelta(seconds=1)
        dataset_id = f"{sid}@{valid_from.astimezone(UTC):%Y%m%dT%H%M%SZ}-{sha[:8]}"
        if current:
            con.execute("UPDATE datasets SET valid_to = ? WHERE dataset_id = ?", [valid_from, current[0]])
        con.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, NULL)",
                    [dataset_id, sid, str(path.resolve()), fmt, sha, records, len(facts),
                     valid_from])
        _insert_facts(con, dataset_id, facts, muni)
        # delete + insert, not ON CONFLICT: DuckLake warehouses have no keys to conflict on
        con.execute("DELETE FROM sources WHERE source_id = ?", [sid])
        con.execute("INSERT INTO sources (source_id, municipality, code, kind, name, start_urls, allowed_domains, "
                    "schedule, updated_at) VALUES (?, ?, ?, 'secondary', ?, []::VARCHAR[], []::VARCHAR[], '', now())",
                    [sid, muni, code, f"{fmt} dataset {path.name}"])
    return {"status": "imported", "dataset_id": dataset_id, "municipality": muni, "code": code,
            "valid_from": valid_from.isoformat(), "closed": current[0] if current else None}


_FACT_TYPES = json.dumps([{"seq": "INTEGER", "record_id": "VARCHAR", "municipality": "VARCHAR", "program": "VARCHAR",
                            "kind": "VARCHAR", "qualifier": "VARCHAR", "value": "VARCHAR", "value_num": "DOUBLE",
                            "text": "VARCHAR", "field": "VARCHAR", "program_id": "VARCHAR",
                            "program_name": "VARCHAR"}])


FACT_CHUNK = 5_000  # rows per INSERT: bounds the JSON text and DuckDB's parse of it (a 200k-row file)


def _insert_facts(con: Any, dataset_id: str, facts: list[dict[str, Any]], municipality: str) -> None:
    """INSERTs of one JSON parameter each (DuckDB converts big list parameters slowly, element by
    element), FACT_CHUNK rows at a time inside the caller's transaction, so memory stays bounded."""
    for first in range(0, len(facts), FACT_CHUNK):
        rows = []
        for seq, f in enumerate(facts[first:first + FACT_CHUNK], start=first):
            value, num = stored_value(f["value"])
            rows.append({"seq": seq, "record_id": f.get("record_id"),
                         "municipality": f.get("municipality") or municipality,
                         "program": f.get("program"), "kind": f["kind"], "qualifier": f.get("qualifier"),
                         "value": value, "value_num": num, "text": f.get("text"), "field": f.get("field"),
                         "program_id": f.get("program_id"), "program_name": f.get("program_name")})
        payload = json.dumps(rows, ensure_ascii=False)
        del rows
        con.execute(
            """
            INSERT INTO dataset_facts
            (dataset_id, seq, record_id, municipality, program, kind, qualifier, value, value_num, text, field,
             program_id, program_name)
            SELECT ?, r.seq, r.record_id, r.municipality, r.program, r.kind, r.qualifier, r.value::JSON, r.value_num,
                   r.text, r.field, r.program_id, r.program_name
            FROM (SELECT unnest(from_json(?::JSON, ?)) AS r)
            """,
            [dataset_id, payload, _FACT_TYPES])
