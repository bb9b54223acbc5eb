"""The extraction stage: facts for every stored version, keyed by (sha256, extractor version).

Re-running is idempotent: a content hash already extracted by the current extractor
version is skipped. When the extractor version changes, every stored version is
re-extracted from its raw bytes, without recrawling; older extractions stay for history.

Status per version: ``ok``; ``partial`` (a budget ran out — see :class:`extractors.model.Budget`,
``WARDWATCH_EXTRACT_*`` — or some lines' rules failed: the facts found are stored and ``error``
says what is missing); ``no_text``; ``error`` (nothing could be read: ``error`` says why).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from extractors import facts as fact_rules
from extractors.facts import extract_facts_result, facts_to_json
from extractors.model import Budget, ExtractionError
from extractors.text import extract_document
from wardwatch.stages.parallel import Cluster, check_workers
from wardwatch.stages.programs import assign_program_ids, refresh_programs
from warehouse import facts as store
from warehouse.db import Warehouse
from warehouse.facts import Pending

BATCH = 50
MAX_ERROR_CHARS = 2000  # the extractions.error column: reasons and warnings, cut past this


def extract_pending(db: Warehouse | Path, *, source_id: str | None = None, force: bool = False,
                    budget: Budget | None = None, workers: int = 1, dask_address: str | None = None) -> dict[str, Any]:
    """Extract every version lacking facts from the current extractor; returns counts.

    ``budget`` defaults to :meth:`Budget.from_env` (a bad ``WARDWATCH_EXTRACT_*`` raises ValueError).
    ``workers`` > 1 runs the pure :func:`extract_one` calls on a local Dask cluster of that many worker
    processes, ``dask_address`` on the existing Dask cluster there (:mod:`wardwatch.stages.parallel`; a
    cluster that cannot be used raises its ClusterError); the warehouse reads and writes stay in this
    process, in the same batches and order, so the stored rows are those of the serial run. The counts
    say how many ``workers`` did the work, on which ``dask`` scheduler (None: this process, or a local
    cluster), and how many calls were ``retried`` because a worker died with them.
    """
    wh = Warehouse.of(db)
    budget = budget or Budget.from_env()
    parallel = dask_address is not None or check_workers(workers) > 1
    version = fact_rules.EXTRACTOR_VERSION  # read at call time: an upgraded extractor re-extracts history
    todo = store.pending(wh, version, source_id, force)
    totals = {"extractor_version": version, "extracted": 0, "facts": 0, "errors": 0, "partial": 0, "no_text": 0,
              "failures": [], "workers": 1, "dask": None, "retried": 0}

    def batches() -> Iterator[tuple[list[Pending], dict[str, bytes]]]:  # a batch's bytes read when it is next
        for i in range(0, len(todo), BATCH):
            chunk = todo[i : i + BATCH]
            yield chunk, store.blobs(wh, [p.sha256 for p in chunk])

    if not parallel:
        for chunk, bodies in batches():
            results = [extract_one(p, bodies.get(p.sha256), budget) for p in chunk]  # pure work, no lock held
            _store_batch(wh, version, chunk, results, totals)
    else:
        with Cluster(workers, dask_address) as cluster:
            cluster.expect_same("extractors.facts", "EXTRACTOR_VERSION", version)  # same code on every worker
            totals.update(workers=cluster.workers, dask=cluster.address)
            calls = ((chunk, [(p.url, (p, bodies.get(p.sha256), budget)) for p in chunk]) for chunk, bodies in batches())
            for chunk, results in cluster.map_batches(extract_one, calls):
                _store_batch(wh, version, chunk, results, totals)
            totals["retried"] = cluster.retried
    totals["programs"] = refresh_programs(wh)
    return totals


def _store_batch(wh: Warehouse, version: str, chunk: list[Pending],
                 results: list[tuple[dict[str, Any], list[dict[str, Any]]]], totals: dict[str, Any]) -> None:
    """Store one batch's results (one transaction) and add them to the counts."""
    store.store(wh, version, [(p.sha256, row, facts) for p, (row, facts) in zip(chunk, results)])
    for p, (row, facts) in zip(chunk, results):
        totals["extracted"] += 1
        totals["facts"] += len(facts)
        if row["status"] == "error":
            totals["errors"] += 1
            totals["failures"].append({"url": p.url, "sha256": p.sha256, "error": row["error"]})
        elif row["status"] == "partial":
            totals["partial"] += 1
            totals["failures"].append({"url": p.url, "sha256": p.sha256, "error": f"partial: {row['error']}",
                                       "status": "partial"})
        elif row["status"] == "no_text":
            totals["no_text"] += 1


def extract_one(p: Pending, body: bytes | None, budget: Budget | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the pure extractors on one version's bytes; never raises."""
    row: dict[str, Any] = {"status": "ok", "error": None, "media_type": p.media_type, "title": None, "pages": None, "main_text": None}
    if body is None:
        return {**row, "status": "error", "error": "blob missing"}, []
    budget = budget or Budget()
    try:
        doc = extract_document(body, p.media_type, charset=p.charset, url=p.url, budget=budget)
        result = extract_facts_result(doc, budget=budget, switchboard=p.switchboard)
        facts = facts_to_json(result.facts)
        assign_program_ids(facts, doc.text, p.municipality, p.code)
    except ExtractionError as exc:
        return {**row, "status": "error", "error": str(exc)}, []
    except Exception as exc:  # an extractor bug must not stop the stage; it is recorded per version
        return {**row, "status": "error", "error": f"extractor crashed: {type(exc).__name__}: {exc}"}, []
    return document_row(doc, result, row), facts


def document_row(doc: Any, result: Any, row: dict[str, Any] | None = None) -> dict[str, Any]:
    """The extractions row of a Document and its FactsResult: status and the recorded reason."""
    row = row or {}
    partial = [r for r in (doc.partial, result.partial) if r]
    notes = [*partial, *result.warnings, *doc.warnings]
    if not doc.text.strip():
        status = "no_text"
    elif partial or result.failed_lines:
        status = "partial"
    else:
        status = "ok"
    error = "; ".join(notes)
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 1] + "…"
    return {**row, "status": status, "error": error or None, "media_type": doc.media_type,
            "title": doc.title, "pages": doc.pages, "main_text": doc.text}
