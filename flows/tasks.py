"""Prefect tasks over the runner: each pipeline stage of a source as a task (one retry policy),
and the report's artifacts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.retry import JITTER, RETRY_DELAYS, retry_transient

REPORT_KEY = "wardwatch-report"
FLAGS_KEY = "wardwatch-open-flags"


@task(name="stage", task_run_name="{stage}-{source_id}", retries=len(RETRY_DELAYS), retry_delay_seconds=RETRY_DELAYS,
      retry_jitter_factor=JITTER, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
def stage_task(stage: str, source_id: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One stage of one source (``fn`` is the runner's call of it); transient failures are retried."""
    result = fn()
    get_run_logger().info("%s %s: %s", stage, source_id, _counts(result))
    return result


def prefect_step(stage: str, source_id: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The runner's ``step`` under Prefect."""
    return stage_task(stage, source_id, fn)


@task(name="crawl-batch", task_run_name="crawl-{count}-sources", cache_policy=NO_CACHE)
def crawl_batch_task(count: int, concurrency: int, fn: Callable[[], None]) -> None:
    """The one crawl child of a batch (``fn`` is ``runner.Batch.crawl``): ``count`` sources, ``concurrency`` at
    a time. Not retried as a whole: a source whose crawl failed transiently is retried alone by its own
    subflow's crawl task."""
    fn()
    get_run_logger().info("crawled %d source(s), up to %d at a time, in one crawl process", count, concurrency)


@task(name="publish-report", cache_policy=NO_CACHE)
async def publish_report(markdown: str, flags: list[dict[str, Any]], run_ids: list[str]) -> dict[str, str]:
    """The change report (Markdown) and the open flags (table) as artifacts; returns their ids by key."""
    runs = ", ".join(run_ids) or "no successful crawl"
    rows = json.loads(json.dumps(flags or [], default=str))  # dates etc. as text
    report_id = await acreate_markdown_artifact(markdown=markdown or "", key=REPORT_KEY,
                                                description=f"wardwatch change report ({runs})")
    flags_id = await acreate_table_artifact(table=rows, key=FLAGS_KEY, description=f"open flags after {runs}")
    get_run_logger().info("report: %d open flag(s); artifacts %s, %s", len(rows), REPORT_KEY, FLAGS_KEY)
    return {REPORT_KEY: str(report_id), FLAGS_KEY: str(flags_id)}


def _counts(result: dict[str, Any]) -> str:
    if "sources" in result:  # a crawl
        row = next(iter(result.get("sources") or []), {})
        return (f"run {result.get('run_id')}: {row.get('fetched')} fetched, {row.get('new_versions')} new, "
                f"{row.get('unchanged')} unchanged, {row.get('not_modified')} not modified, {row.get('errors')} errors")
    return ", ".join(f"{k} {v}" for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
