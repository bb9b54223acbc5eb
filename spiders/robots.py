"""robots.txt per RFC 9309 where Scrapy differs: a robots.txt answered with 5xx (or 429)
after retries means "complete disallow", not "allow everything"."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from spiders.safety import Refused

_DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309 §2.3.1 status handling.

    2xx: parse. 4xx (except 429): "unavailable", allow all (as Scrapy). 5xx and 429, after the
    retries: "unreachable", complete disallow, recorded as ``robots_unavailable``. Network
    errors keep Scrapy's behaviour (allow): the page fetch then fails with the real cause.
    """

    def __init__(self, crawler: Any):
        super().__init__(crawler)
        self._unreachable: dict[str, int] = {}

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        status = response.status
        if status >= 500 or status == 429:
            self._unreachable[netloc] = status
            response = response.replace(body=_DISALLOW_ALL)
        elif status >= 400:
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)

    def process_request_2(self, rp: Any, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            netloc = urlsplit(request.url).netloc
            status = self._unreachable.get(netloc)
            if status is not None:
                raise Refused("robots_unavailable", f"robots.txt answered HTTP {status}: "
                                                    "treated as complete disallow (RFC 9309)") from None
            raise
