"""Turning a Scrapy response or failure into a :class:`warehouse.staging.Capture`."""

from __future__ import annotations

from scrapy import exceptions as sx
from scrapy.http import Response
from twisted.internet import error as txerror
from twisted.python.failure import Failure

from warehouse.staging import Capture

PDF_MAGIC = b"%PDF-"


def media_type_of(content_type: str | None, body: bytes) -> str | None:
    """Media type from the header, corrected by magic bytes (servers mislabel PDFs)."""
    if body[:1024].lstrip().startswith(PDF_MAGIC):
        return "application/pdf"
    if not content_type:
        head = body[:512].lstrip().lower()
        return "text/html" if head.startswith((b"<!doctype html", b"<html")) else None
    return content_type.split(";")[0].strip().lower() or None


def charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    return None


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def from_response(source_id: str, response: Response) -> Capture:
    meta = response.meta
    content_type = _header(response, "Content-Type")
    not_modified = bool(meta.get("ww_not_modified"))
    body = response.body
    status = 304 if not_modified else response.status
    cap = Capture(
        run_id="",
        source_id=source_id,
        url=response.url,
        requested_url=(meta.get("redirect_urls") or [response.url])[0],
        status=status,
        etag=_header(response, "ETag"),
        last_modified=_header(response, "Last-Modified"),
        content_type=content_type,
        media_type=meta.get("ww_media_type") if not_modified else media_type_of(content_type, body),
        charset=meta.get("ww_charset") if not_modified else charset_of(content_type),
        body=body,
        not_modified=not_modified,
        depth=meta.get("ww_depth"),
        referer=meta.get("ww_referer"),
        elapsed_ms=int(meta["download_latency"] * 1000) if "download_latency" in meta else None,
    )
    if status >= 400:
        cap.error_kind = f"http_{status}"
        cap.error = f"HTTP {status}" + _retry_detail(meta, response)
    elif not body and not not_modified:
        cap.error_kind = "empty"
        cap.error = "empty response body"
    return cap


_KINDS: list[tuple[tuple[type, ...], str]] = [
    ((sx.CannotResolveHostError, txerror.DNSLookupError), "dns"),
    ((sx.DownloadTimeoutError, txerror.TimeoutError), "timeout"),
    ((sx.DownloadConnectionRefusedError, txerror.ConnectionRefusedError), "connection_refused"),
    ((sx.DownloadCancelledError,), "too_large"),
    ((sx.ResponseDataLossError,), "truncated"),
    ((sx.DownloadFailedError, txerror.ConnectionLost, txerror.ConnectError), "connection"),
    ((sx.IgnoreRequest,), "ignored"),
]


# IgnoreRequest messages of Scrapy's own middlewares, by the kind they are recorded as.
_IGNORED = (("robots", "robots"), ("DOWNLOAD_MAXSIZE", "too_large"), ("max redirections", "too_many_redirects"),
            ("offsite", "offsite"))


def _retry_detail(meta: dict, response: Response | None = None) -> str:
    """`; Retry-After 30; after 3 attempts`-style detail from a request's retry bookkeeping."""
    parts = []
    retry_after = response.headers.get(b"Retry-After") if response is not None else None
    if retry_after:
        parts.append("Retry-After " + "".join(c for c in retry_after.decode("latin-1")[:40] if c.isprintable()))
    if meta.get("ww_retry_note"):
        parts.append(meta["ww_retry_note"])
    if meta.get("retry_times"):
        parts.append(f"after {meta['retry_times'] + 1} attempts")
    return "".join(f"; {p}" for p in parts)


def from_failure(source_id: str, failure: Failure) -> Capture:
    request = failure.request  # set by Scrapy on errback failures
    kind = getattr(failure.value, "kind", None) or next((k for types, k in _KINDS if failure.check(*types)), "error")
    message = failure.getErrorMessage() or failure.type.__name__
    if kind == "ignored":
        kind = next((k for needle, k in _IGNORED if needle.lower() in message.lower()), kind)
    return Capture(
        run_id="",
        source_id=source_id,
        url=request.url,
        requested_url=(request.meta.get("redirect_urls") or [request.url])[0],
        error_kind=kind,
        error=(f"{failure.type.__name__}: {message}"[:460] + _retry_detail(request.meta))[:500],
        depth=request.meta.get("ww_depth"),
        referer=request.meta.get("ww_referer"),
    )
