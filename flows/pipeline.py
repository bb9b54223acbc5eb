"""The pipeline flow: the runner (``wardwatch/runner.py``) under Prefect — one subflow per source
running ``runner.run_source`` with every stage a task, up to ``max_parallel`` at a time, then
``runner.finish`` (report, webhook) and the report's artifacts.

With ``crawl_concurrency`` N (``wardwatch run``'s default) the sources are crawled first by one task,
``crawl-batch`` (one crawl child process, N hosts at a time: ``runner.Batch``); each source's subflow
starts as soon as its own crawl has ended, its crawl task taking the batch's result (and crawling that
source alone should the retry policy retry it). Without it (None, the default of the flow itself, and
``wardwatch run --per-source-process``) each subflow's crawl task is that source's own crawl process.

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
from flows.tasks import crawl_batch_task, prefect_step, publish_report
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
                      lock_timeout: float = LOCK_TIMEOUT_S, batched: bool = False) -> dict[str, Any]:
    """One source's stages; ``batched``: it was crawled by this process's batch (which holds its lock)."""
    logger = get_run_logger()
    opts = RunOptions(Path(sources_file), Path(db_path), [source_id], lock_timeout=lock_timeout)
    batch = runner.batch_of(db_path, source_id) if batched else None
    if batched and batch is None:
        raise RuntimeError(f"{source_id}: no batch of this process crawled it")
    # the runner is synchronous; a worker thread keeps the other sources' subflows going meanwhile
    return await asyncio.to_thread(runner.run_source, opts, source_id, prefect_step,
                                   lambda path: logger.info("waiting for another run of %s (%s)", source_id, path),
                                   batch)


@flow(name="wardwatch-pipeline")
async def pipeline(sources_file: str, db_path: str, source_ids: list[str], max_parallel: int = MAX_PARALLEL,
                   lock_timeout: float = LOCK_TIMEOUT_S, crawl_concurrency: int | None = None) -> dict[str, Any]:
    slots = asyncio.Semaphore(max(1, max_parallel))

    async def one(source_id: str, batched: bool = False) -> dict[str, Any]:
        async with slots:
            try:
                result = {"status": "ok", **await source_flow(sources_file, db_path, source_id, lock_timeout, batched)}
            except Exception as exc:  # that source's subflow failed; the others go on
                result = runner.failure(source_id, exc)
            return runner.source_done(source_id, result)  # `wardwatch run` prints its line now

    ids = list(dict.fromkeys(source_ids))
    run_id = flow_run.get_id()
    opts = RunOptions(Path(sources_file), Path(db_path), ids, max_parallel=max_parallel, lock_timeout=lock_timeout,
                      flow_run={"id": run_id, "name": flow_run.get_name(), "url": ui_url("flow-run", run_id)},
                      crawl_concurrency=crawl_concurrency)
    await asyncio.to_thread(runner.prepare, opts)
    if crawl_concurrency is None:
        outcomes = await asyncio.gather(*(one(sid) for sid in ids))
    else:
        outcomes = await _batched(opts, ids, one)
    summary = await asyncio.to_thread(runner.finish, opts, dict(zip(ids, outcomes)))
    summary["report"]["artifacts"] = await publish_report(summary["report"]["markdown"], summary["report"]["flags"],
                                                          summary["run_ids"])
    if summary["status"] != "ok":
        raise PipelineFailed(summary["message"], summary)
    return summary


async def _batched(opts: RunOptions, ids: list[str], one: Any) -> list[dict[str, Any]]:
    """The batch crawl as one task; each crawled source's subflow starts as soon as the batch reports it.
    Sources whose lock another run holds get a subflow of their own at once (it waits for the lock)."""
    loop = asyncio.get_running_loop()
    batch = await asyncio.to_thread(runner.Batch, opts, ids)
    started: dict[str, asyncio.Future[dict[str, Any]]] = {sid: asyncio.ensure_future(one(sid)) for sid in batch.busy}

    def crawled(source_id: str) -> None:  # from the batch's reader thread
        def begin() -> None:
            if source_id not in started:
                started[source_id] = asyncio.ensure_future(one(source_id, True))

        try:
            loop.call_soon_threadsafe(begin)
        except RuntimeError:  # the loop is closing (the run was interrupted)
            pass

    try:
        locked = batch.locked
        if locked:
            await asyncio.to_thread(crawl_batch_task, len(locked), batch.concurrency, lambda: batch.crawl(crawled))
        await asyncio.sleep(0)  # the last begin() calls the batch scheduled run now
        for sid in ids:  # every source has its subflow (the batch reports each one once)
            if sid not in started:
                started[sid] = asyncio.ensure_future(one(sid, True))
        return list(await asyncio.gather(*(started[sid] for sid in ids)))
    finally:
        batch.close()
