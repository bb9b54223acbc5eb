"""ConditionalGetMiddleware (spiders/middlewares.py) from a crawler whose warehouse holds the 練馬区 section:
validators from the stored versions, 304s answered with the stored body (HTML) or recorded as they are (PDF)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request

from spiders.middlewares import ConditionalGetMiddleware
from tests.support.crawler import SECTION, crawler_for, fixture, request, response
from warehouse import staging
from warehouse.load import load_pending
from warehouse.schema import migrate

INDEX = f"{SECTION}/index.html"
GUIDE = f"{SECTION}/documents/hitorioya_guide.pdf"
ETAG, LAST_MODIFIED = '"9c4-63f1a2b4"', "Tue, 01 Apr 2025 00:00:00 GMT"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse storing the index page (ETag + Last-Modified) and the guide PDF (ETag); the middleware only reads it."""
    tmp_path = tmp_path_factory.mktemp("conditional")
    db = tmp_path / "data" / "wardwatch.duckdb"
    migrate(db)
    for url, body, media, etag, lm in ((INDEX, fixture("hitorioya_index.html"), "text/html", ETAG, LAST_MODIFIED),
                                       (GUIDE, fixture("hitorioya_guide.pdf"), "application/pdf", '"pdf-1"', None)):
        staging.write(tmp_path / "stage", staging.Capture(
            run_id="r1", source_id="nerima-hitorioya", url=url, requested_url=url, status=200, body=body, media_type=media,
            charset="utf-8" if media == "text/html" else None, etag=etag, last_modified=lm))
    assert load_pending(db, tmp_path / "stage").new_versions == 2
    return db


@pytest.fixture
def middleware(stored: Path) -> ConditionalGetMiddleware:
    """The middleware of a crawl of the 練馬区 source on that warehouse (a fresh one per test: it caches lookups)."""
    crawler = crawler_for(settings={"WARDWATCH_DB": str(stored), "WARDWATCH_SOURCE_ID": "nerima-hitorioya"})
    return ConditionalGetMiddleware.from_crawler(crawler)


def test_requests_for_stored_urls_carry_their_validators(middleware):
    req = request(INDEX)
    assert middleware.process_request(req) is None
    assert req.headers[b"If-None-Match"] == ETAG.encode() and req.headers[b"If-Modified-Since"] == LAST_MODIFIED.encode()
    tracked = request(INDEX + "?utm_source=line#top")  # the same URL once canonical
    middleware.process_request(tracked)
    assert tracked.headers[b"If-None-Match"] == ETAG.encode()
    pdf = request(GUIDE)
    middleware.process_request(pdf)
    assert pdf.headers[b"If-None-Match"] == b'"pdf-1"' and b"If-Modified-Since" not in pdf.headers


def test_unknown_urls_and_unconditional_retries_carry_none(middleware):
    for req in (request(f"{SECTION}/syuurou.html"), request(INDEX, ww_unconditional=True)):
        middleware.process_request(req)
        assert b"If-None-Match" not in req.headers and b"If-Modified-Since" not in req.headers, req


def test_a_200_passes_through_untouched(middleware):
    req = request(INDEX)
    resp = response(INDEX, "hitorioya_index.html", req=req)
    assert middleware.process_response(req, resp) is resp
    assert "ww_not_modified" not in req.meta


def test_a_304_for_a_page_is_answered_with_the_stored_body(middleware):
    req = request(INDEX)
    middleware.process_request(req)
    out = middleware.process_response(req, response(INDEX, b"", status=304, req=req))
    assert out.status == 304 and out.body == fixture("hitorioya_index.html")  # its links can still be followed
    assert (req.meta["ww_not_modified"], req.meta["ww_media_type"], req.meta["ww_charset"]) == (True, "text/html", "utf-8")


def test_a_304_for_a_pdf_is_recorded_without_loading_the_bytes(middleware):
    req = request(GUIDE)
    resp = response(GUIDE, b"", status=304, req=req, html=False)
    assert middleware.process_response(req, resp) is resp
    assert resp.body == b""
    assert (req.meta["ww_not_modified"], req.meta["ww_media_type"], req.meta["ww_charset"]) == (True, "application/pdf", None)


def test_a_304_with_nothing_stored_asks_again_without_validators(middleware):
    url = f"{SECTION}/syuurou.html"
    req = request(url)
    req.headers[b"If-None-Match"] = b'"from-elsewhere"'
    again = middleware.process_response(req, response(url, b"", status=304, req=req))
    assert isinstance(again, Request) and again.url == url
    assert again.dont_filter and again.meta["ww_unconditional"] and again.meta["ww_depth"] == 0
    assert b"If-None-Match" not in again.headers
    middleware.process_request(again)  # and the retry goes out unconditional
    assert b"If-None-Match" not in again.headers


def test_an_empty_warehouse_means_no_validators(tmp_path):
    crawler = crawler_for(settings={"WARDWATCH_DB": str(tmp_path / "none.duckdb"), "WARDWATCH_SOURCE_ID": "nerima-hitorioya"})
    mw = ConditionalGetMiddleware.from_crawler(crawler)
    req = request(INDEX)
    assert mw.process_request(req) is None and b"If-None-Match" not in req.headers
    assert not (tmp_path / "none.duckdb").exists()  # the first crawl's lookups create nothing
