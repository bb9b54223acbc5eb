"""The change stage: diff each new version against its baseline, then open/close flags.

Incremental: only versions without a ``version_diffs`` row are diffed. A version's
baseline is the newest earlier version of the same URL whose response was "ok" — error
pages, soft-404s, empty and blocked responses are recorded but never become a baseline.
The diffing itself is done by the pure functions in ``diffs/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from warehouse.db import connect, insert_rows, transaction

BATCH = 2000
MAX_DIFF_OPS = 200


@dataclass
class Doc:
    """A stored version with its extraction, as the diff functions need it."""

    version_id: str
    url: str
    source_id: str
    sha256: str
    valid_from: Any
    requested_url: str | None
    run_id: str | None
    title: str | None
    main_text: str
    extractor_version: str | None
    facts: list[dict[str, Any]]


def detect_changes(db_path: Path, *, source_id: str | None = None, today: date | None = None) -> dict[str, Any]:
    """Diff every undiffed version, then evaluate flags. Returns counts.

    One evaluation at a time per warehouse (a file lock): concurrent runs of different sources
    would otherwise diff the same pending versions and race on the same flags.
    """
    from warehouse.locks import hold

    with hold(db_path, "diff"):
        return _detect_changes(db_path, source_id, today)


def _detect_changes(db_path: Path, source_id: str | None, today: date | None) -> dict[str, Any]:
    from warehouse.flagging import evaluate_flags

    totals = {"versions_diffed": 0, "content": 0, "noise": 0, "update_date_only": 0, "unchanged": 0,
              "first": 0, "not_baseline": 0, "changes": 0, "changed_urls": []}
    while True:
        todo = _undiffed(db_path, source_id)
        if not todo:
            break
        rows, fact_rows = _diff_batch(db_path, todo)
        with transaction(db_path) as con:
            _insert_rows(con, "version_diffs", rows)
            _insert_rows(con, "fact_changes", fact_rows)
        for r in rows:
            totals["versions_diffed"] += 1
            totals[r["change_class"]] += 1
            if r["change_class"] == "content":
                totals["changed_urls"].append(r["url"])
        totals["changes"] += len(fact_rows)
    totals.update(evaluate_flags(db_path, today=today or date.today(), changed_urls=set(totals["changed_urls"])))
    return totals


def _undiffed(db_path: Path, source_id: str | None) -> list[str]:
    with connect(db_path) as con:
        return [r[0] for r in con.execute(
            """
            SELECT v.version_id FROM versions v
            WHERE EXISTS (SELECT 1 FROM extractions e WHERE e.sha256 = v.sha256)
              AND NOT EXISTS (SELECT 1 FROM version_diffs d WHERE d.after_version_id = v.version_id)
              AND (? IS NULL OR v.source_id = ?)
            ORDER BY v.valid_from LIMIT ?
            """,
            [source_id, source_id, BATCH],
        ).fetchall()]


def load_docs(con: Any, version_ids: list[str]) -> dict[str, Doc]:
    """Versions with main text and facts (newest extraction), by version id."""
    if not version_ids:
        return {}
    # extractions are filtered by hash before picking the newest (the view would scan them all)
    picked = """
        WITH v AS (SELECT * FROM versions WHERE version_id IN (SELECT unnest(?::VARCHAR[]))),
        e AS (SELECT * FROM extractions WHERE sha256 IN (SELECT sha256 FROM v)
              QUALIFY row_number() OVER (PARTITION BY sha256 ORDER BY extracted_at DESC) = 1)
    """
    rows = con.execute(
        picked + """
        SELECT v.version_id, v.url, v.source_id, v.sha256, v.valid_from, f.requested_url, f.run_id,
               e.title, coalesce(e.main_text, ''), e.extractor_version
        FROM v
        LEFT JOIN fetches f ON f.fetch_id = v.first_fetch_id
        LEFT JOIN e ON e.sha256 = v.sha256
        """,
        [version_ids],
    ).fetchall()
    docs = {r[0]: Doc(*r, facts=[]) for r in rows}
    facts = con.execute(
        picked + """
        SELECT v.version_id, f.kind, f.value, f.text, f.start_offset, f.end_offset, f.qualifier, f.program, f.page, f.extra
        FROM v JOIN e ON e.sha256 = v.sha256
        JOIN facts f ON f.sha256 = e.sha256 AND f.extractor_version = e.extractor_version
        ORDER BY v.version_id, f.seq
        """,
        [version_ids],
    ).fetchall()
    for vid, kind, value, text, start, end, qual, program, page, extra in facts:
        fact = {"kind": kind, "value": json.loads(value) if value is not None else None, "text": text, "start": start,
                "end": end, "qualifier": qual, "program": program, "page": page}
        if extra:
            fact.update(json.loads(extra))
        docs[vid].facts.append(fact)
    return docs


def _baselines(con: Any, docs: list[Doc]) -> dict[str, str]:
    """For each doc, the newest earlier version of its URL that was an "ok" response."""
    rows = con.execute(
        """
        SELECT v.version_id, (
            SELECT d.after_version_id FROM version_diffs d JOIN versions p ON p.version_id = d.after_version_id
            WHERE d.url = v.url AND d.response_class = 'ok' AND p.valid_from < v.valid_from
            ORDER BY p.valid_from DESC LIMIT 1)
        FROM versions v WHERE v.version_id IN (SELECT unnest(?::VARCHAR[]))
        """,
        [[d.version_id for d in docs]],
    ).fetchall()
    return {r[0]: r[1] for r in rows if r[1]}


def _diff_batch(db_path: Path, version_ids: list[str]) -> tuple[list[dict], list[dict]]:
    from diffs.classify import classify_change, classify_response, is_baseline
    from diffs.facts import diff_facts

    with connect(db_path) as con:
        docs = load_docs(con, version_ids)
        ordered = sorted(docs.values(), key=lambda d: d.valid_from)
        base_ids = _baselines(con, ordered)
        bases = load_docs(con, sorted(set(base_ids.values())))
    rows, fact_rows = [], []
    latest_ok: dict[str, Doc] = {}  # baselines found inside this batch (several versions of one URL)
    for doc in ordered:
        response = classify_response(200, doc.main_text, title=doc.title, final_url=doc.url, start_url=doc.requested_url)
        base = latest_ok.get(doc.url) or bases.get(base_ids.get(doc.version_id, ""))
        row = {"after_version_id": doc.version_id, "before_version_id": base.version_id if base else None, "url": doc.url,
               "source_id": doc.source_id, "detected_at": doc.valid_from, "run_id": doc.run_id,
               "response_class": response, "change_class": "first", "before_update_date": None, "after_update_date": None,
               "added": 0, "removed": 0, "changed": 0, "text_diff": None, "extractor_version": doc.extractor_version}
        if not is_baseline(response):
            row["change_class"] = "not_baseline"
        elif base is not None:
            cls = classify_change(base.main_text, doc.main_text)
            # different bytes with the same main text: markup/tokens only, i.e. noise
            kind = "noise" if cls.kind == "unchanged" and base.sha256 != doc.sha256 else cls.kind
            row.update(change_class=kind, before_update_date=cls.before_update_date,
                       after_update_date=cls.after_update_date)
            if cls.is_content:
                row["text_diff"] = json.dumps([list(op) for op in cls.changes()[:MAX_DIFF_OPS]], ensure_ascii=False)
                changes = diff_facts(base.facts, doc.facts, before_doc_text=base.main_text, after_doc_text=doc.main_text)
                for seq, ch in enumerate(changes):
                    c = ch.to_json()
                    row[c["change"]] += 1
                    fact_rows.append({"after_version_id": doc.version_id, "seq": seq, **{
                        k: c.get(k) for k in ("program", "kind", "qualifier", "change", "before_text", "after_text",
                                              "before_start", "before_end", "after_start", "after_end", "page")},
                        "before": json.dumps(c.get("before"), ensure_ascii=False),
                        "after": json.dumps(c.get("after"), ensure_ascii=False)})
        if is_baseline(response):
            latest_ok[doc.url] = doc
        rows.append(row)
    return rows, fact_rows


def _insert_rows(con: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    if table == "version_diffs":
        cols.append("computed_at")
        rows = [{**r, "computed_at": _now()} for r in rows]
    insert_rows(con, table, cols, [[r[c] for c in cols] for r in rows])


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()
