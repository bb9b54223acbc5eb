"""The main job, once: per source crawl → extract → diff and flag, then the report and the webhook.

This is the one run function. ``wardwatch run --no-prefect``, ``wardwatch demo`` and the Prefect
flows (``flows/pipeline.py``) all go through it:

* :func:`run_source` — one source under its file lock: the three stages, each through ``step``
  (directly by default; Prefect passes a ``step`` that runs each stage as a task with the retry
  policy, and wraps the whole call in one subflow per source);
* :func:`finish` — after every source: the change report (HTML file + Markdown), the open flags,
  the webhook note, the run's status;
* :func:`run` — both, with up to ``max_parallel`` sources at a time (each crawl is its own child
  process: Scrapy's reactor cannot restart within one process).

A source that fails is reported and the others go on. Results are JSON-ready dicts.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wardwatch.report import flag_rows, model_of, render_model
from wardwatch.stages.changes import detect_changes
from wardwatch.stages.crawl import crawl_stage
from wardwatch.stages.errors import SourceBusy
from wardwatch.stages.extract import extract_pending
from wardwatch.stages.notify import WEBHOOK_ENV, notify
from warehouse.locks import LockTimeout, hold, lock_path
from warehouse.schema import migrate

MAX_PARALLEL = 4  # sources crawled at the same time
LOCK_TIMEOUT_S = 3600.0  # how long a run waits for another run of the same source
log = logging.getLogger("wardwatch.run")

Step = Callable[[str, str, Callable[[], dict[str, Any]]], dict[str, Any]]


@dataclass
class RunOptions:
    sources_file: Path
    db_path: Path
    source_ids: list[str]
    webhook: str | None = None  # default: $WARDWATCH_WEBHOOK_URL
    max_parallel: int = MAX_PARALLEL
    lock_timeout: float = LOCK_TIMEOUT_S
    flow_run: dict[str, Any] = field(default_factory=dict)  # {"id", "name", "url"} when Prefect runs it
    on_wait: Callable[[str, Path], None] | None = None  # told when a source waits for another run's lock

    @property
    def webhook_url(self) -> str | None:
        return self.webhook or os.environ.get(WEBHOOK_ENV) or None


def direct(stage: str, source_id: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a stage in this thread (``--no-prefect``, the demo)."""
    return fn()


def run_source(opts: RunOptions, source_id: str, step: Step = direct,
               on_wait: Callable[[Path], None] | None = None) -> dict[str, Any]:
    """crawl → extract → diff and flag for one source, holding its lock; raises when a stage failed."""
    db = Path(opts.db_path)
    if on_wait is None and opts.on_wait is not None:
        on_wait = lambda path: opts.on_wait(source_id, path)
    with _source_lock(db, source_id, opts.lock_timeout, on_wait):
        crawled = step("crawl", source_id, lambda: crawl_stage(Path(opts.sources_file), db, source_id))
        extracted = step("extract", source_id, lambda: extract_pending(db, source_id=source_id))
        diffed = step("diff", source_id, lambda: detect_changes(db, source_id=source_id))
    return {"crawl": crawled, "extract": extracted, "diff": diffed}


@contextlib.contextmanager
def _source_lock(db: Path, source_id: str, timeout: float, on_wait: Callable[[Path], None] | None) -> Iterator[None]:
    """One run per source at a time (an OS file lock, shared by every mode; released if we die)."""
    try:
        lock = hold(db, source_id, timeout=timeout, on_wait=on_wait)
        lock.__enter__()
    except LockTimeout:
        raise SourceBusy(f"{source_id}: another run of this source is still going "
                         f"(waited {timeout:.0f}s for {lock_path(db, source_id)})") from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def outcome(source_id: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``{"status": "ok", ...}`` from ``fn()``, or why that source failed, on one line."""
    try:
        return {"status": "ok", **fn()}
    except Exception as exc:
        return failure(source_id, exc)


def failure(source_id: str, exc: BaseException) -> dict[str, Any]:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].removeprefix(f"{source_id}: ")
    return {"status": "failed", "error": type(exc).__name__, "reason": reason}


def report_stage(db_path: Path, run_ids: list[str] | None = None) -> dict[str, Any]:
    """The run's change report: an HTML file in ``<db dir>/reports/``, its Markdown, the open flags."""
    db_path = Path(db_path)
    folder = db_path.parent / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    name = (run_ids[0] if run_ids else datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")) + ".html"
    path = folder / name
    model = model_of(db_path, run_ids=run_ids)  # read once, rendered twice
    path.write_text(render_model(model, "html"), encoding="utf-8")
    return {"markdown": render_model(model, "md"), "flags": flag_rows(model), "path": str(path)}


def finish(opts: RunOptions, sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The report, the webhook note and the run's status, after every source ran."""
    run_ids = [s["crawl"]["run_id"] for s in sources.values() if s["status"] == "ok" and s["crawl"].get("run_id")]
    report = report_stage(Path(opts.db_path), run_ids or None)
    diffs = {sid: s["diff"] for sid, s in sources.items() if s["status"] == "ok"}
    notified = notify(opts.webhook_url, diffs, run_ids, opts.flow_run.get("id"), opts.flow_run.get("url"), log=log)
    failed = [(sid, s) for sid, s in sources.items() if s["status"] == "failed"]
    status = "ok" if not failed else ("failed" if len(failed) == len(sources) else "partial")
    message = None
    if failed:
        message = f"{len(failed)} of {len(sources)} sources failed (first: {failed[0][0]}: {failed[0][1]['reason']})"
    return {"status": status, "message": message, "sources": sources, "run_ids": run_ids,
            "report": {"open_flags": len(report["flags"]), "path": report["path"], "markdown": report["markdown"],
                       "flags": report["flags"], "artifacts": {}},
            "notified": notified, "flow_run": {"id": opts.flow_run.get("id"), "name": opts.flow_run.get("name")}}


def prepare(opts: RunOptions) -> None:
    """Create or upgrade the warehouse once, before sources run in parallel (parallel crawl processes
    creating the same new file would read each other's half-written header)."""
    migrate(Path(opts.db_path))


def run(opts: RunOptions, step: Step = direct) -> dict[str, Any]:
    """Every source of ``opts`` (up to ``max_parallel`` at a time), then :func:`finish`."""
    prepare(opts)
    ids = list(dict.fromkeys(opts.source_ids))
    with ThreadPoolExecutor(max_workers=max(1, min(opts.max_parallel, len(ids) or 1))) as pool:
        outcomes = list(pool.map(lambda sid: outcome(sid, lambda: run_source(opts, sid, step)), ids))
    return finish(opts, dict(zip(ids, outcomes)))
