"""Extractions and facts, keyed by (sha256, extractor version): what is pending, the bytes to
extract from, and storing one version's result. The extracting itself is the extract stage's
(``wardwatch/stages/extract.py``), over the pure functions in ``extractors/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.db import Warehouse, connect, insert_rows, read_blobs, transaction
from warehouse.values import stored_value


@dataclass(frozen=True)
class Pending:
    sha256: str
    media_type: str | None
    charset: str | None
    url: str
    switchboard: str | None = None  # the source's municipal switchboard (sources.switchboard)
    municipality: str | None = None  # the source's municipality and 全国地方公共団体コード (program ids)
    code: str | None = None


def pending(db: Warehouse | Path, version: str, source_id: str | None = None, force: bool = False) -> list[Pending]:
    """Content hashes with no extraction by ``version`` (all of them with ``force``)."""
    with connect(db) as con:
        rows = con.execute(
            """
            SELECT v.sha256, any_value(v.media_type), any_value(v.charset), min(v.url), min(s.switchboard),
                   min(s.municipality), min(s.code)
            FROM versions v LEFT JOIN sources s ON s.source_id = v.source_id
            WHERE (? OR NOT EXISTS (SELECT 1 FROM extractions e WHERE e.sha256 = v.sha256 AND e.extractor_version = ?))
              AND (? IS NULL OR v.source_id = ?)
            GROUP BY v.sha256 ORDER BY min(v.valid_from)
            """,
            [force, version, source_id, source_id],
        ).fetchall()
    return [Pending(*r) for r in rows]


def blobs(db: Warehouse | Path, hashes: list[str]) -> dict[str, bytes]:
    """Raw bytes by content hash (missing hashes are absent)."""
    with connect(db) as con:
        return read_blobs(con, hashes)  # the blobs table, or a lake's blob store


CORE = ("kind", "value", "text", "qualifier", "program", "page", "start", "end", "heading_path", "program_id",
        "program_name")
FACT_COLUMNS = ("sha256", "extractor_version", "seq", "kind", "value", "value_num", "text", "qualifier", "program", "page",
                "start_offset", "end_offset", "extra", "heading_path", "program_id", "program_name")


def store(db: Warehouse | Path, version: str, results: list[tuple[str, dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Replace the extraction by ``version`` of each (sha256, extraction row, fact dicts), in one transaction."""
    with transaction(db) as con:
        for sha, row, facts in results:
            _store(con, sha, version, row, facts)


def _store(con: Any, sha: str, version: str, row: dict[str, Any], facts: list[dict[str, Any]]) -> None:
    con.execute("DELETE FROM facts WHERE sha256 = ? AND extractor_version = ?", [sha, version])
    con.execute("DELETE FROM extractions WHERE sha256 = ? AND extractor_version = ?", [sha, version])
    con.execute(
        "INSERT INTO extractions VALUES (?, ?, now(), ?, ?, ?, ?, ?, ?, ?)",
        [sha, version, row["status"], row["error"], row["media_type"], row["title"], row["pages"], row["main_text"], len(facts)],
    )
    if not facts:
        return
    rows = []
    for seq, f in enumerate(facts):
        value, num = stored_value(f["value"])
        extra = {k: v for k, v in f.items() if k not in CORE}
        rows.append([sha, version, seq, f["kind"], value, num, f["text"], f["qualifier"],
                     f["program"], f["page"], f["start"], f["end"], json.dumps(extra, ensure_ascii=False) if extra else None,
                     list(f.get("heading_path") or []) or None, f.get("program_id"), f.get("program_name")])
    insert_rows(con, "facts", FACT_COLUMNS, rows)
