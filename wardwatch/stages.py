"""The pipeline's stages as plain functions over a warehouse path.

Flows (``flows/``) and the CLI call these; each stage is safe to call repeatedly in one
long-lived process (the crawl runs in a child process because Scrapy's reactor cannot
restart). Every stage returns a JSON-serialisable summary dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardwatch.subproc import crawl_subprocess


class TerminalStageError(RuntimeError):
    """A failure that retrying will not fix (bad registry entry, unparseable input)."""


class TransientStageError(RuntimeError):
    """A failure worth retrying (timeouts, 5xx, connection resets, a warehouse lock)."""


TRANSIENT_KINDS = {"timeout", "connection", "connection_refused", "truncated", "robots_unavailable", "http_500", "http_502",
                   "http_503", "http_504", "http_429"}
# "dns" is not here: the crawl already retried it with backoff, and a host that does not resolve
# (or no network at all) should be reported at once, not after minutes of flow-level retries.


def crawl_stage(sources_file: Path, db_path: Path, source_id: str, timeout: float | None = 3600) -> dict[str, Any]:
    """Crawl one source in a child process.

    Raises TransientStageError when the source was unreachable for a transient reason,
    TerminalStageError for anything else that made the source fail (e.g. robots.txt
    disallows every start URL), so a flow can retry only what is worth retrying.
    """
    from wardwatch.registry import RegistryError, load_sources, select

    try:
        select(load_sources(sources_file), [source_id])
    except RegistryError as exc:
        raise TerminalStageError(str(exc)) from None
    result = crawl_subprocess(Path(sources_file), Path(db_path), [source_id], timeout=timeout)
    (summary,) = [s for s in result["sources"] if s["source_id"] == source_id] or [None]
    if summary is None or summary["status"] == "ok":
        return result
    kinds = set(summary.get("error_kinds") or {})
    reason = f"{source_id}: {summary['reason']}"
    if kinds and kinds <= TRANSIENT_KINDS:
        raise TransientStageError(reason)
    raise TerminalStageError(reason)


def extract_stage(db_path: Path, source_id: str | None = None) -> dict[str, Any]:
    """Extract facts from every stored version that has none for the current extractor."""
    try:
        from warehouse.facts import extract_pending
    except ImportError:  # the extraction stage has not landed yet
        return {"extracted": 0, "skipped": "extraction stage not available"}
    return extract_pending(Path(db_path), source_id=source_id)


def diff_stage(db_path: Path, source_id: str | None = None) -> dict[str, Any]:
    """Diff new versions against their baselines and open/close flags."""
    try:
        from warehouse.changes import detect_changes
    except ImportError:
        return {"changes": 0, "flags_opened": 0, "flags_closed": 0, "skipped": "change stage not available"}
    return detect_changes(Path(db_path), source_id=source_id)


def report_stage(db_path: Path, run_ids: list[str] | None = None) -> dict[str, Any]:
    """A Markdown change report and the open flags as table rows."""
    try:
        from wardwatch.reporting import markdown_report, open_flag_rows
    except ImportError:
        return {"markdown": "# wardwatch\n\nNo report stage yet.\n", "flags": [], "changes": 0}
    return {"markdown": markdown_report(Path(db_path), run_ids=run_ids), "flags": open_flag_rows(Path(db_path))}
