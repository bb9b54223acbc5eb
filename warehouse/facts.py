"""The extraction stage: facts for every stored version, keyed by (sha256, extractor version).

Re-running is idempotent: a content hash already extracted by the current extractor
version is skipped. When the extractor version changes, every stored version is
re-extracted from its raw bytes, without recrawling; older extractions stay for history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warehouse.db import connect, insert_rows, transaction

BATCH = 50


@dataclass(frozen=True)
class Pending:
    sha256: str
    media_type: str | None
    charset: str | None
    url: str


def pending(db_path: Path, version: str, source_id: str | None = None, force: bool = False) -> list[Pending]:
    """Content hashes with no extraction by ``version`` (all of them with ``force``)."""
    with connect(db_path) as con:
        rows = con.execute(
            """
            SELECT v.sha256, any_value(v.media_type), any_value(v.charset), min(v.url)
            FROM versions v
            WHERE (? OR NOT EXISTS (SELECT 1 FROM extractions e WHERE e.sha256 = v.sha256 AND e.extractor_version = ?))
              AND (? IS NULL OR v.source_id = ?)
            GROUP BY v.sha256 ORDER BY min(v.valid_from)
            """,
            [force, version, source_id, source_id],
        ).fetchall()
    return [Pending(*r) for r in rows]


def extract_pending(db_path: Path, *, source_id: str | None = None, force: bool = False) -> dict[str, Any]:
    """Extract every version lacking facts from the current extractor; returns counts."""
    from extractors.facts import EXTRACTOR_VERSION

    todo = pending(db_path, EXTRACTOR_VERSION, source_id, force)
    totals = {"extractor_version": EXTRACTOR_VERSION, "extracted": 0, "facts": 0, "errors": 0, "no_text": 0, "failures": []}
    for i in range(0, len(todo), BATCH):
        chunk = todo[i : i + BATCH]
        with connect(db_path) as con:
            bodies = {r[0]: bytes(r[1]) for r in con.execute(
                "SELECT sha256, data FROM blobs WHERE sha256 IN (SELECT unnest(?::VARCHAR[]))", [[p.sha256 for p in chunk]]
            ).fetchall()}
        results = [extract_one(p, bodies.get(p.sha256)) for p in chunk]  # pure work, no lock held
        with transaction(db_path) as con:
            for p, (row, facts) in zip(chunk, results):
                _store(con, p.sha256, EXTRACTOR_VERSION, row, facts)
        for p, (row, facts) in zip(chunk, results):
            totals["extracted"] += 1
            totals["facts"] += len(facts)
            if row["status"] == "error":
                totals["errors"] += 1
                totals["failures"].append({"url": p.url, "sha256": p.sha256, "error": row["error"]})
            elif row["status"] == "no_text":
                totals["no_text"] += 1
    return totals


def extract_one(p: Pending, body: bytes | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the pure extractors on one version's bytes; never raises."""
    from extractors.facts import extract_facts, facts_to_json
    from extractors.model import ExtractionError
    from extractors.text import extract_document

    row: dict[str, Any] = {"status": "ok", "error": None, "media_type": p.media_type, "title": None, "pages": None, "main_text": None}
    if body is None:
        return {**row, "status": "error", "error": "blob missing"}, []
    try:
        doc = extract_document(body, p.media_type, charset=p.charset, url=p.url)
        facts = facts_to_json(extract_facts(doc))
    except ExtractionError as exc:
        return {**row, "status": "error", "error": str(exc)}, []
    except Exception as exc:  # an extractor bug must not stop the stage; it is recorded per version
        return {**row, "status": "error", "error": f"extractor crashed: {type(exc).__name__}: {exc}"}, []
    status = "no_text" if not doc.text.strip() else "ok"
    return {**row, "status": status, "error": "; ".join(doc.warnings) or None, "media_type": doc.media_type,
            "title": doc.title, "pages": doc.pages, "main_text": doc.text}, facts


CORE = ("kind", "value", "text", "qualifier", "program", "page", "start", "end")
FACT_COLUMNS = ("sha256", "extractor_version", "seq", "kind", "value", "value_num", "text", "qualifier", "program", "page",
                "start_offset", "end_offset", "extra")


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
        value = f["value"]
        num = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        extra = {k: v for k, v in f.items() if k not in CORE}
        rows.append([sha, version, seq, f["kind"], json.dumps(value, ensure_ascii=False), num, f["text"], f["qualifier"],
                     f["program"], f["page"], f["start"], f["end"], json.dumps(extra, ensure_ascii=False) if extra else None])
    insert_rows(con, "facts", FACT_COLUMNS, rows)
