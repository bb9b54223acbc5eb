"""Task: crawl one source (a child process per crawl; see wardwatch.stages.crawl_stage)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.retry import RETRY_DELAYS, retry_transient
from wardwatch import stages


@task(name="crawl", task_run_name="crawl-{source_id}", retries=len(RETRY_DELAYS), retry_delay_seconds=RETRY_DELAYS,
      retry_jitter_factor=0.2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
async def crawl(sources_file: str, db_path: str, source_id: str) -> dict[str, Any]:
    result = await asyncio.to_thread(stages.crawl_stage, Path(sources_file), Path(db_path), source_id)
    row = next((s for s in result.get("sources", []) if s["source_id"] == source_id), {})
    get_run_logger().info("crawl run %s: %s fetched, %s new, %s unchanged, %s not modified, %s errors",
                          result.get("run_id"), row.get("fetched"), row.get("new_versions"), row.get("unchanged"),
                          row.get("not_modified"), row.get("errors"))
    return result
