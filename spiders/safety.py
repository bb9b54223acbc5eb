"""Downloader middleware that never lets a request out where it should not go.

:class:`SafetyMiddleware` refuses non-http(s) URLs, hosts outside the source's
``allowed_domains`` (whatever ``dont_filter`` says), and private, loopback, link-local, shared or
unspecified addresses, checking the addresses a host name *resolves to* (``socket.getaddrinfo``
in a thread), unless the host is listed verbatim in ``allowed_domains`` (how tests reach
127.0.0.1). A guard installed on the reactor's name resolver repeats the check on the addresses
the downloader really connects to, so a name that resolves differently the second time (DNS
rebinding) gets nowhere. Redirects: ``spiders.redirects``; retries: ``spiders.retry``;
robots.txt: ``spiders.robots``.

Refusals raise :class:`Refused` (an ``IgnoreRequest``), which reaches the spider's errback
and is recorded as an error fetch whose ``error_kind`` is :attr:`Refused.kind`.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import run_in_thread
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

from extractors.termsafe import terminal_safe

log = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RESOLVE_CACHE_S = 300.0


class Refused(IgnoreRequest):
    """A request wardwatch will not send (or a redirect it will not follow), with a reason."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------- addresses


def non_public_reason(address: str) -> str | None:
    """Why an IP address must not be fetched (None when it is a public unicast address)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            inner = non_public_reason(str(mapped))
            return f"{inner} (embedded in {ip})" if inner else None
    for attr, label in (("is_unspecified", "unspecified"), ("is_loopback", "loopback"),
                        ("is_link_local", "link-local"), ("is_site_local", "site-local"), ("is_multicast", "multicast"),
                        ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(ip, attr, False):
            return label
    if not ip.is_global:
        return "not globally routable"
    return None


def ip_literal(host: str) -> str | None:
    """The address a host written as an IP means, including inet_aton forms (127.1, 0x7f000001, 2130706433)."""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if re.fullmatch(r"(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}", host, re.I):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_ip_literal(host: str) -> bool:
    return ip_literal(host) is not None


def explicit_hosts(allowed_domains: Any) -> frozenset[str]:
    """Hosts listed verbatim in allowed_domains: the only ones exempt from the address check."""
    return frozenset(str(d).strip().lower().rstrip(".").strip("[]") for d in allowed_domains or () if d)


def _getaddrinfo(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


# Hosts that some running crawler lists explicitly; consulted by the resolver guard, which is
# one per process (the reactor has a single name resolver for every source's crawler).
_EXPLICIT_ANYWHERE: set[str] = set()


class SafetyMiddleware:
    """Refuse non-http(s) schemes and hosts that are, or resolve to, non-public addresses."""

    def __init__(self, crawler: Any, resolve: Any = _getaddrinfo):
        self.crawler = crawler
        self.resolve = resolve
        self._cache: dict[str, tuple[float, list[str]]] = {}
        self._explicit: frozenset[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> SafetyMiddleware:
        return cls(crawler)

    def explicit(self) -> frozenset[str]:
        if self._explicit is None:
            spider = self.crawler.spider
            self._explicit = explicit_hosts(getattr(spider, "allowed_domains", ()))
            _EXPLICIT_ANYWHERE.update(self._explicit)
            if "twisted.internet.reactor" in sys.modules:  # never install a reactor just for this
                install_resolver_guard()
        return self._explicit

    async def process_request(self, request: Request) -> None:
        await self.check(request.url)
        return None

    async def check(self, url: str) -> None:
        """Raise :class:`Refused` unless ``url`` may be fetched."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise Refused("scheme", f"refused: {scheme or 'no'} scheme is not http(s): {terminal_safe(url[:200])}")
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise Refused("scheme", f"refused: no host in {terminal_safe(url[:200])}")
        explicit = self.explicit()
        if host in explicit:
            return
        literal = ip_literal(host)
        if literal is not None:
            reason = non_public_reason(literal)
            if reason:
                raise Refused("private_address", f"refused: {host} is a {reason} address "
                                                 "(list the host in allowed_domains to allow it)")
        domains = [d.lower() for d in getattr(self.crawler.spider, "allowed_domains", None) or []]
        if domains and not any(host == d or host.endswith("." + d) for d in domains):
            # Scrapy's OffsiteMiddleware lets dont_filter requests through (retries set it, and
            # redirects inherit it): the allowed domains are enforced here for every request.
            raise Refused("offsite", f"refused: {host} is outside allowed_domains")
        if literal is not None:
            return
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise Refused("scheme", f"refused: invalid port in {terminal_safe(url[:200])}") from None
        addresses = await self._resolve(host, port)
        for address in addresses:
            reason = non_public_reason(address)
            if reason:
                raise Refused("private_address", f"refused: {host} resolves to {address}, a {reason} address "
                                                 "(list the host in allowed_domains to allow it)")

    async def _resolve(self, host: str, port: int) -> list[str]:
        now = time.monotonic()
        hit = self._cache.get(host)
        if hit and now - hit[0] < RESOLVE_CACHE_S:
            return hit[1]
        try:
            addresses = await run_in_thread(self.resolve, host, port)
        except (OSError, UnicodeError):
            addresses = []  # unresolvable: the download fails with a proper "dns" error
        self._cache[host] = (now, addresses)
        return addresses


# ---------------------------------------------------------------- resolver guard


@implementer(IHostnameResolver)
class GuardedNameResolver:
    """Wraps the reactor's name resolver: non-public addresses of non-explicit hosts are dropped.

    A host whose every address is dropped fails like an unresolvable name; the
    SafetyMiddleware has normally refused it already with a clearer reason.
    """

    def __init__(self, inner: Any):
        self.inner = inner

    def resolveHostName(self, resolutionReceiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Any = None, transportSemantics: str = "TCP") -> Any:
        receiver = resolutionReceiver
        if hostName.lower().rstrip(".").strip("[]") not in _EXPLICIT_ANYWHERE:
            receiver = _FilteringReceiver(resolutionReceiver, hostName)
        return self.inner.resolveHostName(receiver, hostName, portNumber, addressTypes, transportSemantics)


@provider(IResolutionReceiver)
class _FilteringReceiver:
    def __init__(self, inner: Any, host: str):
        self.inner = inner
        self.host = host

    def resolutionBegan(self, resolution: Any) -> None:
        self.inner.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:
        reason = non_public_reason(getattr(address, "host", ""))
        if reason:
            log.warning("refused to connect to %s: it resolved to %s, a %s address", self.host, address.host, reason)
            return
        self.inner.addressResolved(address)

    def resolutionComplete(self) -> None:
        self.inner.resolutionComplete()


def install_resolver_guard(reactor: Any = None) -> bool:
    """Wrap the reactor's name resolver once (idempotent); False if the reactor cannot."""
    if reactor is None:
        from twisted.internet import reactor as default_reactor

        reactor = default_reactor
    current = getattr(reactor, "nameResolver", None)
    if current is None or not hasattr(reactor, "installNameResolver"):
        return False
    if not isinstance(current, GuardedNameResolver):
        reactor.installNameResolver(GuardedNameResolver(current))
        log.info("name resolver guarded: non-public addresses only for hosts listed in allowed_domains")
    return True
