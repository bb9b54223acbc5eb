"""Which links a source's crawl follows: a pure function of (source, page, depth)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
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


class _LinkCollector(HTMLParser):
    """The <base href> and link targets of a page from its tags alone (no tree, so no depth limit)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _LINK_ATTR:
            return
        want = _LINK_ATTR[tag]
        value = next((v for k, v in attrs if k == want and v is not None), None)
        if value is None:
            return
        if tag == "base":
            self.base = value if self.base is None else self.base
        else:
            self.hrefs.append(value)

    handle_startendtag = handle_starttag


_LINK_ATTR = {"a": "href", "area": "href", "iframe": "src", "base": "href"}


def page_links(html_text: str) -> tuple[str | None, list[str]]:
    """(``<base href>`` or None, every ``a``/``area`` href and ``iframe`` src in document order).

    lxml (libxml2) is fast but stops building the tree at 2,048 levels even with ``huge_tree`` (256
    without), silently dropping every link below — and after — that point. When libxml2 reports such a
    resource limit, lxml reads the page again without its structure-only tags (``div``, ``span``,
    ``table``...); if even that is too deep, the link tags are read one by one, with no tree at all."""
    found = _lxml_links(html_text)
    if found is None:  # too deep: the same page without its structure-only tags (fast, and usually flat enough)
        found = _lxml_links(_STRUCTURE_TAG.sub("", html_text))
    if found is not None:
        return found
    # Still too deep (e.g. thousands of nested <a>): the link tags alone, found by regex outside comments and
    # script-like elements, their attributes read by html.parser.
    collector = _LinkCollector()
    try:
        collector.feed("".join(_LINK_TAG.findall(_NOT_MARKUP.sub("", html_text))))
        collector.close()
    except (AssertionError, ValueError):  # html.parser gives up on some malformed declarations
        pass
    return collector.base, collector.hrefs


# Start/end tags of every element but those carrying links and those whose content is not markup.
_STRUCTURE_TAG = re.compile(r"</?(?!(?:a|area|iframe|base|script|style|textarea|title|xmp|plaintext|noscript|"
                            r"noembed|noframes|template)[\s/>])[A-Za-z][^<>]*>", re.I)


_NOT_MARKUP = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style|textarea|title|xmp|noembed|noframes)[\s/>].*?(?:</\1\s*>|\Z)",
                         re.S | re.I)
_LINK_TAG = re.compile(r"<(?:a|area|iframe|base)[\s/][^>]*>", re.I)


def _lxml_links(html_text: str) -> tuple[str | None, list[str]] | None:
    """:func:`page_links` by lxml; None when libxml2 hit a resource limit (depth) and may have dropped links."""
    parser = lxml_html.HTMLParser(huge_tree=True)
    try:
        tree = lxml_html.fromstring(html_text, parser=parser)
    except (ValueError, lxml_html.etree.ParserError):
        return None, []
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        return None
    base, hrefs = None, []
    for el in tree.iter("a", "area", "iframe", "base"):
        value = el.get(_LINK_ATTR[el.tag])
        if value is None:
            continue
        if el.tag != "base":
            hrefs.append(str(value))
        elif base is None:
            base = str(value)
    return base, hrefs


def select_links(source: Source, page_url: str, html_text: str, depth: int) -> list[Link]:
    """Links of a fetched page worth requesting, in document order, without duplicates."""
    if not html_text.strip():
        return []
    base_href, hrefs = page_links(html_text)
    base = page_url
    if base_href is not None:
        try:
            base = urljoin(page_url, base_href.strip())
        except ValueError:
            base = page_url
    seen: set[str] = set()
    variants: dict[str, int] = {}
    out: list[Link] = []
    for href in hrefs:
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
