"""PDF bytes -> Document: per page, in reading order, columns kept apart, tables as rows.

pypdfium2 supplies chars with boxes (fast); ``pdf_layout`` orders them; ruled tables are
found by pdfplumber's lattice algorithm over edges read with pypdfium2 (``pdf_tables``).
Large PDFs are split across a process pool. Pure function of the bytes, no file I/O.
"""

from __future__ import annotations

import ctypes
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from statistics import median

from extractors.model import Document, ExtractionError
from extractors.pdf_layout import Box, Char, build_boxes, build_lines, dedupe
from extractors.pdf_order import order_boxes
from extractors.textutil import clean_text, names_program

POOL_MIN_PAGES = 24  # below this a process pool costs more than it saves
HEADING_RATIO = 1.25  # a box this much larger than body text is a heading
PageBlocks = list[tuple[str, str, float]]  # (text, kind, em)


def _open(body: bytes):
    import pypdfium2 as pdfium

    if not body.lstrip()[:5].startswith(b"%PDF-"):
        raise ExtractionError("malformed pdf: no %PDF- header")
    try:
        return pdfium.PdfDocument(body)
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise ExtractionError("encrypted pdf: a password is required") from exc
        raise ExtractionError(f"malformed pdf: {msg}") from exc


def _chars(page, textpage) -> list[Char]:
    import pypdfium2.raw as R

    tp, height = textpage.raw, page.get_height()
    box, ox, oy = R.FS_RECTF(), ctypes.c_double(), ctypes.c_double()
    out: list[Char] = []
    for i in range(R.FPDFText_CountChars(tp)):
        code = R.FPDFText_GetUnicode(tp, i)
        if code <= 0x20 or 0xFFF0 <= code <= 0xFFFF:
            continue
        angle = R.FPDFText_GetCharAngle(tp, i)
        if 0.01 < angle < 6.27:  # rotated text (side labels) does not flow with the page
            continue
        if not R.FPDFText_GetLooseCharBox(tp, i, box) or not R.FPDFText_GetCharOrigin(tp, i, ox, oy):
            continue
        if box.right - box.left <= 0 or box.top - box.bottom <= 0:
            continue
        out.append(Char(chr(code), box.left, box.right, height - box.top, height - box.bottom, height - oy.value))
    return out


def _page_blocks(page, textpage) -> PageBlocks:
    """Ordered (text, kind, em) blocks of one page; kind is "para" or "row"."""
    from extractors.pdf_tables import find_tables, ruling_edges, table_box

    chars = dedupe(_chars(page, textpage))
    if not chars:
        return []
    boxes: list[Box] = []
    edges = ruling_edges(page)
    if edges:
        for cells in find_tables(edges):
            tbox, used = table_box(cells, chars)
            if tbox.rows:
                boxes.append(tbox)
                chars = [c for c in chars if id(c) not in used]
    tables = [(b.x0, b.top, b.x1, b.bottom) for b in boxes]
    boxes += build_boxes(build_lines(chars, obstacles=tables))
    out: PageBlocks = []
    for box in order_boxes(boxes):
        if box.rows is not None:
            out += [(row, "row", 0.0) for row in box.rows]
        else:
            text = clean_text(box.text())
            if text:
                out.append((text, "para", box.em))
    return out


def _extract_range(body: bytes, start: int, stop: int) -> list[PageBlocks]:
    """Blocks of pages [start, stop); also the process-pool worker entry point."""
    pdf = _open(body)
    try:
        result = []
        for index in range(start, stop):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                result.append(_page_blocks(page, textpage))
            finally:
                textpage.close()
                page.close()
        return result
    finally:
        pdf.close()


def _pool_context():
    """forkserver (fork-safe with threads, cheap after its first start) where available."""
    try:
        ctx = get_context("forkserver")
    except ValueError:
        return get_context("spawn")
    ctx.set_forkserver_preload(["extractors.pdf", "extractors.pdf_tables", "pypdfium2"])
    return ctx


def _all_pages(body: bytes, count: int, workers: int) -> list[PageBlocks]:
    if workers <= 1 or count < 2:
        return _extract_range(body, 0, count)
    step = -(-count // workers)
    ranges = [(i, min(i + step, count)) for i in range(0, count, step)]
    try:
        with ProcessPoolExecutor(max_workers=len(ranges), mp_context=_pool_context()) as pool:
            parts = pool.map(_extract_range, [body] * len(ranges), [r[0] for r in ranges], [r[1] for r in ranges])
            return [page for part in parts for page in part]
    except (BrokenProcessPool, OSError):  # e.g. no usable __main__ for the workers: run serially
        return _extract_range(body, 0, count)


def _level(em: float, body_em: float) -> int | None:
    ratio = em / body_em if body_em else 1.0
    if ratio < HEADING_RATIO:
        return None
    return 1 if ratio >= 2.0 else 2 if ratio >= 1.5 else 3


def _join_headings(page: PageBlocks, body_em: float) -> PageBlocks:
    """Join a heading broken over consecutive boxes ("児童扶養手当・" + "特別児童扶養手当について")."""
    out: PageBlocks = []
    for text, kind, em in page:
        if out and kind == "para" and out[-1][1] == "para":
            prev_text, _, prev_em = out[-1]
            level = _level(em, body_em)
            if level and level == _level(prev_em, body_em) and len(prev_text) + len(text) <= 60:
                out[-1] = (prev_text + text, kind, max(em, prev_em))
                continue
        out.append((text, kind, em))
    return out


def _clean_title(raw: str | None) -> str | None:
    """Metadata titles are often file names ("2504.indd", "Microsoft Word - x.docx")."""
    title = clean_text(raw or "").removeprefix("Microsoft Word - ")
    if re.search(r"\.(indd|docx?|xlsx?|pptx?|pdf|jtd|ai|rtf)$", title, re.I) or re.fullmatch(r"[\w.-]*", title):
        return None
    return title


def extract_pdf(body: bytes, workers: int | None = None) -> Document:
    """Extract a PDF's text as blocks; ``workers`` None = process pool only for big PDFs."""
    pdf = _open(body)
    try:
        count = len(pdf)
        title = _clean_title(pdf.get_metadata_dict().get("Title"))
    finally:
        pdf.close()
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if count >= POOL_MIN_PAGES else 1
    pages = _all_pages(body, count, workers)
    ems = [em for page in pages for text, kind, em in page for _ in range(min(len(text), 200)) if em]
    body_em = median(ems) if ems else 0.0
    blocks: list[tuple[str, dict]] = []
    program, program_level = None, 99
    for number, page in enumerate(pages, start=1):
        for text, kind, em in _join_headings(page, body_em):
            level = _level(em, body_em) if kind == "para" and len(text) <= 60 else None
            attrs: dict = {"kind": "heading" if level else kind, "page": number}
            if level:
                attrs["level"] = level
                if names_program(text):
                    program, program_level = text, level
                elif level <= program_level:
                    program, program_level = None, 99
            attrs["program"] = program
            blocks.append((text, attrs))
    warnings = () if blocks else ("no text layer",)
    return Document.from_blocks(blocks, "application/pdf", title=title, pages=count, warnings=warnings)
