"""Fetching one URL outside a crawl (`wardwatch extract URL`, `wardwatch sources check`) under the crawler's
address rules (``spiders.safety``): http(s) only, IP-literal hosts public, every redirect checked, and the
address actually connected to checked before a byte is sent (a DNS name resolving to a private address is
refused). Hosts in ``allowed`` (a registry's ``allowed_domains`` listed verbatim, or ``--allow-host``) are exempt.
"""

from __future__ import annotations

import socket
import urllib.request
from typing import Any
from urllib.parse import urljoin, urlsplit


class Refused(Exception):
    """A URL (or a redirect, or the address connected to) the crawler's rules do not allow."""


def check_url(url: str, allowed: frozenset[str]) -> None:
    """The crawler's rules for one URL: http(s) only; an IP-literal host must be public (the
    connected address is checked again by :func:`guarded_create`)."""
    from spiders.safety import ALLOWED_SCHEMES, ip_literal, non_public_reason

    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise Refused(f"{parts.scheme or 'no'} scheme is not http(s)")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise Refused("no host")
    if host in allowed:
        return
    literal = ip_literal(host)
    reason = non_public_reason(literal) if literal else None
    if reason:
        raise Refused(f"{host} is a {reason} address")


def guarded_create(allowed: frozenset[str]) -> Any:
    """socket.create_connection that refuses non-public peers of non-allowed hosts before any byte is sent."""
    from spiders.safety import non_public_reason

    def create(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host = str(address[0]).lower().strip("[]").rstrip(".")
        sock = socket.create_connection(address, *args, **kwargs)
        if host not in allowed:
            peer = sock.getpeername()[0]
            reason = non_public_reason(peer)
            if reason:
                sock.close()
                raise Refused(f"{host} resolves to {peer}, a {reason} address")
        return sock

    return create


def opener(allowed: frozenset[str], *, follow_redirects: bool = True) -> urllib.request.OpenerDirector:
    """A urllib opener under the crawler's address rules: no proxies; every redirect checked with
    :func:`check_url` (or none followed); the connected address checked before any byte is sent."""
    import http.client

    create = guarded_create(allowed)

    class GuardedHTTP(http.client.HTTPConnection):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self._create_connection = create

    class GuardedHTTPS(http.client.HTTPSConnection):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self._create_connection = create

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(GuardedHTTP, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(GuardedHTTPS, req, context=self._context)

    class Redirects(urllib.request.HTTPRedirectHandler):
        max_redirections = 10

        def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
            location = headers.get("location") or headers.get("uri")
            if location:
                newurl = urljoin(req.full_url, location)
                try:
                    check_url(newurl, allowed)
                except Refused as exc:
                    raise Refused(f"redirect to {newurl[:200]} refused: {exc}") from None
            return super().http_error_302(req, fp, code, msg, headers)

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:  # the 3xx answer itself comes back to the caller
            return None

    # no proxies: the address checked must be the address connected to
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), HTTPHandler(), HTTPSHandler(),
                                       Redirects() if follow_redirects else NoRedirects())
