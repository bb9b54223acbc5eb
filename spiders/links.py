"""Which links a source's crawl follows: a pure function of (source, page, depth)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html
from w3lib.url import canonicalize_url

from wardwatch.registry import Source

DOCUMENT_SUFFIXES = (".pdf",)


@dataclass(frozen=True)
class Link:
    url: str
    depth: int
    is_document: bool  # a PDF: fetched whenever a followed page links it


def canonical(url: str) -> str:
    """Canonical form used as a URL's identity (sorted query, no fragment)."""
    return canonicalize_url(url, keep_fragments=False)


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
    out: list[Link] = []
    for href in tree.xpath("//a/@href | //area/@href | //iframe/@src"):
        href = href.strip()
        if not href or href.startswith("#"):
            continue
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not host_allowed(source, url):
            continue
        url = canonical(url)
        if url in seen:
            continue
        seen.add(url)
        if parts.path.lower().endswith(DOCUMENT_SUFFIXES):
            out.append(Link(url, depth + 1, True))
        elif depth + 1 <= source.max_depth and source.follows(parts.path):
            out.append(Link(url, depth + 1, False))
    return out
