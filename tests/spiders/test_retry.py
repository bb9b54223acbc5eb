"""BackoffRetryMiddleware (spiders/retry.py) from a crawler with the project's settings: which responses and
errors are retried, how long it waits (backoff, Retry-After), when it gives up, and how a 429 or a
Retry-After slows the host's downloader slot down."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from scrapy import Request, signals
from scrapy.core.downloader import Slot
from scrapy.exceptions import CannotResolveHostError
from scrapy.settings import Settings
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TimeoutError

import spiders.retry
from spiders.retry import BackoffRetryMiddleware, retry_after_seconds
from tests.support import faultsrv as F
from tests.support.crawler import SECTION, crawler_for, request, response

PAGE = f"{SECTION}/syuurou.html"
SETTINGS = {"RETRY_TIMES": 2, "WARDWATCH_RETRY_BACKOFF": 2.0, "WARDWATCH_RETRY_AFTER_MAX": 300.0,
            "WARDWATCH_SLOWDOWN_MIN": 5.0, "AUTOTHROTTLE_MAX_DELAY": 60.0}


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The seconds the middleware awaits before handing a retry back (recorded, not slept)."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(spiders.retry, "sleep", sleep)
    return slept


@pytest.fixture
def crawler():
    return crawler_for(settings=SETTINGS)


@pytest.fixture
def mw(crawler) -> BackoffRetryMiddleware:
    return BackoffRetryMiddleware.from_crawler(crawler)


def respond(mw, req: Request, status: int, headers: dict[str, str] | None = None, body: str = "busy_503.html"):
    return asyncio.run(mw.process_response(req, response(req.url, body, status=status, headers=headers, req=req)))


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_retry_after_parsing_and_backoff_growth():
    assert retry_after_seconds(b"120") == 120.0
    assert 59 <= retry_after_seconds(F.http_date_in(60)) <= 61
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None
    mw = BackoffRetryMiddleware(Settings({"RETRY_ENABLED": True, "WARDWATCH_RETRY_BACKOFF": 2.0}))
    waits = [mw.wait_before(n) for n in (1, 2, 3, 4)]
    assert all(2 * 2 ** i <= w <= 2.5 * 2 ** i for i, w in enumerate(waits)), waits
    capped = BackoffRetryMiddleware(Settings({"RETRY_ENABLED": True, "WARDWATCH_RETRY_BACKOFF": 2.0,
                                              "WARDWATCH_RETRY_BACKOFF_MAX": 5.0}))
    assert 5.0 <= capped.wait_before(10) <= 6.25


def test_a_server_error_is_retried_after_a_backoff_then_given_up(mw, waits):
    first = respond(mw, request(PAGE), 503)
    assert isinstance(first, Request) and first.url == PAGE
    assert first.meta["retry_times"] == 1 and first.dont_filter and first.meta["ww_depth"] == 0
    second = respond(mw, first, 500, body="not_found.html")
    assert isinstance(second, Request) and second.meta["retry_times"] == 2
    given_up = respond(mw, second, 503)
    assert given_up.status == 503 and given_up.request is second  # RETRY_TIMES = 2: the third answer is recorded
    assert len(waits) == 2 and 2.0 <= waits[0] <= 2.5 and 4.0 <= waits[1] <= 5.0


def test_retry_after_is_waited_for_when_longer_than_the_backoff(mw, waits):
    retry = respond(mw, request(PAGE), 503, {"Retry-After": "30"})
    assert isinstance(retry, Request) and waits == [30.0]
    short = respond(mw, request(PAGE), 429, {"Retry-After": "1"})
    assert isinstance(short, Request) and 2.0 <= waits[1] <= 2.5  # the backoff is longer


def test_retry_after_beyond_the_cap_is_recorded_not_waited_for(mw, waits):
    req = request(PAGE)
    out = respond(mw, req, 503, {"Retry-After": "3600"})
    assert out.status == 503 and waits == []
    assert req.meta["ww_retry_note"] == "Retry-After 3600s exceeds the 300s cap: not retried"


@pytest.mark.parametrize("status", [200, 304, 403, 404])
def test_other_statuses_are_not_retried(mw, waits, status):
    req = request(PAGE)
    out = respond(mw, req, status)
    assert out.status == status and "retry_times" not in req.meta and waits == []


def test_dont_retry_is_honoured(mw, waits):
    req = request(PAGE, dont_retry=True)
    assert respond(mw, req, 503).status == 503
    assert asyncio.run(mw.process_exception(req, TimeoutError())) is None
    assert waits == []


def test_network_errors_are_retried_other_exceptions_are_not(mw, waits):
    retry = asyncio.run(mw.process_exception(request(PAGE), TimeoutError()))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert isinstance(asyncio.run(mw.process_exception(request(PAGE), ConnectionRefusedError())), Request)
    assert asyncio.run(mw.process_exception(request(PAGE), ValueError("a bug"))) is None
    assert len(waits) == 2


@pytest.mark.parametrize("error", [DNSLookupError("no such host: www.city.nerima.tokyo.jp"),
                                   CannotResolveHostError("www.city.nerima.tokyo.jp")], ids=["twisted", "scrapy"])
def test_an_unresolvable_host_is_not_retried(crawler, mw, waits, error):
    # both are in Scrapy's RETRY_EXCEPTIONS (OSError subclasses): the stock middleware would try 3 times
    assert isinstance(error, mw.exceptions_to_retry)
    req = request(PAGE)
    assert asyncio.run(mw.process_exception(req, error)) is None
    assert "retry_times" not in req.meta and waits == []
    assert crawler.stats.get_value("retry/count") is None


def with_slot(crawler, delay: float = 0.0) -> Slot:
    """The crawler's downloader with one slot for the ward's host (as the engine holds it during a crawl)."""
    slot = Slot(1, delay, jitter=0)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"www.city.nerima.tokyo.jp": slot}))
    return slot


def downloaded(crawler, status: int, headers: dict[str, str] | None = None) -> Request:
    req = request(PAGE, download_slot="www.city.nerima.tokyo.jp")
    crawler.signals.send_catch_log(signals.response_downloaded, response=response(PAGE, b"", status=status, headers=headers,
                                                                                  req=req), request=req, spider=crawler.spider)
    return req


def test_a_429_slows_the_host_down(crawler, mw):
    slot = with_slot(crawler, delay=1.0)
    downloaded(crawler, 429)
    assert slot.delay == 5.0  # at least WARDWATCH_SLOWDOWN_MIN
    downloaded(crawler, 429)
    assert slot.delay == 10.0  # doubled
    for _ in range(5):
        downloaded(crawler, 429)
    assert slot.delay == 60.0  # never beyond AUTOTHROTTLE_MAX_DELAY


def test_retry_after_pauses_the_whole_host(crawler, mw):
    slot = with_slot(crawler)
    before = time.monotonic()
    downloaded(crawler, 503, {"Retry-After": "20"})
    assert slot.lastseen >= before + 20 and slot.delay > 0  # no request to the host for 20 s
    assert slot.delay < 5.0  # a 503 pauses, it does not slow the host down for good
    paused_until = slot.lastseen
    downloaded(crawler, 503, {"Retry-After": "3600"})  # beyond the cap: not waited for, the host is not paused
    assert slot.lastseen == paused_until
    downloaded(crawler, 200)
    assert slot.lastseen == paused_until
