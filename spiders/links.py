"""Which links a source's crawl follows: a pure function of (source, page, depth)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html
from w3lib.url import canonicalize_url

from spiders.registry import Source

DOCUMENT_SUFFIXES = (".pdf",)

# Crawler-trap bounds (besides max_depth and the per-source max_pages cap).
MAX_URL_LENGTH = 1024
MAX_QUERY_VARIANTS = 25  # links to one path with different query strings, per page
MAX_SEGMENT_REPEATS = 3  # /a/b/a/b/a/b/...: relative links that nest forever

# Query parameters that never change a page: tracking tags and session ids.
_DROP_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "yclid", "msclkid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
    "jsessionid", "phpsessid", "sessionid", "session_id", "sessid", "cfid", "cftoken", "zenid", "oscsid",
})
_DROP_PREFIXES = ("utm_", "aspsessionid")
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid|sid)=[^/?#]*", re.I)


@dataclass(frozen=True)
class Link:
    url: str
    depth: int
    is_document: bool  # a PDF: fetched whenever a followed page links it


def canonical(url: str) -> str:
    """Canonical form used as a URL's identity (sorted query, no fragment, no tracking or session ids)."""
    parts = urlsplit(url)
    path = _PATH_SESSION.sub("", parts.path)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _dropped(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    if path != parts.path or query != parts.query:
        url = urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))
    return canonicalize_url(url, keep_fragments=False)


def _dropped(key: str) -> bool:
    key = key.lower()
    return key in _DROP_PARAMS or key.startswith(_DROP_PREFIXES)


def looks_like_trap(url: str) -> bool:
    """Over-long URLs and paths whose segments repeat (relative-link loops)."""
    if len(url) > MAX_URL_LENGTH:
        return True
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return any(segments.count(s) >= MAX_SEGMENT_REPEATS for s in set(segments))


def private_ip_host(source: Source, url: str) -> bool:
    """A host written as a non-public IP address that allowed_domains does not list verbatim."""
    from spiders.safety import explicit_hosts, ip_literal, non_public_reason

    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    literal = ip_literal(host)
    if literal is None or host in explicit_hosts(source.allowed_domains):
        return False
    return non_public_reason(literal) is not None


def host_allowed(source: Source, url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in source.allowed_domains)


def select_links(source: Source, page_url: str, html_text: str, depth: int) -> list[Link]:
    """Links of a fetched page worth requesting, in document order, without duplicates."""
    if not html_text.strip():
        return []
    try:
        tree = lxml_html.fromstring(html_text)
    except (ValueError, lxml_html.etree.ParserError):
        return []
    base = page_url
    for href in tree.xpath("//base/@href")[:1]:
        base = urljoin(page_url, href.strip())
    seen: set[str] = set()
    variants: dict[str, int] = {}
    out: list[Link] = []
    for href in tree.xpath("//a/@href | //area/@href | //iframe/@src"):
        href = href.strip()
        if not href or href.startswith("#"):
            continue
        try:
            url = urljoin(base, href)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not host_allowed(source, url) or private_ip_host(source, url):
                continue
            url = canonical(url)
        except ValueError:  # e.g. an invalid IPv6 literal or port
            continue
        if url in seen or looks_like_trap(url):
            continue
        seen.add(url)
        parts = urlsplit(url)
        if parts.query:
            key = parts.netloc + parts.path
            variants[key] = variants.get(key, 0) + 1
            if variants[key] > MAX_QUERY_VARIANTS:
                continue
        if parts.path.lower().endswith(DOCUMENT_SUFFIXES):
            out.append(Link(url, depth + 1, True))
        elif depth + 1 <= source.max_depth and source.follows(parts.path):
            out.append(Link(url, depth + 1, False))
    return out
