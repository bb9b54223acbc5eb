"""The crawl stage: one crawl of some registry sources into the warehouse.

Scrapy's Twisted reactor cannot be restarted, so :func:`crawl` runs at most once per process
(``wardwatch crawl``); the runner and every long-lived caller crawl in a child process through
:func:`crawl_subprocess` / :func:`crawl_stage` (``wardwatch crawl --format json``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spiders.registry import RegistryError, Source, load_sources, select
from wardwatch.stages.errors import TRANSIENT_KINDS, TerminalStageError, TransientStageError
from warehouse import read, runs, schema
from warehouse.db import staging_dir
from warehouse.load import LoadCounts, load_pending
from warehouse.locks import hold, lock_path


@dataclass
class CrawlResult:
    run_id: str
    status: str  # "ok" | "partial" | "failed"
    sources: list[dict[str, Any]] = field(default_factory=list)
    resumed: int = 0  # captures left by an interrupted crawl, loaded first
    log_file: str | None = None

    @property
    def failed_sources(self) -> list[dict[str, Any]]:
        return [s for s in self.sources if s["status"] == "failed"]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def prepare(db_path: Path) -> int:
    """Migrate, mark interrupted runs, load captures a killed crawl left behind."""
    schema.migrate(db_path)
    runs.close_abandoned_runs(db_path)
    return load_pending(db_path, staging_dir(db_path)).fetched


def crawl(sources: list[Source], db_path: Path, *, run_id: str | None = None, progress: Any = None,
          extra_settings: dict[str, Any] | None = None) -> CrawlResult:
    db_path = Path(db_path)
    run_id = run_id or runs.new_run_id()
    try:
        with hold(db_path, runs.run_lock_name(run_id), timeout=0):  # marks the run alive while this process lives
            return _crawl(sources, db_path, run_id, progress, extra_settings or {})
    finally:
        lock_path(db_path, runs.run_lock_name(run_id)).unlink(missing_ok=True)  # run ids are never reused


def _crawl(sources: list[Source], db_path: Path, run_id: str, progress: Any, extra_settings: dict[str, Any]) -> CrawlResult:
    from scrapy.crawler import Crawler, CrawlerProcess

    from spiders.municipal import MunicipalSpider
    from spiders.settings import for_source

    resumed = prepare(db_path)
    runs.upsert_sources(db_path, [s.to_row() for s in sources])
    runs.start_run(db_path, run_id, [s.id for s in sources])
    log_dir = db_path.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"crawl-{run_id}.log"
    common = {"LOG_FILE": str(log_file), "LOG_FILE_APPEND": True, "WARDWATCH_PROGRESS": progress, **extra_settings}
    process = CrawlerProcess(settings=common)
    for i, source in enumerate(sources):
        settings = for_source(source, db_path=db_path, staging=staging_dir(db_path), run_id=run_id, extra=common)
        process.crawl(Crawler(MunicipalSpider, settings, init_reactor=(i == 0)), source=source)
    try:
        process.start()
    finally:
        counts = load_pending(db_path, staging_dir(db_path))
        if progress is not None:
            progress.finish()
    return _finish(db_path, run_id, sources, counts, resumed, str(log_file))


def _finish(db_path: Path, run_id: str, sources: list[Source], counts: LoadCounts, resumed: int, log_file: str) -> CrawlResult:
    by_id = {s.source_id: s for s in read.run_summary(db_path, run_id)}
    rows = []
    for source in sources:
        s = by_id.get(source.id)
        if s is None:
            rows.append({"source_id": source.id, "status": "failed", "reason": "nothing was fetched", "fetched": 0,
                         "new_versions": 0, "unchanged": 0, "not_modified": 0, "errors": 0, "error_kinds": {}})
            continue
        status = "ok" if s.reachable else "failed"
        reason = None
        if not s.reachable:
            kind = max(s.error_kinds, key=s.error_kinds.get) if s.error_kinds else "unknown"
            reason = f"unreachable ({kind}): {s.first_error or kind}"
        rows.append({"source_id": s.source_id, "status": status, "reason": reason, "fetched": s.fetched,
                     "new_versions": s.new_versions, "unchanged": s.unchanged, "not_modified": s.not_modified,
                     "errors": s.errors, "error_kinds": s.error_kinds})
    failed = sum(r["status"] == "failed" for r in rows)
    status = "ok" if failed == 0 else ("failed" if failed == len(rows) else "partial")
    message = None if failed == 0 else f"{failed} of {len(rows)} sources failed"
    runs.finish_run(db_path, run_id, counts, status, message)
    return CrawlResult(run_id=run_id, status=status, sources=rows, resumed=resumed, log_file=log_file)


class CrawlProcessError(RuntimeError):
    pass


def crawl_subprocess(sources_file: Path, db_path: Path, source_ids: list[str] | None = None,
                     timeout: float | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`wardwatch crawl --format json` in a child; returns its JSON result.

    A run where some sources failed still returns its result (status "partial"/"failed");
    a child that died or printed no result raises CrawlProcessError with its last stderr line.
    """
    cmd = [sys.executable, "-m", "wardwatch", "crawl", "--sources", str(sources_file), "--db", str(db_path), "--format", "json"]
    for sid in source_ids or []:
        cmd += ["--source", sid]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise CrawlProcessError(f"crawl process failed: {last}") from None


def crawl_stage(sources_file: Path, db_path: Path, source_id: str, timeout: float | None = 3600) -> dict[str, Any]:
    """Crawl one source in a child process.

    Raises TransientStageError when the source was unreachable for a transient reason,
    TerminalStageError for anything else that made the source fail (e.g. robots.txt
    disallows every start URL), so a flow can retry only what is worth retrying.
    """
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
