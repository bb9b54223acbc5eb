"""Scrapy components under test in Scrapy's own style (as City Bureau's city-scrapers test theirs): a
crawler from ``scrapy.utils.test.get_crawler`` with the project's settings, components built with
``from_crawler``, and saved responses whose bodies are files in ``tests/spiders/fixtures/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from spiders.municipal import MunicipalSpider
from spiders.registry import Source, load_sources, select
from spiders.settings import BASE
from tests.support.helpers import ROOT

FIXTURES = ROOT / "tests" / "spiders" / "fixtures"
WARD = "https://www.city.nerima.tokyo.jp"
SECTION = WARD + "/kurashi/jinken/hitorioya"


def nerima() -> Source:
    """The shipped registry's 練馬区 ひとり親家庭 source (sources.toml)."""
    (source,) = select(load_sources(ROOT / "sources.toml"), ["nerima-hitorioya"])
    return source


def crawler_for(source: Source | None = None, settings: dict[str, Any] | None = None) -> Crawler:
    """A crawler of ``MunicipalSpider`` on ``source`` (default: :func:`nerima`) with the project's settings
    (``spiders.settings.BASE``) plus ``settings``, its spider created as ``Crawler.crawl`` would."""
    crawler = get_crawler(MunicipalSpider, {**BASE, **(settings or {})})
    crawler.spider = MunicipalSpider.from_crawler(crawler, source=source or nerima())
    return crawler


@cache
def shared_crawler(source: Source | None = None) -> Crawler:
    """One :func:`crawler_for` per source, with the project's settings only, for components that keep no
    state on the crawler (each test still builds its own component with ``from_crawler``)."""
    return crawler_for(source)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def request(url: str, **meta: Any) -> Request:
    """A request as the spider makes them (``ww_depth`` 0, no referer, unless given)."""
    return Request(url, meta={"ww_depth": 0, "ww_referer": None, **meta})


def response(url: str, body: bytes | str = b"", *, status: int = 200, headers: dict[str, str] | None = None,
             req: Request | None = None, html: bool = True) -> Response:
    """A saved response to ``req`` (default: :func:`request` of ``url``); ``body`` names a fixture file
    when it is a ``str``. HTML responses default to ``Content-Type: text/html; charset=utf-8``."""
    data = fixture(body) if isinstance(body, str) else body
    req = req or request(url)
    if html:
        return HtmlResponse(url, status=status, body=data, request=req,
                            headers={"Content-Type": "text/html; charset=utf-8", **(headers or {})})
    return Response(url, status=status, body=data, request=req, headers=headers or {})


def fixture_path(name: str) -> Path:
    return FIXTURES / name
