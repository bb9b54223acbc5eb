"""Task: the run's change report and open flags, published as Prefect artifacts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.retry import RETRY_DELAYS, retry_transient
from wardwatch import stages

REPORT_KEY = "wardwatch-report"
FLAGS_KEY = "wardwatch-open-flags"


@task(name="report", retries=len(RETRY_DELAYS), retry_delay_seconds=RETRY_DELAYS, retry_jitter_factor=0.2,
      retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
async def report(db_path: str, run_ids: list[str]) -> dict[str, Any]:
    out = await asyncio.to_thread(stages.report_stage, Path(db_path), run_ids or None)
    flags = json.loads(json.dumps(out.get("flags") or [], default=str))  # dates etc. as text
    runs = ", ".join(run_ids) or "no successful crawl"
    report_id = await acreate_markdown_artifact(markdown=out.get("markdown") or "", key=REPORT_KEY,
                                                description=f"wardwatch change report ({runs})")
    flags_id = await acreate_table_artifact(table=flags, key=FLAGS_KEY, description=f"open flags after {runs}")
    get_run_logger().info("report: %d open flag(s); artifacts %s, %s", len(flags), REPORT_KEY, FLAGS_KEY)
    return {"open_flags": len(flags), "artifacts": {REPORT_KEY: str(report_id), FLAGS_KEY: str(flags_id)}}
