"""Run one crawl of some registry sources into the warehouse (the CLI's `crawl` stage).

Scrapy's Twisted reactor cannot be restarted, so this runs at most once per process;
long-lived callers (Prefect flows, the scheduler) run it in a subprocess via
``wardwatch crawl --format json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wardwatch.registry import Source
from warehouse import read, runs, schema
from warehouse.db import staging_dir
from warehouse.load import LoadCounts, load_pending


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
    from warehouse.locks import hold, lock_path

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
