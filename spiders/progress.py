"""A Scrapy extension feeding the crawl's progress display: a live status line (terminal only) and
one line per source as it finishes (any stream: a terminal, a pipe, a log)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

from scrapy import signals


def source_line(index: int, total: int, source_id: str, fetched: int, errors: int, kinds: dict[str, int] | Counter,
                seconds: float | None = None, status: str | None = None, detail: str | None = None) -> str:
    """``[ 2/12] kita-hitorioya: failed — 4 fetched, 4 errors (dns 4), 16s: detail`` — the per-source
    progress line of `wardwatch crawl` and `wardwatch run`."""
    width = len(str(total))
    counts = f"{fetched} fetched, {errors} error{'s' if errors != 1 else ''}"
    if kinds:
        counts += " (" + ", ".join(f"{k} {n}" for k, n in Counter(kinds).most_common()) + ")"
    line = f"[{index:>{width}}/{total}] {source_id}: " + (f"{status} — " if status else "") + counts
    if seconds is not None:
        line += f", {seconds:.0f}s"
    return line + (f": {detail}" if detail else "")


class ProgressDisplay:
    """Shared by every source's crawler in a process: one live status line on ``stream`` (stderr) when it
    is a terminal, and — when ``lines`` is given — a "starting" line and one line per finished source."""

    def __init__(self, stream: Any = None, min_interval: float = 0.25, lines: Any = None):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.lines = lines
        self.counts: Counter = Counter()
        self.by_source: dict[str, Counter] = {}
        self.kinds: dict[str, Counter] = {}
        self.started = time.monotonic()
        self.min_interval = min_interval
        self.total = 0
        self.done = 0
        self._last = 0.0
        self._shown = False

    def __deepcopy__(self, memo: dict) -> ProgressDisplay:
        return self  # Scrapy deep-copies settings; every crawler must share this one display

    def starting(self, source_ids: list[str]) -> None:
        """The first line of a crawl, printed at once (resolving hosts and robots.txt take a while)."""
        self.total = len(source_ids)
        shown = ", ".join(source_ids[:5]) + (f" and {len(source_ids) - 5} more" if len(source_ids) > 5 else "")
        self._line(f"starting {self.total} source(s): {shown} … (a line per source as it finishes)")

    def record(self, outcome: str, source_id: str | None = None, error_kind: str | None = None) -> None:
        self.counts[outcome] += 1
        if source_id is not None:
            self.by_source.setdefault(source_id, Counter())[outcome] += 1
            if outcome == "error":
                self.kinds.setdefault(source_id, Counter())[error_kind or "unknown"] += 1
        now = time.monotonic()
        if self.enabled and now - self._last >= self.min_interval:
            self._last = now
            c = self.counts
            line = (f"\r[{now - self.started:5.0f}s] fetched {sum(c.values())} · pages {c['ok']} · "
                    f"304 {c['not_modified']} · errors {c['error']}")
            self.stream.write(line.ljust(70))
            self.stream.flush()
            self._shown = True

    def source_done(self, source_id: str, reason: str | None = None) -> None:
        """One source's spider closed: its line (fetched, errors by kind, time since the crawl began)."""
        self.done += 1
        c = self.by_source.get(source_id, Counter())
        detail = None if reason in (None, "finished") else f"spider closed: {reason}"
        self._line(source_line(self.done, max(self.total, self.done), source_id, sum(c.values()), c["error"],
                               self.kinds.get(source_id, Counter()), time.monotonic() - self.started, detail=detail))

    def finish(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()
            self._shown = False

    def _line(self, text: str) -> None:
        if self.lines is None:
            return
        from extractors.termsafe import terminal_safe

        self._clear()
        try:
            self.lines.write(terminal_safe(text, keep_newlines=False) + "\n")
            self.lines.flush()
        except (OSError, ValueError):  # a closed pipe: progress is not worth failing the crawl for
            self.lines = None


class ProgressExtension:
    def __init__(self, display: ProgressDisplay | None):
        self.display = display

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressExtension:
        ext = cls(crawler.settings.get("WARDWATCH_PROGRESS"))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item: Any) -> None:
        if self.display is None:
            return
        source_id = getattr(item, "source_id", None)
        if getattr(item, "not_modified", False):
            self.display.record("not_modified", source_id)
        elif getattr(item, "error_kind", None):
            self.display.record("error", source_id, item.error_kind)
        else:
            self.display.record("ok", source_id)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.display is None or not hasattr(self.display, "source_done"):
            return
        source = getattr(spider, "source", None)
        self.display.source_done(getattr(source, "id", None) or getattr(spider, "name", "?"), reason)
