"""The pipeline flow: the runner (``wardwatch/runner.py``) under Prefect — one subflow per source
running ``runner.run_source`` with every stage a task, up to ``max_parallel`` at a time, then
``runner.finish`` (report, webhook) and the report's artifacts.

A source whose subflow fails (site down, robots.txt, parse error) is reported; the others still
complete. When any source failed, the parent run ends Failed by raising PipelineFailed, which
carries the summary. Results travel as return values and exceptions, never through state data:
Prefect's local SQLite server sometimes hands states back without their data under load.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows.links import ui_url
from flows.tasks import prefect_step, publish_report
from wardwatch import runner
from wardwatch.runner import LOCK_TIMEOUT_S, MAX_PARALLEL, RunOptions


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
    opts = RunOptions(Path(sources_file), Path(db_path), [source_id], lock_timeout=lock_timeout)
    # the runner is synchronous; a worker thread keeps the other sources' subflows going meanwhile
    return await asyncio.to_thread(runner.run_source, opts, source_id, prefect_step,
                                   lambda path: logger.info("waiting for another run of %s (%s)", source_id, path))


@flow(name="wardwatch-pipeline")
async def pipeline(sources_file: str, db_path: str, source_ids: list[str], max_parallel: int = MAX_PARALLEL,
                   lock_timeout: float = LOCK_TIMEOUT_S) -> dict[str, Any]:
    slots = asyncio.Semaphore(max(1, max_parallel))

    async def one(source_id: str) -> dict[str, Any]:
        async with slots:
            try:
                result = {"status": "ok", **await source_flow(sources_file, db_path, source_id, lock_timeout)}
            except Exception as exc:  # that source's subflow failed; the others go on
                result = runner.failure(source_id, exc)
            return runner.source_done(source_id, result)  # `wardwatch run` prints its line now

    ids = list(dict.fromkeys(source_ids))
    run_id = flow_run.get_id()
    opts = RunOptions(Path(sources_file), Path(db_path), ids, max_parallel=max_parallel, lock_timeout=lock_timeout,
                      flow_run={"id": run_id, "name": flow_run.get_name(), "url": ui_url("flow-run", run_id)})
    await asyncio.to_thread(runner.prepare, opts)
    outcomes = await asyncio.gather(*(one(sid) for sid in ids))
    summary = await asyncio.to_thread(runner.finish, opts, dict(zip(ids, outcomes)))
    summary["report"]["artifacts"] = await publish_report(summary["report"]["markdown"], summary["report"]["flags"],
                                                          summary["run_ids"])
    if summary["status"] != "ok":
        raise PipelineFailed(summary["message"], summary)
    return summary
