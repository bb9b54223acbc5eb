"""The extraction stage: facts for every stored version, keyed by (sha256, extractor version).

Re-running is idempotent: a content hash already extracted by the current extractor
version is skipped. When the extractor version changes, every stored version is
re-extracted from its raw bytes, without recrawling; older extractions stay for history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extractors import facts as fact_rules
from extractors.facts import extract_facts, facts_to_json
from extractors.model import ExtractionError
from extractors.text import extract_document
from warehouse import facts as store
from warehouse.db import Warehouse
from warehouse.facts import Pending

BATCH = 50


def extract_pending(db: Warehouse | Path, *, source_id: str | None = None, force: bool = False) -> dict[str, Any]:
    """Extract every version lacking facts from the current extractor; returns counts."""
    wh = Warehouse.of(db)
    version = fact_rules.EXTRACTOR_VERSION  # read at call time: an upgraded extractor re-extracts history
    todo = store.pending(wh, version, source_id, force)
    totals = {"extractor_version": version, "extracted": 0, "facts": 0, "errors": 0, "no_text": 0, "failures": []}
    for i in range(0, len(todo), BATCH):
        chunk = todo[i : i + BATCH]
        bodies = store.blobs(wh, [p.sha256 for p in chunk])
        results = [extract_one(p, bodies.get(p.sha256)) for p in chunk]  # pure work, no lock held
        store.store(wh, version, [(p.sha256, row, facts) for p, (row, facts) in zip(chunk, results)])
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
