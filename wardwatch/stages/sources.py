"""``wardwatch sources check``: try a registry source the way the crawler would, without writing anything.

For each start URL: does the host resolve (and to a public address, unless ``allowed_domains`` lists
it verbatim), does robots.txt allow it, does the first page answer (status, type, size), and which of
its links ``follow`` would take. ``urllib`` under the crawler's address rules (``spiders.fetch``), short timeouts, no redirects followed (they are
reported), at most ``MAX_BYTES`` read — a preview for a maintainer adding a source, not a crawl.
"""

from __future__ import annotations

import codecs
import socket
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib import robotparser
from urllib.parse import urljoin, urlsplit

from spiders.fetch import Refused, opener
from spiders.links import select_links
from spiders.registry import Source
from spiders.safety import explicit_hosts, non_public_reason
from spiders.settings import USER_AGENT

TIMEOUT_S = 10.0
MAX_BYTES = 4 * 1024 * 1024


@dataclass
class StartCheck:
    url: str
    addresses: list[str] = field(default_factory=list)
    problem: str | None = None  # the first thing that stops the crawler here, one line
    robots: str | None = None  # "allowed" | "disallowed" | "unavailable (…)" | "absent"
    status: int | None = None
    media_type: str | None = None
    size: int | None = None
    redirect: str | None = None
    follow: list[str] = field(default_factory=list)  # pages `follow` and max_depth would take
    documents: list[str] = field(default_factory=list)  # PDFs and other documents linked

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class SourceCheck:
    source_id: str
    starts: list[StartCheck]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.starts)

    def to_json(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "ok": self.ok,
                "start_urls": [{**asdict(s), "ok": s.ok} for s in self.starts]}


def _open(source: Source, url: str, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """One request under the crawler's address rules (``spiders.fetch``), redirects reported, not followed."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener(explicit_hosts(source.allowed_domains), follow_redirects=False).open(request, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read(MAX_BYTES)
    except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx: the answer is the finding
        return exc.code, dict(exc.headers or {}), b""


def _resolve(source: Source, url: str) -> tuple[list[str], str | None]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        return [], f"DNS: {host} does not resolve ({exc})"
    addresses = sorted({i[4][0] for i in infos})
    if host not in explicit_hosts(source.allowed_domains):
        for address in addresses:
            reason = non_public_reason(address)
            if reason:
                return addresses, f"{host} resolves to a {reason} address ({address}); the crawler will not fetch it"
    return addresses, None


def _robots(source: Source, url: str, timeout: float) -> tuple[str, bool]:
    robots_url = urljoin(url, "/robots.txt")
    try:
        status, _headers, body = _open(source, robots_url, timeout)
    except (OSError, ValueError, Refused) as exc:  # as in the crawler: the page fetch then fails with the real cause
        return f"not reachable ({type(exc).__name__}: {exc})", True
    if status >= 500 or status == 429:
        return f"unavailable (HTTP {status}: the crawler treats this as disallow-all)", False
    if status >= 400:
        return "absent", True
    parser = robotparser.RobotFileParser()
    parser.parse(body.decode("utf-8", "replace").splitlines())
    allowed = parser.can_fetch(USER_AGENT, url)
    return ("allowed" if allowed else "disallowed"), allowed


def check_start(source: Source, url: str, timeout: float = TIMEOUT_S) -> StartCheck:
    out = StartCheck(url=url)
    out.addresses, out.problem = _resolve(source, url)
    if out.problem:
        return out
    out.robots, allowed = _robots(source, url, timeout)
    if not allowed:
        out.problem = f"robots.txt: {out.robots}"
        return out
    try:
        out.status, headers, body = _open(source, url, timeout)
    except (OSError, ValueError, Refused) as exc:
        out.problem = f"fetch failed: {type(exc).__name__}: {exc}"
        return out
    headers = {k.lower(): v for k, v in headers.items()}
    out.media_type = (headers.get("content-type") or "").split(";")[0].strip() or None
    out.size = len(body)
    if 300 <= out.status < 400:
        out.redirect = urljoin(url, headers.get("location", ""))
        out.problem = f"HTTP {out.status} redirect to {out.redirect} (use that URL as the start URL)"
        return out
    if out.status >= 400:
        out.problem = f"HTTP {out.status}"
        return out
    if out.media_type in (None, "text/html", "application/xhtml+xml"):
        text = body.decode(_charset(headers.get("content-type", "")) or "utf-8", "replace")
        for link in select_links(source, url, text, 0):
            (out.documents if link.is_document else out.follow).append(link.url)
    return out


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name
            except LookupError:
                return None
    return None


def check_source(source: Source, timeout: float = TIMEOUT_S) -> SourceCheck:
    return SourceCheck(source.id, [check_start(source, url, timeout) for url in source.start_urls])
