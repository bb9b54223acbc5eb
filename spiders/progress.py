"""A Scrapy extension feeding a live progress display (terminal only)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

from scrapy import signals


class ProgressDisplay:
    """One status line on stderr, shared by every source's crawler in a process."""

    def __init__(self, stream: Any = None, min_interval: float = 0.25):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.counts: Counter = Counter()
        self.started = time.monotonic()
        self.min_interval = min_interval
        self._last = 0.0

    def __deepcopy__(self, memo: dict) -> ProgressDisplay:
        return self  # Scrapy deep-copies settings; every crawler must share this one display

    def record(self, outcome: str) -> None:
        self.counts[outcome] += 1
        now = time.monotonic()
        if self.enabled and now - self._last >= self.min_interval:
            self._last = now
            c = self.counts
            line = (f"\r[{now - self.started:5.0f}s] fetched {sum(c.values())} · pages {c['ok']} · "
                    f"304 {c['not_modified']} · errors {c['error']}")
            self.stream.write(line.ljust(70))
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.counts:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


class ProgressExtension:
    def __init__(self, display: ProgressDisplay | None):
        self.display = display

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressExtension:
        ext = cls(crawler.settings.get("WARDWATCH_PROGRESS"))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def item_scraped(self, item: Any) -> None:
        if self.display is None:
            return
        if getattr(item, "not_modified", False):
            self.display.record("not_modified")
        elif getattr(item, "error_kind", None):
            self.display.record("error")
        else:
            self.display.record("ok")
