"""MunicipalSpider on saved pages of the 練馬区 source: the start requests, the capture of every response,
and exactly the follow-up requests a page yields (canonical, in the section, PDFs always, nothing unsafe)."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.python.failure import Failure

from spiders.safety import Refused
from tests.support.crawler import SECTION, WARD, fixture, request, response, shared_crawler
from warehouse.staging import Capture

INDEX = f"{SECTION}/index.html"


def spider():
    return shared_crawler().spider


def parse(resp) -> tuple[Capture, list[Request]]:
    out = list(spider().parse(resp))
    assert isinstance(out[0], Capture) and all(isinstance(r, Request) for r in out[1:])
    return out[0], out[1:]


def follow_ups(requests: list[Request]) -> list[tuple[str, int, str | None]]:
    return [(r.url, r.meta["ww_depth"], r.meta["ww_referer"]) for r in requests]


def test_start_requests_are_the_registry_start_urls():
    s = spider()

    async def collect():
        return [r async for r in s.start()]

    requests = asyncio.run(collect())
    assert [r.url for r in requests] == [f"{SECTION}/index.html", f"{SECTION}/syuurou.html",
                                         f"{SECTION}/jiritsushien.html", f"{SECTION}/ex.html"]
    assert all(r.meta == {"ww_depth": 0, "ww_referer": None} for r in requests)
    assert all(r.callback == s.parse and r.errback == s.failed for r in requests)


def test_a_page_is_captured_with_its_validators():
    resp = response(INDEX, "hitorioya_index.html", headers={"ETag": '"9c4-63f1a2b4"',
                                                            "Last-Modified": "Tue, 01 Apr 2025 00:00:00 GMT"},
                    req=request(INDEX, download_latency=0.25))
    capture, _ = parse(resp)
    assert (capture.source_id, capture.url, capture.requested_url, capture.status) == ("nerima-hitorioya", INDEX, INDEX, 200)
    assert (capture.etag, capture.last_modified) == ('"9c4-63f1a2b4"', "Tue, 01 Apr 2025 00:00:00 GMT")
    assert (capture.content_type, capture.media_type, capture.charset) == ("text/html; charset=utf-8", "text/html", "utf-8")
    assert (capture.depth, capture.referer, capture.elapsed_ms) == (0, None, 250)
    assert capture.body == fixture("hitorioya_index.html") and capture.error_kind is None and not capture.not_modified


def test_a_page_yields_exactly_the_links_worth_following():
    _, requests = parse(response(INDEX, "hitorioya_index.html"))
    assert follow_ups(requests) == [
        (f"{SECTION}/syuurou.html", 1, INDEX),
        (f"{SECTION}/jiritsushien.html", 1, INDEX),  # tracking parameters dropped
        (f"{SECTION}/koutou.html", 1, INDEX),  # session id dropped
        (f"{SECTION}/documents/hitorioya_guide.pdf", 1, INDEX),
        (f"{WARD}/shared/files/kosodate/jidoteate_annai.pdf", 1, INDEX),  # PDFs are fetched outside `follow` too
        (f"{SECTION}/soudan.html", 1, INDEX),  # <area href>
    ]
    # not followed: the menu outside the section, the fragment-only and duplicate links, another site,
    # a private address, mailto:, tel:, javascript:
    assert all(r.callback.__name__ == "parse" and r.errback.__name__ == "failed" for r in requests)


def deep_page(levels: int, tag: str = "div") -> str:
    """A page whose links sit ``levels`` elements deep, with more links after the nesting closes."""
    return ("<html><body>" + f'<{tag} class="wrap">' * levels + f'<a href="{SECTION}/syuurou.html">深い</a>'
            + f'<area href="{SECTION}/soudan.html">' + f"</{tag}>" * levels
            + f'<a href="{SECTION}/documents/hitorioya_guide.pdf">後</a></body></html>')


@pytest.mark.parametrize("levels, tag", [(300, "div"), (3000, "div"), (3000, "span"), (3000, "a"), (50_000, "td"),
                                         (3000, "noscript")])
def test_links_below_thousands_of_levels_are_followed(levels, tag):
    """libxml2 stops at 256 levels (2,048 with huge_tree) and drops every link below and after that point
    (structure tags such as div/span/td are stripped for a second lxml pass; nested noscript needs the third,
    tag-by-tag reading)."""
    _, requests = parse(response(INDEX, deep_page(levels, tag).encode()))
    expected = [f"{SECTION}/syuurou.html", f"{SECTION}/soudan.html", f"{SECTION}/documents/hitorioya_guide.pdf"]
    if tag == "a":  # the nested <a>s have no href; the deepest link is inside them
        assert [u for u, _, _ in follow_ups(requests)] == expected
    else:
        assert follow_ups(requests) == [(u, 1, INDEX) for u in expected]


def test_deep_page_links_keep_base_and_ignore_markup_in_comments_and_scripts():
    from spiders.links import page_links

    html = ('<html><head><base href="https://ward.example/base/"></head><body>' + "<div>" * 3000
            + '<!-- <a href="/commented.html"> --><script>document.write("<a href=\'/scripted.html\'>")</script>'
            + '<a href="x.html?a=1&amp;b=2">x</a><iframe src="/frame.html"></iframe>' + "</div>" * 3000 + "</body></html>")
    assert page_links(html) == ("https://ward.example/base/", ["x.html?a=1&b=2", "/frame.html"])


def test_at_max_depth_only_documents_are_requested():
    resp = response(f"{SECTION}/syuurou.html", "hitorioya_index.html", req=request(f"{SECTION}/syuurou.html", ww_depth=2,
                                                                                   ww_referer=INDEX))
    capture, requests = parse(resp)
    assert (capture.depth, capture.referer) == (2, INDEX)
    assert [(url.rsplit("/", 1)[1], depth) for url, depth, _ in follow_ups(requests)] == [
        ("hitorioya_guide.pdf", 3), ("jidoteate_annai.pdf", 3)]


def test_a_shift_jis_page_without_a_charset_is_decoded_for_its_links():
    url = f"{SECTION}/jiritsushien.html"
    capture, requests = parse(response(url, "jiritsushien_sjis.html", headers={"Content-Type": "text/html"}))
    assert capture.charset is None and capture.media_type == "text/html"
    assert [u for u, _, _ in follow_ups(requests)] == [f"{SECTION}/kyufukin_taisho.html",
                                                       f"{SECTION}/documents/shinseisho.pdf"]


def test_a_304_answered_with_the_stored_body_still_yields_its_links():
    resp = response(INDEX, "hitorioya_index.html", status=200,
                    req=request(INDEX, ww_not_modified=True, ww_media_type="text/html", ww_charset="utf-8"))
    capture, requests = parse(resp)
    assert (capture.status, capture.not_modified, capture.media_type, capture.sha256) == (304, True, "text/html", None)
    assert len(requests) == 6


def test_error_pages_and_documents_yield_only_their_capture():
    capture, requests = parse(response(f"{SECTION}/missing.html", "not_found.html", status=404))
    assert (capture.status, capture.error_kind, capture.error, requests) == (404, "http_404", "HTTP 404", [])

    busy = response(INDEX, "busy_503.html", status=503, headers={"Retry-After": "120"},
                    req=request(INDEX, retry_times=2))
    capture, requests = parse(busy)
    assert (capture.error_kind, capture.error, requests) == ("http_503", "HTTP 503; Retry-After 120; after 3 attempts", [])

    pdf_url = f"{SECTION}/documents/hitorioya_guide.pdf"
    mislabelled = response(pdf_url, "hitorioya_guide.pdf", headers={"Content-Type": "text/html"})
    capture, requests = parse(mislabelled)
    assert (capture.media_type, capture.content_type, capture.error_kind, requests) == (
        "application/pdf", "text/html", None, [])  # the magic bytes win

    capture, requests = parse(response(INDEX, b""))
    assert (capture.error_kind, capture.error, requests) == ("empty", "empty response body", [])


def test_a_redirected_response_keeps_the_requested_url():
    old = f"{SECTION}/old.html"
    capture, _ = parse(response(f"{SECTION}/syuurou.html", "hitorioya_index.html",
                                req=request(f"{SECTION}/syuurou.html", redirect_urls=[old])))
    assert (capture.url, capture.requested_url) == (f"{SECTION}/syuurou.html", old)


def failure(exc: Exception, req: Request) -> Failure:
    f = Failure(exc)
    f.request = req  # as Scrapy sets it on errback failures
    return f


def test_failures_become_error_captures_with_their_kind():
    req = request(f"{SECTION}/koutou.html", ww_depth=1, ww_referer=INDEX, retry_times=2)
    cases = [
        (Refused("private_address", "refused: intranet resolves to 10.0.0.5, a private address"), "private_address",
         "Refused: refused: intranet resolves to 10.0.0.5, a private address; after 3 attempts"),
        (DNSLookupError("www.city.nerima.tokyo.jp"), "dns", None),
        (TimeoutError("Getting https://... took longer than 30.0 seconds."), "timeout", None),
        (IgnoreRequest("Forbidden by robots.txt"), "robots", "IgnoreRequest: Forbidden by robots.txt; after 3 attempts"),
    ]
    s = spider()
    for exc, kind, error in cases:
        (capture,) = list(s.failed(failure(exc, req)))
        assert (capture.url, capture.status, capture.error_kind) == (req.url, None, kind), exc
        assert (capture.depth, capture.referer, capture.body) == (1, INDEX, None)
        assert capture.error.endswith("; after 3 attempts")
        if error:
            assert capture.error == error
