"""Downloader middleware: conditional GET built from the warehouse.

Scrapy's RFC2616 cache never revalidates ``Cache-Control: no-cache`` responses, so
wardwatch sends If-None-Match / If-Modified-Since itself from the last stored version of
each URL. A 304 is answered with the stored body (so its links are still followed) and
marked ``ww_not_modified``; the loader records it as "not modified".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import Response

from spiders.links import canonical
from warehouse import read

HTML_TYPES = ("text/html", "application/xhtml+xml", None)


class KnownPrefetch:
    """What the warehouse knows of the URLs of a crawl process's sources, read ``chunk`` sources per query.

    One process serves many sources, each crawler with its own middleware: reading each source's
    validators on its own meant one warehouse connection per source (opening a DuckDB file and its
    checkpoint on close grow with the warehouse). The crawl stage makes one of these for the process
    (setting ``WARDWATCH_KNOWN_PREFETCH``, in the order the sources will start); a source's entry is
    handed out once and dropped, so memory holds at most a chunk of sources ahead."""

    def __init__(self, db_path: Path, source_ids: list[str], chunk: int = 64):
        self.db_path = db_path
        self.order = list(source_ids)
        self.chunk = max(1, chunk)
        self._loaded: dict[str, dict[str, read.Known]] = {}
        self._done: set[str] = set()

    def __deepcopy__(self, memo: dict) -> KnownPrefetch:  # Scrapy deep-copies settings; share this one
        return self

    def take(self, source_id: str) -> dict[str, read.Known]:
        if source_id not in self._loaded:
            if source_id in self._done or source_id not in self.order:
                return read.known_urls(self.db_path, source_id)  # a second crawl of it, or an unlisted source
            at = self.order.index(source_id)
            batch = [s for s in self.order[at:] if s not in self._done and s not in self._loaded][: self.chunk]
            self._loaded.update(read.known_urls_of(self.db_path, batch))
        self._done.add(source_id)
        return self._loaded.pop(source_id, {})


class ConditionalGetMiddleware:
    def __init__(self, db_path: Path, source_id: str, prefetch: KnownPrefetch | None = None):
        self.db_path = db_path
        self.source_id = source_id
        self.prefetch = prefetch
        self._known: dict[str, read.Known] | None = None
        self._bodies: dict[str, bytes] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalGetMiddleware:
        return cls(Path(crawler.settings["WARDWATCH_DB"]), crawler.settings["WARDWATCH_SOURCE_ID"],
                   crawler.settings.get("WARDWATCH_KNOWN_PREFETCH"))

    def known(self) -> dict[str, read.Known]:
        if self._known is None:  # loaded once per crawl, on the first request
            self._known = (self.prefetch.take(self.source_id) if self.prefetch is not None
                           else read.known_urls(self.db_path, self.source_id))
        return self._known

    def process_request(self, request: Request) -> None:
        k = self.known().get(canonical(request.url))
        if k is None or request.meta.get("ww_unconditional"):
            return None
        if k.etag:
            request.headers.setdefault(b"If-None-Match", k.etag.encode("latin-1"))
        if k.last_modified:
            request.headers.setdefault(b"If-Modified-Since", k.last_modified.encode("latin-1"))
        return None

    def process_response(self, request: Request, response: Response) -> Response | Request:
        if response.status != 304:
            return response
        k = self.known().get(canonical(response.url)) or self.known().get(canonical(request.url))
        if k is not None and k.media_type not in HTML_TYPES:
            # Nothing to follow in a PDF: record the 304 without loading the stored bytes.
            request.meta.update({"ww_not_modified": True, "ww_media_type": k.media_type, "ww_charset": k.charset})
            return response
        if self._bodies is None:  # one query for the source's stored HTML, used up as 304s arrive
            self._bodies = read.stored_html(self.db_path, self.source_id)
        body = self._bodies.pop(canonical(response.url), None) or self._bodies.pop(canonical(request.url), None)
        if body is None and k is not None:
            body = read.blob(self.db_path, k.sha256)
        if body is None:
            # Nothing stored to stand in for the 304: ask again without validators.
            return request.replace(dont_filter=True, meta={**request.meta, "ww_unconditional": True},
                                   headers={k_: v for k_, v in request.headers.items()
                                            if k_ not in (b"If-None-Match", b"If-Modified-Since")})
        request.meta.update({"ww_not_modified": True, "ww_media_type": k.media_type if k else None,
                             "ww_charset": k.charset if k else None})
        return response.replace(body=body)
