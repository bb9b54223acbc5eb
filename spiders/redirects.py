"""Redirects that leave the source, leave http(s) or loop are refused and recorded.

Scrapy would drop those silently (off-site and duplicate requests are filtered at scheduling).
:class:`MetaRefreshMiddleware` keeps pages whose meta refresh points to such a URL.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.response import get_meta_refresh
from w3lib.url import safe_url_string

from extractors.termsafe import terminal_safe
from spiders.safety import ALLOWED_SCHEMES, REDIRECT_STATUSES, Refused

log = logging.getLogger(__name__)


class RedirectGuardMiddleware:
    """Refuse (and so record) off-site, non-http(s) and looping redirects before they are followed.

    Sits closer to the downloader than Scrapy's RedirectMiddleware (600) so it sees the 3xx first.
    """

    def __init__(self, crawler: Any):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedirectGuardMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("dont_redirect") or request.method == "HEAD" or response.status not in REDIRECT_STATUSES:
            return response
        location = response.headers.get(b"Location")
        if not location:
            return response
        target = urljoin(request.url, safe_url_string(location.decode("latin-1").strip()))
        refusal = redirect_refusal(self.crawler.spider, request, target)
        if refusal is not None:
            raise refusal
        # Let the redirected request past the duplicate filter (it inherits this request's
        # dont_filter): otherwise a redirect to an already-seen URL (two old URLs moved to one
        # page, a loop through a linked page) vanishes without a fetch recorded. Loops are
        # stopped above and by REDIRECT_MAX_TIMES; SafetyMiddleware re-checks the target.
        request.dont_filter = True
        return response


class MetaRefreshMiddleware(ScrapyMetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, except to another site, to a non-http(s) URL or back to
    the same page (auto-reloading pages): those pages are kept as they are, not replaced by a
    request that Scrapy would then drop silently (off-site / duplicate)."""

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_redirect") or request.method == "HEAD" or not isinstance(response, HtmlResponse):
            return response
        try:
            interval, url = get_meta_refresh(response, ignore_tags=self._ignore_tags)
        except (ValueError, TypeError):
            return response
        if not url or interval is None or interval >= self._maxdelay:
            return response
        if redirect_refusal(self.crawler.spider, request, url) is not None:
            log.info("not following the meta refresh of %s to %s", request.url, terminal_safe(url[:300]))
            return response
        request.dont_filter = True  # as for 3xx: a refresh to an already-seen page must not vanish
        return super().process_response(request, response)


def redirect_refusal(spider: Any, request: Request, target: str) -> Refused | None:
    """Why a redirect from ``request`` to ``target`` must not be followed (None if it may)."""
    shown = terminal_safe(target[:300])
    parts = urlsplit(target)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return Refused("redirect_scheme", f"refused to follow redirect to a non-http(s) URL: {shown}")
    domains = [d.lower() for d in getattr(spider, "allowed_domains", None) or []]
    try:
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return Refused("offsite_redirect", f"refused to follow redirect to an invalid URL: {shown}")
    if domains and not any(host == d or host.endswith("." + d) for d in domains):
        return Refused("offsite_redirect", f"refused to follow redirect outside allowed_domains: {shown}")
    from spiders.links import canonical

    chain = {canonical(u) for u in [*request.meta.get("redirect_urls", []), request.url]}
    if canonical(target) in chain:
        hops = len(request.meta.get("redirect_urls", [])) + 1
        return Refused("redirect_loop", f"redirect loop after {hops} redirect(s): back to {shown}")
    return None
