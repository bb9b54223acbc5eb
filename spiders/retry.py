"""Retries with exponential backoff and jitter, honouring Retry-After; 429 slows the host down.

Replaces Scrapy's RetryMiddleware, which retries at once and ignores ``Retry-After``: retries
wait, ``Retry-After`` on 429/503 pauses the whole host, a server asking for a longer wait than
``WARDWATCH_RETRY_AFTER_MAX`` is given up on (and recorded), and after a 429 the host's delay grows.
A host name that does not resolve is never retried (:data:`NOT_RETRIED`): a typo in the registry or no
network at all does not get better seconds later, and each try would cost a resolver timeout.
"""

from __future__ import annotations

import logging
import random
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError
from scrapy.http import Response
from scrapy.utils.asyncio import sleep
from twisted.internet.error import DNSLookupError

log = logging.getLogger(__name__)

# Failures no retry fixes within a crawl: the host name does not resolve (Scrapy's RETRY_EXCEPTIONS
# include them, as subclasses of OSError / ConnectError). Recorded at once as error kind "dns".
NOT_RETRIED: tuple[type[BaseException], ...] = (CannotResolveHostError, DNSLookupError)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if re.fullmatch(r"\d{1,10}", text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware with backoff, ``Retry-After`` and a 429 slow-down.

    Settings: ``WARDWATCH_RETRY_BACKOFF`` (first wait, s), ``WARDWATCH_RETRY_BACKOFF_MAX``,
    ``WARDWATCH_RETRY_AFTER_MAX`` (longer Retry-After: give up at once), ``WARDWATCH_SLOWDOWN_MIN``
    (the least per-request delay of a host after a 429), ``AUTOTHROTTLE_MAX_DELAY`` (the most).
    """

    def __init__(self, settings: Any):
        super().__init__(settings)
        self.backoff = settings.getfloat("WARDWATCH_RETRY_BACKOFF", 2.0)
        self.backoff_max = settings.getfloat("WARDWATCH_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("WARDWATCH_RETRY_AFTER_MAX", 300.0)
        self.slowdown_min = settings.getfloat("WARDWATCH_SLOWDOWN_MIN", 5.0)
        self.delay_max = settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffRetryMiddleware:
        mw = super().from_crawler(crawler)
        # Slowing the host down must happen when the response arrives, before the downloader
        # sends the host's next request (as AutoThrottle does), not later in process_response.
        crawler.signals.connect(mw._response_downloaded, signal=signals.response_downloaded)
        return mw

    def _response_downloaded(self, response: Response, request: Request, spider: Any = None) -> None:
        if response.status not in (429, 503) or request.meta.get("dont_retry", False):
            return
        retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
        if response.status == 429:
            self._slow_down(request, retry_after)
        if retry_after is not None and retry_after <= self.retry_after_max:
            self._pause_host(request, retry_after)

    def wait_before(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (1-based): base * 2^(n-1), +0-25 % jitter."""
        return min(self.backoff * 2 ** (attempt - 1), self.backoff_max) * (1 + 0.25 * random.random())

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry_after = None
        if response.status in (429, 503):
            retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
        if retry_after is not None and retry_after > self.retry_after_max:
            request.meta["ww_retry_note"] = (f"Retry-After {retry_after:.0f}s exceeds the "
                                             f"{self.retry_after_max:.0f}s cap: not retried")
            return response
        new = self._retry(request, f"{response.status} response")
        if new is None:
            return response
        await sleep(max(retry_after or 0.0, self.wait_before(new.meta["retry_times"])))
        return new

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if (not isinstance(exception, self.exceptions_to_retry) or isinstance(exception, NOT_RETRIED)
                or request.meta.get("dont_retry", False)):
            return None
        new = self._retry(request, exception)
        if new is None:
            return None
        await sleep(self.wait_before(new.meta["retry_times"]))
        return new

    def _slot(self, request: Request) -> Any:
        engine = getattr(self.crawler, "engine", None)
        key = request.meta.get("download_slot")
        if engine is None or key is None:
            return None
        return engine.downloader.slots.get(key)

    def _slow_down(self, request: Request, retry_after: float | None) -> None:
        """After a 429: at least double the host's delay between requests (AutoThrottle lowers it again)."""
        slot = self._slot(request)
        if slot is None:
            return
        wanted = max(slot.delay * 2, self.slowdown_min, min(retry_after or 0.0, self.delay_max))
        slot.delay = min(wanted, max(self.delay_max, self.slowdown_min))
        log.info("429 from %s: delay between its requests now %.1fs", request.meta.get("download_slot"), slot.delay)

    def _pause_host(self, request: Request, seconds: float) -> None:
        """No request to the host before ``seconds`` have passed (Retry-After applies to the server)."""
        slot = self._slot(request)
        if slot is None:
            return
        slot.delay = max(slot.delay, 0.001)  # the downloader only consults lastseen when delay > 0
        slot.lastseen = max(slot.lastseen, time.monotonic() + seconds)
