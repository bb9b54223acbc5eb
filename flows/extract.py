"""Task: extract facts from a source's new versions (wardwatch.stages.extract_stage)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.retry import RETRY_DELAYS, retry_transient
from wardwatch import stages


@task(name="extract", task_run_name="extract-{source_id}", retries=len(RETRY_DELAYS), retry_delay_seconds=RETRY_DELAYS,
      retry_jitter_factor=0.2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
async def extract(db_path: str, source_id: str) -> dict[str, Any]:
    summary = await asyncio.to_thread(stages.extract_stage, Path(db_path), source_id)
    get_run_logger().info("extract: %s", summary)
    return summary
