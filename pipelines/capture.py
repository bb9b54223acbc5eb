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

    def __init__(self, db_path: Path, folder: Path, run_id: str, batch: int = 50, interval_s: float = 10.0):
        self.db_path = db_path
        self.folder = folder
        self.run_id = run_id
        self.batch = batch
        self.interval_s = interval_s
        self._staged = 0
        self._last_load = time.monotonic()

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
        self._staged += 1
        if self._staged >= self.batch or time.monotonic() - self._last_load > self.interval_s:
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        self._staged = 0
        self._last_load = time.monotonic()
        try:
            load_pending(self.db_path, self.folder)
        except WarehouseError as exc:  # captures stay staged; the run's final load retries
            log.warning("warehouse load deferred: %s", exc)
