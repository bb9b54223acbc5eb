"""Task: tell a webhook (Slack-compatible JSON) when a run found fact changes or new flags.

A failing webhook (refused, HTTP error, timeout) only logs a warning: it never fails the run.
The URL comes from WARDWATCH_WEBHOOK_URL (the CLI's ``--webhook`` sets it), so it is not stored
as a flow parameter in Prefect's database.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.links import ui_url
from flows.webhook import WEBHOOK_ENV, post_json, webhook_body


@task(name="notify", cache_policy=NO_CACHE)
async def notify(per_source: dict[str, dict[str, Any]], run_ids: list[str]) -> bool:
    """POST when any source has changes or new flags and a webhook is configured; True if delivered."""
    from prefect.runtime import flow_run

    logger = get_run_logger()
    url = os.environ.get(WEBHOOK_ENV)
    if not url or not any((d.get("changes") or d.get("flags_opened")) for d in per_source.values()):
        return False
    body = webhook_body(per_source, run_ids, flow_run.get_id(), ui_url("flow-run", flow_run.get_id()))
    error = await asyncio.to_thread(post_json, url, body)
    if error:
        logger.warning("webhook not delivered (the run goes on): %s", error)
        return False
    logger.info("webhook delivered: %s", body["text"])
    return True
