"""SafetyMiddleware (spiders/safety.py) from a crawler, in Scrapy's style: address and scheme refusal
(whatever Scrapy's OffsiteMiddleware let through), the DNS check and the resolver guard; and the page
link selection that drops the same links before any request exists (spiders/links.py).
(The end-to-end fault cases are in tests/e2e/test_faults.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scrapy import Request

from spiders.registry import Source
from spiders.safety import Refused, SafetyMiddleware
from tests.support.crawler import shared_crawler


def _mw(allowed: tuple[str, ...], resolve: Any = None) -> SafetyMiddleware:
    """The middleware of a crawl whose source allows ``allowed``; ``resolve`` stands in for getaddrinfo."""
    source = Source(id="s", municipality="練馬区", code="131202", kind="official", start_urls=(f"https://{allowed[0]}/",),
                    allowed_domains=allowed, follow=("^/",), max_depth=2, schedule="0 6 * * *")
    mw = SafetyMiddleware.from_crawler(shared_crawler(source))
    if resolve is not None:
        mw.resolve = resolve
    return mw


def _check(mw: SafetyMiddleware, url: str) -> str | None:
    """The kind of refusal of a request for ``url`` (None: it may go out). URLs Scrapy cannot even make a
    Request of (``javascript:alert(1)``) go to the check the middleware runs on every request."""
    try:
        req = Request(url, dont_filter=True)
    except ValueError:
        req = None
    try:
        if req is None:
            asyncio.run(mw.check(url))
        else:
            assert asyncio.run(mw.process_request(req)) is None
    except Refused as exc:
        return exc.kind
    return None


@pytest.mark.parametrize("url, kind", [
    ("http://10.0.0.1/", "private_address"), ("http://10.255.255.254:8080/x", "private_address"),
    ("http://172.16.0.1/", "private_address"), ("http://172.31.255.1/", "private_address"),
    ("http://192.168.1.1/", "private_address"), ("http://169.254.169.254/latest/meta-data/", "private_address"),
    ("http://[::1]/", "private_address"), ("http://[fe80::1]/", "private_address"), ("http://[fc00::1]/", "private_address"),
    ("http://0.0.0.0/", "private_address"), ("http://100.64.0.1/", "private_address"),
    ("http://[::ffff:10.0.0.1]/", "private_address"), ("http://[::ffff:169.254.169.254]/", "private_address"),
    ("http://2130706433/", "private_address"), ("http://0x7f000001/", "private_address"), ("http://127.1/", "private_address"),
    ("file:///etc/passwd", "scheme"), ("javascript:alert(1)", "scheme"), ("data:text/html,<script>", "scheme"),
    ("ftp://example.jp/x", "scheme"),
    ("http://8.8.8.8/", "offsite"), ("https://www.example.com/", "offsite"),  # public, but not an allowed domain
])
def test_private_link_local_loopback_addresses_and_other_schemes_are_refused(url, kind):
    # whatever Scrapy's OffsiteMiddleware let through (dont_filter requests: retries, redirects)
    assert _check(_mw(("www.city.nerima.tokyo.jp",), resolve=lambda host, port: ["8.8.8.8"]), url) == kind


def test_hosts_listed_in_allowed_domains_are_exempt():
    mw = _mw(("127.0.0.1", "intranet.city.example.jp"), resolve=lambda host, port: ["10.1.2.3"])
    assert _check(mw, "http://127.0.0.1:8000/x") is None
    assert _check(mw, "http://intranet.city.example.jp/x") is None
    assert _check(mw, "http://sub.intranet.city.example.jp/x") == "private_address"  # only verbatim hosts
    assert _check(mw, "file:///etc/passwd") == "scheme"  # the scheme rule has no exemption


@pytest.mark.parametrize("addresses, kind", [
    (["10.1.2.3"], "private_address"), (["169.254.10.10"], "private_address"), (["::1"], "private_address"),
    (["8.8.8.8", "192.168.0.10"], "private_address"),  # any non-public answer refuses the name
    (["8.8.8.8"], None), ([], None),  # unresolvable: left to the downloader, recorded as a dns error
])
def test_dns_name_resolving_to_a_private_address_is_refused(addresses, kind):
    asked = []
    mw = _mw(("city.example.jp",), resolve=lambda host, port: asked.append(host) or addresses)
    assert _check(mw, "https://www.city.example.jp/index.html") == kind
    assert asked == ["www.city.example.jp"]  # the resolved address is checked, not only the name
    assert _check(mw, "https://www.city.example.jp/other.html") == kind
    assert asked == ["www.city.example.jp"]  # answers are cached (RESOLVE_CACHE_S), not asked per request


def test_dns_check_uses_the_real_resolver():
    from spiders.safety import _getaddrinfo

    mw = _mw(("localhost",), resolve=_getaddrinfo)
    assert _check(mw, "http://localhost:8000/") is None  # listed verbatim: exempt
    mw._explicit = frozenset()  # as if localhost were allowed only through a parent domain
    assert _check(mw, "http://localhost:8000/") == "private_address"  # resolved for real (/etc/hosts): 127.0.0.1


def test_resolver_guard_drops_private_answers_at_connect_time(monkeypatch):
    """DNS rebinding: the name that passed the check resolves to 10/8 when the downloader connects."""
    from twisted.internet.address import IPv4Address

    import spiders.safety
    from spiders.safety import GuardedNameResolver

    monkeypatch.setattr(spiders.safety, "_EXPLICIT_ANYWHERE", set())  # hosts some running crawler lists verbatim

    class Inner:
        def resolveHostName(self, receiver, host, port=0, types=None, semantics="TCP"):
            receiver.resolutionBegan(object())
            for a in ("10.0.0.7", "8.8.8.8"):
                receiver.addressResolved(IPv4Address("TCP", a, port))
            receiver.resolutionComplete()
            return receiver

    class Receiver:
        def __init__(self):
            self.got, self.done = [], False

        def resolutionBegan(self, r):
            pass

        def addressResolved(self, a):
            self.got.append(a.host)

        def resolutionComplete(self):
            self.done = True

    guard = GuardedNameResolver(Inner())
    r = Receiver()
    guard.resolveHostName(r, "rebind.example.jp", 80)
    assert r.got == ["8.8.8.8"] and r.done
    spiders.safety._EXPLICIT_ANYWHERE.add("lab.example.jp")
    r = Receiver()
    guard.resolveHostName(r, "lab.example.jp", 80)
    assert r.got == ["10.0.0.7", "8.8.8.8"]


def test_links_drop_non_http_and_private_ip_links_and_canonicalize():
    from spiders.links import select_links

    src = Source(id="s", municipality="練馬区", code="131202", kind="official", start_urls=("http://127.0.0.1/",),
                 allowed_domains=("127.0.0.1", "city.example.jp"), follow=("^/",), max_depth=5, schedule="0 6 * * *")
    html = ('<a href="javascript:alert(1)">a</a><a href="data:text/html,x">b</a><a href="file:///etc/passwd">c</a>'
            '<a href="mailto:x@example.jp">d</a><a href="http://10.0.0.1/">e</a><a href="http://10.city.example.jp/">f</a>'
            '<a href="/p.html;jsessionid=ABC?utm_source=x&b=2&a=1&fbclid=z">g</a><a href="/p.html?a=1&b=2">h</a>'
            '<a href="/a/b/a/b/a/b/loop.html">i</a><a href="http://[::1">j</a>'
            + "".join(f'<a href="/cal.html?d={i}">{i}</a>' for i in range(100)))
    urls = [link.url for link in select_links(src, "http://127.0.0.1/index.html", html, 0)]
    assert urls[:2] == ["http://10.city.example.jp/", "http://127.0.0.1/p.html?a=1&b=2"]
    assert len([u for u in urls if "/cal.html" in u]) == 25  # query-string explosion bounded per page
    assert not [u for u in urls if "loop" in u or "10.0.0.1" in u]
