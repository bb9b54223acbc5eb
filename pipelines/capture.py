"""Item pipeline: stage every capture on disk, load into the warehouse in short batches."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from warehouse import staging
from warehouse.db import WarehouseError
from warehouse.load import load_pending

log = logging.getLogger(__name__)


class CapturePipeline:
    """Writes each :class:`~warehouse.staging.Capture` atomically, then loads batches.

    The DuckDB write lock is held only while a batch loads (a short transaction), so
    analysts and other runs can use the warehouse during a crawl.
    """

    MIN_GAP_S = 1.0  # at most one batch load per second per process, however many crawlers share it

    # One crawl process runs many crawlers (``--concurrency``), each with its own pipeline, all in the one
    # reactor thread: a load blocks every crawler. The counters are therefore shared per staging folder, so
    # the process loads one batch when *its* captures reach ``batch`` (or ``interval_s`` passed), not each
    # crawler on its own (200 crawlers flushing every 10 s spent most of the reactor's time in loads).
    _shared: dict[str, dict[str, float]] = {}

    def __init__(self, db_path: Path, folder: Path, run_id: str, batch: int = 50, interval_s: float = 10.0):
        self.db_path = db_path
        self.folder = folder
        self.run_id = run_id
        self.batch = batch
        self.interval_s = interval_s
        self._state = self._shared.setdefault(str(folder), {"staged": 0, "last": time.monotonic(), "last_batch": 0.0})

    @classmethod
    def from_crawler(cls, crawler: Any) -> CapturePipeline:
        s = crawler.settings
        return cls(
            Path(s["WARDWATCH_DB"]),
            Path(s["WARDWATCH_STAGING"]),
            s["WARDWATCH_RUN_ID"],
            batch=s.getint("WARDWATCH_LOAD_BATCH", 50),
            interval_s=s.getfloat("WARDWATCH_LOAD_INTERVAL", 10.0),
        )

    def open_spider(self) -> None:
        """Sweep what crashed or disk-full crawls left in the staging folder (``*.tmp``, bodies without metadata)."""
        if self.folder.is_dir():
            removed = staging.sweep(self.folder)
            if removed:
                log.info("removed %d orphan file(s) of interrupted writes from %s", len(removed), self.folder)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, staging.Capture):
            return item
        item.run_id = self.run_id
        staging.write(self.folder, item)
        item.body = None  # the bytes are on disk now; don't keep them in memory
        self._state["staged"] += 1
        now = time.monotonic()
        if ((self._state["staged"] >= self.batch and now - self._state["last_batch"] >= self.MIN_GAP_S)
                or now - self._state["last"] > self.interval_s):
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        self._state["staged"] = 0
        self._state["last"] = self._state["last_batch"] = time.monotonic()
        try:
            load_pending(self.db_path, self.folder)
        except WarehouseError as exc:  # captures stay staged; the run's final load retries
            log.warning("warehouse load deferred: %s", exc)
