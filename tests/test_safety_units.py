"""Unit tests of the crawl's safety components: address and scheme refusal, the DNS guard,
link canonicalization, Retry-After parsing and backoff, terminal-safe output.
(The end-to-end fault cases are in tests/test_faults.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import faultsrv as F

# ---------------------------------------------------------------- unit: the safety middleware


def _mw(allowed: tuple[str, ...], resolve: Any = None):
    from types import SimpleNamespace

    from spiders.safety import SafetyMiddleware

    crawler = SimpleNamespace(spider=SimpleNamespace(allowed_domains=list(allowed)))
    return SafetyMiddleware(crawler, resolve=resolve) if resolve else SafetyMiddleware(crawler)


def _check(mw, url: str) -> str | None:
    import asyncio

    from spiders.safety import Refused

    try:
        asyncio.run(mw.check(url))
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


def test_dns_check_uses_the_real_resolver():
    from spiders.safety import _getaddrinfo

    mw = _mw(("localhost",), resolve=_getaddrinfo)
    assert _check(mw, "http://localhost:8000/") is None  # listed verbatim: exempt
    mw._explicit = frozenset()  # as if localhost were allowed only through a parent domain
    assert _check(mw, "http://localhost:8000/") == "private_address"  # resolved for real (/etc/hosts): 127.0.0.1


def test_resolver_guard_drops_private_answers_at_connect_time():
    """DNS rebinding: the name that passed the check resolves to 10/8 when the downloader connects."""
    from twisted.internet.address import IPv4Address

    from spiders.safety import _EXPLICIT_ANYWHERE, GuardedNameResolver

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
    _EXPLICIT_ANYWHERE.add("lab.example.jp")
    r = Receiver()
    guard.resolveHostName(r, "lab.example.jp", 80)
    assert r.got == ["10.0.0.7", "8.8.8.8"]


def test_links_drop_non_http_and_private_ip_links_and_canonicalize():
    from spiders.links import select_links
    from spiders.registry import Source

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


def test_retry_after_parsing_and_backoff_growth():
    from scrapy.settings import Settings

    from spiders.retry import BackoffRetryMiddleware, retry_after_seconds

    assert retry_after_seconds(b"120") == 120.0
    assert 59 <= retry_after_seconds(F.http_date_in(60)) <= 61
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None
    mw = BackoffRetryMiddleware(Settings({"RETRY_ENABLED": True, "WARDWATCH_RETRY_BACKOFF": 2.0}))
    waits = [mw.wait_before(n) for n in (1, 2, 3, 4)]
    assert all(2 * 2 ** i <= w <= 2.5 * 2 ** i for i, w in enumerate(waits)), waits


def test_terminal_safe_strips_escapes_and_controls():
    from extractors.termsafe import terminal_safe

    dirty = "a\x1b[2J\x1b[31mb\x1b]0;title\x07c\u009b31md\x00e\x07f\u202eg\rh\ni\tj"
    assert terminal_safe(dirty) == "abcdefgh\ni\tj"
