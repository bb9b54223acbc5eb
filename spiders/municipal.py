"""The generic municipal spider: one crawl of one registry source.

Everything it decides is a pure function of the source and the response (see
``spiders.links``); it keeps no state between callbacks. Per-CMS behaviour goes in a
mixin overriding :meth:`MunicipalSpider.links`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from extractors.encoding import decode_html
from extractors.model import ExtractionError
from spiders import responses
from spiders.links import Link, canonical, select_links
from spiders.registry import Source

HANDLED_STATUSES = [304] + list(range(400, 600))


class MunicipalSpider(scrapy.Spider):
    name = "municipal"
    handle_httpstatus_list = HANDLED_STATUSES

    def __init__(self, source: Source, **kwargs: Any):
        super().__init__(name=f"municipal-{source.id}", **kwargs)
        self.source = source
        self.allowed_domains = list(source.allowed_domains)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.source.start_urls:
            yield self.request(Link(canonical(url), 0, url.lower().endswith(".pdf")), referer=None)

    def request(self, link: Link, referer: str | None) -> scrapy.Request:
        return scrapy.Request(
            link.url,
            callback=self.parse,
            errback=self.failed,
            meta={"ww_depth": link.depth, "ww_referer": referer},
        )

    def parse(self, response: Response) -> Iterator[Any]:
        capture = responses.from_response(self.source.id, response)
        yield capture
        if capture.error_kind or capture.media_type not in ("text/html", "application/xhtml+xml", None):
            return
        try:
            text, _ = decode_html(response.body, capture.charset)
        except ExtractionError:
            return
        for link in self.links(response.url, text, capture.depth or 0):
            yield self.request(link, referer=response.url)

    def links(self, page_url: str, html_text: str, depth: int) -> list[Link]:
        """Links to follow from a page; CMS mixins may override."""
        return select_links(self.source, page_url, html_text, depth)

    def failed(self, failure: Failure) -> Iterator[Any]:
        yield responses.from_failure(self.source.id, failure)
