"""Scrapy settings for one source's crawl: polite by default, components wired here."""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

from spiders.registry import Source

PROJECT_URL = "https://github.com/wardwatch/wardwatch"
USER_AGENT = f"wardwatch/{version('wardwatch')} (+{PROJECT_URL}; public-program change monitor)"

# Scrapy's default extensions (EXTENSIONS_BASE, 2.19) that open a socket (a server, feed uploads) or write
# files outside the crawl's own folders: removed from the component list, on top of their settings below.
# (MemoryUsage stays: it only mails when MEMUSAGE_NOTIFY_MAIL is set; StatsMailer is not a default.)
NETWORK_EXTENSIONS = (
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.spiderstate.SpiderState",
)

BASE: dict[str, Any] = {
    "BOT_NAME": "wardwatch",
    "USER_AGENT": USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    # Municipal servers are small: one request at a time per host, a few seconds apart. These are per
    # crawler (each source has its own crawler, engine and downloader slots, also when one process runs
    # many sources at once: see process_settings); one source's hosts never see more than one request at a time.
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
    "HTTPCACHE_ENABLED": False,
    # Nothing network-facing besides the crawl itself (see NETWORK_EXTENSIONS): no telnet console, no
    # RemoteControl (Scrapy 2.19 turns it on by default: an HTTP server on 127.0.0.1 that runs any Python
    # it is sent, announced by a token file in the user's state directory that a kill -9 leaves behind),
    # no mail, no feed uploads, and only the http(s) download handlers.
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "MEMUSAGE_NOTIFY_MAIL": [],
    "STATSMAILER_RCPTS": [],
    "FEEDS": {},
    "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
    "DEPTH_LIMIT": 0,  # depth is decided by spiders.links (PDFs are always fetched)
    "LOG_LEVEL": "INFO",
    "URLLENGTH_LIMIT": 2083,
    "DNS_TIMEOUT": 20,
    "DOWNLOAD_FAIL_ON_DATALOSS": True,  # a body shorter than its Content-Length is an error (retried)
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
    # spiders.safety: backoff between retries, Retry-After (pausing the host), 429 slow-down
    "WARDWATCH_RETRY_BACKOFF": 2.0,
    "WARDWATCH_RETRY_BACKOFF_MAX": 60.0,
    "WARDWATCH_RETRY_AFTER_MAX": 300.0,
    "WARDWATCH_SLOWDOWN_MIN": 5.0,
    "DOWNLOADER_MIDDLEWARES": {
        "spiders.safety.SafetyMiddleware": 60,  # before robots.txt: refused hosts are never contacted
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "spiders.robots.RobotsTxtMiddleware": 100,
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "spiders.retry.BackoffRetryMiddleware": 550,
        "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
        "spiders.redirects.MetaRefreshMiddleware": 579,  # after ConditionalGet has put a 304's stored body back
        "spiders.middlewares.ConditionalGetMiddleware": 580,
        "spiders.redirects.RedirectGuardMiddleware": 650,  # sees 3xx before RedirectMiddleware (600)
    },
    "ITEM_PIPELINES": {"pipelines.capture.CapturePipeline": 100},
    "EXTENSIONS": {"spiders.progress.ProgressExtension": 500, **dict.fromkeys(NETWORK_EXTENSIONS)},
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    # Scrapy checks every callback for a generator returning a value by parsing its source (inspect + ast) on
    # every response: its cache is weakly keyed by the bound method, a new object per request, so it never
    # hits — ~10 % of a crawl process's CPU. The spider's callbacks are ours and tested (tests/spiders).
    "WARN_ON_GENERATOR_RETURN_VALUE": False,
    # Scrapy (2.19, asyncio reactor) starts CONCURRENT_ITEMS worker tasks for every response's output, however
    # little it yields: the default 100 made task creation a third of a many-source crawl process's CPU. The
    # spider yields one capture and its links, handled by a synchronous pipeline: a few workers are plenty.
    "CONCURRENT_ITEMS": 4,
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
    settings.update(env_overrides())
    settings.update(extra or {})
    return settings


DEFAULT_CONCURRENCY = 16  # sources (hosts) one crawl process crawls at once by default: sized for a laptop
MAX_THREADPOOL = 128


def process_settings(concurrency: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings of the crawl process itself, shared by every source's crawler in it.

    Scrapy keeps politeness per crawler — each source's own downloader slots, CONCURRENT_REQUESTS_PER_DOMAIN 1,
    its DOWNLOAD_DELAY, AutoThrottle and robots.txt (:func:`for_source`) — so one process can serve many hosts
    at once without any host seeing more. What is one per process is the reactor: its thread pool (name
    lookups, and the address checks of ``spiders.safety``, run there: with the default 10 threads, 50 hosts
    resolving at once would queue behind each other) and its DNS resolver (built from these settings, not a
    crawler's: DNS_TIMEOUT and the cache are set here, WARDWATCH_DNS_TIMEOUT included)."""
    dns_timeout = env_overrides().get("DNS_TIMEOUT", BASE["DNS_TIMEOUT"])
    settings: dict[str, Any] = {
        "REACTOR_THREADPOOL_MAXSIZE": max(10, min(concurrency + 4, MAX_THREADPOOL)),
        "DNSCACHE_ENABLED": True,
        "DNSCACHE_SIZE": max(10000, 4 * concurrency),
        "DNS_TIMEOUT": dns_timeout,
    }
    settings.update(extra or {})
    return settings


# Environment overrides for operators and tests (the crawl runs in a child process, so
# settings cannot be passed in): WARDWATCH_DOWNLOAD_TIMEOUT=5 etc.
ENV_SETTINGS: dict[str, tuple[str, type]] = {
    "WARDWATCH_DOWNLOAD_TIMEOUT": ("DOWNLOAD_TIMEOUT", float),
    "WARDWATCH_DOWNLOAD_MAXSIZE": ("DOWNLOAD_MAXSIZE", int),
    "WARDWATCH_DOWNLOAD_WARNSIZE": ("DOWNLOAD_WARNSIZE", int),
    "WARDWATCH_RETRY_TIMES": ("RETRY_TIMES", int),
    "WARDWATCH_RETRY_BACKOFF": ("WARDWATCH_RETRY_BACKOFF", float),
    "WARDWATCH_RETRY_BACKOFF_MAX": ("WARDWATCH_RETRY_BACKOFF_MAX", float),
    "WARDWATCH_RETRY_AFTER_MAX": ("WARDWATCH_RETRY_AFTER_MAX", float),
    "WARDWATCH_SLOWDOWN_MIN": ("WARDWATCH_SLOWDOWN_MIN", float),
    "WARDWATCH_AUTOTHROTTLE_MAX_DELAY": ("AUTOTHROTTLE_MAX_DELAY", float),
    "WARDWATCH_REDIRECT_MAX_TIMES": ("REDIRECT_MAX_TIMES", int),
    "WARDWATCH_DNS_TIMEOUT": ("DNS_TIMEOUT", float),
    "WARDWATCH_LOAD_BATCH": ("WARDWATCH_LOAD_BATCH", int),
    "WARDWATCH_LOAD_INTERVAL": ("WARDWATCH_LOAD_INTERVAL", float),
}


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Scrapy settings from WARDWATCH_* environment variables (see ENV_SETTINGS)."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for var, (setting, kind) in ENV_SETTINGS.items():
        raw = environ.get(var, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(f"{var}={raw!r}: not a valid {kind.__name__}") from None
        if value < 0:
            raise ValueError(f"{var}={raw!r}: must not be negative")
        out[setting] = value
    return out
