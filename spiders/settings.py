"""Scrapy settings for one source's crawl: polite by default, components wired here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wardwatch import __version__
from wardwatch.registry import Source

PROJECT_URL = "https://github.com/wardwatch/wardwatch"
USER_AGENT = f"wardwatch/{__version__} (+{PROJECT_URL}; public-program change monitor)"

BASE: dict[str, Any] = {
    "BOT_NAME": "wardwatch",
    "USER_AGENT": USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    # Municipal servers are small: one request at a time per host, a few seconds apart.
    "CONCURRENT_REQUESTS": 8,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_DELAY": 3.0,
    "RANDOMIZE_DOWNLOAD_DELAY": True,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 3.0,
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_MAXSIZE": 32 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 8 * 1024 * 1024,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 2,
    "REDIRECT_MAX_TIMES": 5,
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "HTTPCACHE_ENABLED": False,
    "DEPTH_LIMIT": 0,  # depth is decided by spiders.links (PDFs are always fetched)
    "LOG_LEVEL": "INFO",
    "DOWNLOADER_MIDDLEWARES": {"spiders.middlewares.ConditionalGetMiddleware": 580},
    "ITEM_PIPELINES": {"pipelines.capture.CapturePipeline": 100},
    "EXTENSIONS": {"spiders.progress.ProgressExtension": 500},
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
}


def for_source(source: Source, *, db_path: Path, staging: Path, run_id: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings for one source's crawler (per-source politeness and caps)."""
    settings = dict(BASE)
    settings.update(
        {
            "DOWNLOAD_DELAY": source.delay_seconds,
            "AUTOTHROTTLE_START_DELAY": max(source.delay_seconds, 0.0),
            "RANDOMIZE_DOWNLOAD_DELAY": source.delay_seconds > 0,
            "CLOSESPIDER_PAGECOUNT": source.max_pages,
            "WARDWATCH_DB": str(db_path),
            "WARDWATCH_STAGING": str(staging),
            "WARDWATCH_RUN_ID": run_id,
            "WARDWATCH_SOURCE_ID": source.id,
        }
    )
    settings.update(extra or {})
    return settings
