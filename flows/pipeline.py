"""The pipeline flow: per source a subflow (crawl -> extract -> diff-and-flag), then the report
(Prefect artifacts) and the webhook. Thin: the work is in wardwatch.stages.

A source whose subflow fails (site down, robots.txt, parse error) is reported; the others still
complete. When any source failed, the parent run ends Failed by raising PipelineFailed, which
carries the summary. Results travel as return values and exceptions, never through state data:
Prefect's local SQLite server sometimes hands states back without their data under load.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows.crawl import crawl
from flows.diff_and_flag import diff_and_flag
from flows.extract import extract
from flows.locks import source_lock
from flows.notify import notify
from flows.report import report

MAX_PARALLEL = 4  # sources crawled at the same time (each crawl is its own child process)
LOCK_TIMEOUT_S = 3600.0  # how long a run waits for another run of the same source


class PipelineFailed(RuntimeError):
    """Some sources failed; ``summary`` has every source's outcome."""

    def __init__(self, message: str, summary: dict[str, Any]):
        super().__init__(message)
        self.summary = summary

    def __reduce__(self) -> tuple:  # picklable, should Prefect persist the exception
        return (type(self), (str(self), self.summary))


@flow(name="wardwatch-source", flow_run_name="source-{source_id}")
async def source_flow(sources_file: str, db_path: str, source_id: str,
                      lock_timeout: float = LOCK_TIMEOUT_S) -> dict[str, Any]:
    logger = get_run_logger()
    async with source_lock(db_path, source_id, lock_timeout,
                           on_wait=lambda path: logger.info("waiting for another run of %s (%s)", source_id, path)):
        crawled = await crawl(sources_file, db_path, source_id)
        extracted = await extract(db_path, source_id)
        diffed = await diff_and_flag(db_path, source_id)
    return {"crawl": crawled, "extract": extracted, "diff": diffed}


@flow(name="wardwatch-pipeline")
async def pipeline(sources_file: str, db_path: str, source_ids: list[str], max_parallel: int = MAX_PARALLEL,
                   lock_timeout: float = LOCK_TIMEOUT_S) -> dict[str, Any]:
    slots = asyncio.Semaphore(max(1, max_parallel))

    async def one(source_id: str) -> dict[str, Any]:
        async with slots:
            try:
                return {"status": "ok", **await source_flow(sources_file, db_path, source_id, lock_timeout)}
            except Exception as exc:  # that source's subflow failed; the others go on
                return _failure(source_id, exc)

    outcomes = await asyncio.gather(*(one(sid) for sid in source_ids))
    sources = dict(zip(source_ids, outcomes))
    run_ids = [s["crawl"]["run_id"] for s in sources.values() if s["status"] == "ok" and s["crawl"].get("run_id")]
    reported = await report(db_path, run_ids)
    diffs = {sid: s["diff"] for sid, s in sources.items() if s["status"] == "ok"}
    notified = await notify(diffs, run_ids)
    failed = [(sid, s) for sid, s in sources.items() if s["status"] == "failed"]
    status = "ok" if not failed else ("failed" if len(failed) == len(sources) else "partial")
    message = None
    if failed:
        message = f"{len(failed)} of {len(sources)} sources failed (first: {failed[0][0]}: {failed[0][1]['reason']})"
    summary = {"status": status, "message": message, "sources": sources, "run_ids": run_ids, "report": reported,
               "notified": notified, "flow_run": {"id": flow_run.get_id(), "name": flow_run.get_name()}}
    if failed:
        raise PipelineFailed(message, summary)
    return summary


def _failure(source_id: str, exc: BaseException) -> dict[str, Any]:
    """Why a source failed, on one line, without repeating its id (the Prefect UI keeps the whole error)."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].removeprefix(f"{source_id}: ")
    return {"status": "failed", "error": type(exc).__name__, "reason": reason}
