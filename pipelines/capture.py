"""Item pipeline: stage every capture on disk, load into the warehouse in short batches."""

from __future__ import annotations

import logging
import sys
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
        self._state = self._shared.setdefault(str(folder), {"staged": 0, "last": time.monotonic(), "last_batch": 0.0,
                                                            "open": 0})
        self._state["open"] += 1  # crawlers of this process (and folder) whose spider has not closed

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
        self._maybe_flush()
        return item

    def _maybe_flush(self) -> None:
        now = time.monotonic()
        if ((self._state["staged"] >= self.batch and now - self._state["last_batch"] >= self.MIN_GAP_S)
                or (self._state["staged"] and now - self._state["last"] > self.interval_s)):
            self.flush()

    def close_spider(self) -> Any:
        """The last crawler of the process to close loads whatever is staged; the others load only when the
        process's batch is due (a load per closing crawler opened the warehouse once per source, which kept a
        process serving many sources busy). What they leave staged is loaded by the next batch, by the crawl
        stage's report of finished sources or its final load (after a kill -9, by the next run)."""
        self._state["open"] -= 1
        if self._state["open"] <= 0:
            return self.flush(last=True)
        self._maybe_flush()
        return None

    def flush(self, last: bool = False) -> Any:
        """Load what is staged. While the reactor runs, the load runs in its thread pool (DuckDB works without
        the GIL, so the crawl goes on meanwhile; one load at a time per process: captures staged during a load
        wait for the next) and a Deferred is returned; otherwise it runs here."""
        reactor = _running_reactor()
        if reactor is None:
            self._mark_flushed()
            self._load()
            return None
        from twisted.internet import threads

        loading = self._state.get("loading")  # the Deferred of the load running in the thread pool, if any
        if loading is not None:  # a last flush follows it; a batch waits for the next
            return loading.addBoth(lambda _: self.flush(last=True)) if last else None
        self._mark_flushed()
        d = threads.deferToThreadPool(reactor, reactor.getThreadPool(), self._load)
        self._state["loading"] = d
        d.addBoth(lambda _: self._state.update(loading=None))
        return d

    def _mark_flushed(self) -> None:
        self._state["staged"] = 0
        self._state["last"] = self._state["last_batch"] = time.monotonic()

    def _load(self) -> None:
        try:
            load_pending(self.db_path, self.folder)
        except WarehouseError as exc:  # captures stay staged; the run's final load retries
            log.warning("warehouse load deferred: %s", exc)
        except Exception:  # never lose the crawl to a load: the captures stay staged for the final load
            log.exception("warehouse load failed; the captures stay staged in %s", self.folder)


def _running_reactor() -> Any:
    """The Twisted reactor when one is installed and running (a crawl), else None (never installs one)."""
    reactor = sys.modules.get("twisted.internet.reactor")
    return reactor if reactor is not None and getattr(reactor, "running", False) else None
