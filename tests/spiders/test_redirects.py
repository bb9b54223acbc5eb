"""RedirectGuardMiddleware and MetaRefreshMiddleware (spiders/redirects.py): redirects that leave the
source, leave http(s) or loop are refused (and so recorded); meta refreshes to such URLs keep the page."""

from __future__ import annotations

import pytest
from scrapy import Request

from spiders.redirects import MetaRefreshMiddleware, RedirectGuardMiddleware
from spiders.safety import Refused
from tests.support.crawler import SECTION, WARD, crawler_for, fixture, request, response, shared_crawler

OLD = f"{SECTION}/old.html"


@pytest.fixture
def guard() -> RedirectGuardMiddleware:
    return RedirectGuardMiddleware.from_crawler(shared_crawler())


def redirect(location: str, status: int = 301, url: str = OLD):
    return response(url, b"<html><body>Moved</body></html>", status=status, headers={"Location": location})


@pytest.mark.parametrize("location, kind, message", [
    ("https://www.tokyo-fukushi.jp/hitorioya/", "offsite_redirect",
     "refused to follow redirect outside allowed_domains: https://www.tokyo-fukushi.jp/hitorioya/"),
    ("http://169.254.169.254/latest/meta-data/", "offsite_redirect",
     "refused to follow redirect outside allowed_domains: http://169.254.169.254/latest/meta-data/"),
    ("file:///etc/passwd", "redirect_scheme", "refused to follow redirect to a non-http(s) URL: file:///etc/passwd"),
    ("javascript:alert(1)", "redirect_scheme", "refused to follow redirect to a non-http(s) URL: javascript:alert(1)"),
    ("old.html", "redirect_loop", f"redirect loop after 1 redirect(s): back to {OLD}"),
])
def test_offsite_non_http_and_looping_redirects_are_refused(guard, location, kind, message):
    resp = redirect(location)
    with pytest.raises(Refused) as refused:
        guard.process_response(resp.request, resp)
    assert (refused.value.kind, str(refused.value)) == (kind, message)


def test_a_loop_through_earlier_hops_is_refused(guard):
    second = f"{SECTION}/moved.html"
    req = request(second, redirect_urls=[OLD])  # old.html → moved.html → old.html
    with pytest.raises(Refused, match=r"redirect loop after 2 redirect\(s\)") as refused:
        guard.process_response(req, response(second, b"", status=302, headers={"Location": OLD}, req=req))
    assert refused.value.kind == "redirect_loop"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_within_the_source_is_let_through_past_the_duplicate_filter(guard, status):
    resp = redirect(f"{WARD}/kurashi/jinken/hitorioya/syuurou.html", status)
    assert not resp.request.dont_filter
    assert guard.process_response(resp.request, resp) is resp
    assert resp.request.dont_filter  # a redirect to an already-seen page must still be fetched and recorded


def test_a_subdomain_of_an_allowed_domain_is_on_the_source(guard):
    resp = redirect("https://sub.www.city.nerima.tokyo.jp/page.html")
    assert guard.process_response(resp.request, resp) is resp


def test_what_is_not_a_followed_redirect_passes_untouched(guard):
    ok = response(OLD, b"<html></html>")
    assert guard.process_response(ok.request, ok) is ok and not ok.request.dont_filter
    no_location = response(OLD, b"", status=302)
    assert guard.process_response(no_location.request, no_location) is no_location
    req = request(OLD, dont_redirect=True)
    offsite = response(OLD, b"", status=301, headers={"Location": "https://evil.example/"}, req=req)
    assert guard.process_response(req, offsite) is offsite
    head = Request(OLD, method="HEAD")
    assert guard.process_response(head, response(OLD, b"", status=301, headers={"Location": "file:///x"}, req=head))


# ---------------------------------------------------------------- meta refresh


@pytest.fixture
def refresh() -> MetaRefreshMiddleware:
    return MetaRefreshMiddleware.from_crawler(shared_crawler())


def test_a_meta_refresh_within_the_source_is_followed(refresh):
    page = response(OLD, "moved_here.html")
    new = refresh.process_response(page.request, page)
    assert isinstance(new, Request) and new.url == f"{SECTION}/syuurou.html"
    assert new.meta["redirect_urls"] == [OLD] and new.meta["redirect_reasons"] == ["meta refresh"]
    assert new.meta["ww_depth"] == 0 and new.dont_filter


def test_a_meta_refresh_to_another_site_keeps_the_page(refresh):
    page = response(f"{SECTION}/homehelp.html", "moved_offsite.html")
    assert refresh.process_response(page.request, page) is page  # the notice itself is what gets stored


def test_an_auto_reloading_page_is_kept(refresh):
    url = f"{SECTION}/shinsei_jokyo.html"
    page = response(url, "autoreload.html")
    assert refresh.process_response(page.request, page) is page and not page.request.dont_filter


def test_a_slow_meta_refresh_is_not_a_redirect(refresh):
    slow = fixture("moved_here.html").replace(b'content="0; url=', b'content="120; url=')  # METAREFRESH_MAXDELAY: 100 s
    page = response(OLD, slow)
    assert refresh.process_response(page.request, page) is page
    quick = MetaRefreshMiddleware.from_crawler(crawler_for(settings={"METAREFRESH_MAXDELAY": 200}))
    assert isinstance(quick.process_response(page.request, page), Request)


def test_a_pdf_is_never_parsed_for_a_meta_refresh(refresh):
    pdf = response(f"{SECTION}/documents/hitorioya_guide.pdf", "hitorioya_guide.pdf", html=False,
                   headers={"Content-Type": "application/pdf"})
    assert refresh.process_response(pdf.request, pdf) is pdf
