"""The machine's ceiling for the scale benchmark (``benchmarks/scale.py`` case s): Scrapy alone, no wardwatch.

Crawls a registry's sources the way `wardwatch crawl --concurrency N` does — one crawler per source, at most N at
a time in one process, one request at a time per host, the source's delay, robots.txt, AutoThrottle — but with a
spider that only follows the index's links and drops every response: no staging, no warehouse, no middlewares of
ours (Scrapy's settings tuned as in ``spiders/settings.py``). What it reaches is what Scrapy itself can do on this machine; wardwatch's figures are read against it.

    python -m benchmarks.scrapy_ceiling --sources sources.toml [--concurrency 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import Crawler, CrawlerProcess

from spiders.municipal import MunicipalSpider
from spiders.registry import Source, load_sources


class LinkSpider(MunicipalSpider):
    """wardwatch's spider (same requests, same link selection) minus the captures: nothing is staged or stored."""

    name = "ceiling"

    def parse(self, response: Any) -> Iterator[scrapy.Request]:
        if response.headers.get(b"Content-Type", b"").startswith(b"text/html"):
            for link in self.links(response.url, response.text, response.meta.get("ww_depth", 0)):
                yield self.request(link, referer=response.url)


def settings_for(source: Source) -> dict[str, Any]:
    return {
        "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": source.delay_seconds, "RANDOMIZE_DOWNLOAD_DELAY": source.delay_seconds > 0,
        "AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_START_DELAY": source.delay_seconds,
        "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False, "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "COOKIES_ENABLED": False, "CONCURRENT_ITEMS": 4,  # as spiders/settings.py: Scrapy tuned the same way
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", type=Path, required=True)
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args(argv)
    sources = load_sources(args.sources)
    process = CrawlerProcess({"REACTOR_THREADPOOL_MAXSIZE": max(10, min(args.concurrency + 4, 128))})
    waiting = list(sources)
    state = {"running": 0, "installed": False}

    def launch() -> None:
        while waiting and state["running"] < args.concurrency:
            source = waiting.pop(0)
            crawler = Crawler(LinkSpider, settings_for(source), init_reactor=not state["installed"])
            state["installed"] = True
            state["running"] += 1
            process.crawl(crawler, source=source).addBoth(finished)
        if not waiting and not state["running"]:
            from twisted.internet import reactor  # installed by the first crawler (asyncio), not before

            reactor.callLater(0, reactor.stop)

    def finished(result: Any) -> None:
        from twisted.internet import reactor
        from twisted.python.failure import Failure

        if isinstance(result, Failure):
            print(f"a crawl failed: {result.getErrorMessage()}", file=sys.stderr)
        state["running"] -= 1
        reactor.callLater(0, launch)

    t0 = time.perf_counter()
    launch()
    process.start(stop_after_crawl=False)
    print(f"{len(sources)} sources in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
