"""Task: diff a source's new versions and open/close flags (wardwatch.stages.diff_stage)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.retry import RETRY_DELAYS, retry_transient
from wardwatch import stages


@task(name="diff-and-flag", task_run_name="diff-and-flag-{source_id}", retries=len(RETRY_DELAYS),
      retry_delay_seconds=RETRY_DELAYS, retry_jitter_factor=0.2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
async def diff_and_flag(db_path: str, source_id: str) -> dict[str, Any]:
    summary = await asyncio.to_thread(stages.diff_stage, Path(db_path), source_id)
    get_run_logger().info("diff: %s change(s), %s flag(s) opened, %s closed", summary.get("changes"),
                          summary.get("flags_opened"), summary.get("flags_closed"))
    return summary
