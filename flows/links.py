"""Prefect UI links, when a UI exists (a configured server or Cloud; not the ephemeral local mode)."""

from __future__ import annotations

TEMPORARY_SERVER_ENV = "WARDWATCH_PREFECT_TEMPORARY"  # set while `wardwatch run` uses a server it started


def ui_url(kind: str, object_id: str | None) -> str | None:
    """``ui_url("flow-run", id)`` / ``ui_url("artifact", id)`` -> URL, or None without a UI."""
    import os

    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    if not object_id or not PREFECT_API_URL.value():  # ephemeral server: gone when the process exits
        return None
    if os.environ.get(TEMPORARY_SERVER_ENV):  # `wardwatch run`'s own API-only server, stopped after the run
        return None
    base = PREFECT_UI_URL.value()
    if not base:
        return None
    section = "runs" if kind == "flow-run" else "artifacts"
    return f"{base.rstrip('/')}/{section}/{kind}/{object_id}"
