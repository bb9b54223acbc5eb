"""A Slack-compatible JSON note to a webhook (no Prefect import: usable with `--no-prefect` too).

The body is generic JSON with a Slack ``text`` line plus structured fields. Posting never raises:
a refused connection, an HTTP error or a timeout comes back as a one-line reason.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

WEBHOOK_ENV = "WARDWATCH_WEBHOOK_URL"
TIMEOUT_S = 10.0


def webhook_body(per_source: dict[str, dict[str, Any]], run_ids: list[str], flow_run_id: str | None,
                 flow_run_url: str | None) -> dict[str, Any]:
    """A generic JSON body with a Slack ``text`` line plus structured fields."""
    rows = [{"source_id": sid, "changes": d.get("changes") or 0, "flags_opened": d.get("flags_opened") or 0}
            for sid, d in per_source.items()]
    changes = sum(r["changes"] for r in rows)
    flags = sum(r["flags_opened"] for r in rows)
    where = ", ".join(f"{r['source_id']} ({r['changes']}/{r['flags_opened']})" for r in rows if r["changes"] or r["flags_opened"])
    text = f"wardwatch: {changes} fact change(s), {flags} new flag(s) — {where}"
    if flow_run_url or flow_run_id:
        text += f" · flow run {flow_run_url or flow_run_id}"
    return {"text": text, "event": "wardwatch.changes", "changes": changes, "flags_opened": flags, "sources": rows,
            "run_ids": run_ids, "flow_run_id": flow_run_id, "flow_run_url": flow_run_url}


def post_json(url: str, body: dict[str, Any], timeout: float = TIMEOUT_S) -> str | None:
    """POST ``body``; None when it was accepted, else why not (never raises)."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "wardwatch/0.1 (webhook)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        return None
    except Exception as exc:  # URLError, HTTPError, TimeoutError, ValueError (bad URL), ...
        return f"{type(exc).__name__}: {exc}"


def notify(url: str | None, per_source: dict[str, dict[str, Any]], run_ids: list[str], flow_run_id: str | None = None,
           flow_run_url: str | None = None, log: Any = None) -> bool:
    """POST when any source has fact changes or new flags and a webhook URL is given; True if delivered.
    A failing webhook never fails the run: ``log`` (a logger) gets a warning."""
    if not url or not any((d.get("changes") or d.get("flags_opened")) for d in per_source.values()):
        return False
    body = webhook_body(per_source, run_ids, flow_run_id, flow_run_url)
    error = post_json(url, body)
    if log is not None:
        if error:
            log.warning("webhook not delivered (the run goes on): %s", error)
        else:
            log.info("webhook delivered: %s", body["text"])
    return error is None
