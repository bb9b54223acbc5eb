"""The change stage: diff each new version against its baseline, then open/close flags.

Incremental: only versions without a ``version_diffs`` row are diffed. The diffing itself is done
by the pure functions in ``diffs/``; storage by ``warehouse.changes``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from diffs.classify import classify_change, classify_response, is_baseline
from diffs.facts import diff_facts
from wardwatch.stages.flags import evaluate_flags
from warehouse import changes as store
from warehouse.db import Warehouse
from warehouse.locks import hold

MAX_DIFF_OPS = 200


def detect_changes(db: Warehouse | Path, *, source_id: str | None = None, today: date | None = None) -> dict[str, Any]:
    """Diff every undiffed version, then evaluate flags. Returns counts.

    One evaluation at a time per warehouse (a file lock): concurrent runs of different sources
    would otherwise diff the same pending versions and race on the same flags.
    """
    wh = Warehouse.of(db)
    with hold(wh, "diff"):
        return _detect_changes(wh, source_id, today)


def _detect_changes(wh: Warehouse, source_id: str | None, today: date | None) -> dict[str, Any]:
    totals = {"versions_diffed": 0, "content": 0, "noise": 0, "update_date_only": 0, "unchanged": 0,
              "first": 0, "not_baseline": 0, "changes": 0, "changed_urls": []}
    diffed_urls: set[str] = set()  # every page with a new version: its page flags are re-checked
    while True:
        todo = store.undiffed(wh, source_id)
        if not todo:
            break
        rows, fact_rows = diff_batch(*store.docs_with_baselines(wh, todo))
        store.store_diffs(wh, rows, fact_rows)
        for r in rows:
            totals["versions_diffed"] += 1
            totals[r["change_class"]] += 1
            diffed_urls.add(r["url"])
            if r["change_class"] == "content":
                totals["changed_urls"].append(r["url"])
        totals["changes"] += len(fact_rows)
    totals.update(evaluate_flags(wh, today=today or date.today(), changed_urls=diffed_urls))
    return totals


def diff_batch(docs: dict[str, store.Doc], base_ids: dict[str, str],
               bases: dict[str, store.Doc]) -> tuple[list[dict], list[dict]]:
    """version_diffs and fact_changes rows for ``docs`` (pure)."""
    ordered = sorted(docs.values(), key=lambda d: d.valid_from)
    rows, fact_rows = [], []
    latest_ok: dict[str, store.Doc] = {}  # baselines found inside this batch (several versions of one URL)
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
                        k: c.get(k) for k in ("program", "program_id", "kind", "qualifier", "change", "before_text",
                                              "after_text", "before_start", "before_end", "after_start", "after_end",
                                              "page")},
                        "before": json.dumps(c.get("before"), ensure_ascii=False),
                        "after": json.dumps(c.get("after"), ensure_ascii=False)})
        if is_baseline(response):
            latest_ok[doc.url] = doc
        rows.append(row)
    return rows, fact_rows
