"""Dispatch fetched bytes to the right extractor (HTML, PDF or plain text)."""

from __future__ import annotations

from extractors.encoding import decode_html
from extractors.model import Budget, Document
from extractors.textutil import clean_text

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")


def sniff_media_type(body: bytes, media_type: str | None = None) -> str:
    """The media type to extract as: magic bytes win over the (often wrong) server label."""
    head = body[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    mt = (media_type or "").split(";")[0].strip().lower()
    if mt == "application/pdf":
        return mt  # no magic: let the PDF extractor say what is wrong
    if mt in _HTML_TYPES:
        return "text/html"
    if mt.startswith("text/plain"):
        return "text/plain"
    lowered = head[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lowered or b"<body" in lowered:
        return "text/html"
    return "text/plain"


def extract_text(body: bytes, charset: str | None = None) -> Document:
    """Plain text: one block per non-empty line."""
    text, _enc = decode_html(body, charset)
    lines = [clean_text(line) for line in text.splitlines()]
    return Document.from_blocks([(ln, {"kind": "para"}) for ln in lines if ln], "text/plain")


def extract_document(body: bytes, media_type: str | None, charset: str | None = None,
                     url: str | None = None, budget: Budget | None = None) -> Document:
    """Extract any fetched document; raises ExtractionError when it cannot be read.

    ``budget`` bounds a PDF's pages, decompressed bytes, parse time and memory (default ``Budget()``).
    """
    kind = sniff_media_type(body, media_type)
    if kind == "application/pdf":
        from extractors.pdf import extract_pdf

        return extract_pdf(body, budget=budget)
    if kind == "text/html":
        from extractors.html import extract_html

        return extract_html(body, charset=charset, url=url)
    return extract_text(body, charset)
