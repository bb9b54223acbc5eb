"""PDF bytes -> Document: per page, in reading order, columns kept apart, tables as rows.

pypdfium2 supplies chars with boxes (fast); ``pdf_layout`` orders them; ruled tables are
found by pdfplumber's lattice algorithm over edges read with pypdfium2 (``pdf_tables``).
Parsing runs in child processes under a memory cap and a time budget (``pdf_guard``); large
PDFs are split across several. Pure function of the bytes, no file I/O.
"""

from __future__ import annotations

import ctypes
import os
import re
import time
from statistics import median

from extractors.model import Budget, Document, ExtractionError
from extractors.normalize import normalize
from extractors.pdf_furniture import drop_furniture
from extractors.pdf_guard import check_streams, run_limited
from extractors.pdf_layout import Box, Char, build_boxes, build_lines, dedupe
from extractors.pdf_order import order_boxes
from extractors.textutil import clean_text, names_program

POOL_MIN_PAGES = 24  # below this one worker process; from here up to 4 share the pages
MAX_PAGE_CHARS = 30_000  # the densest real newsletter page has ~2 900; far more is a text-operator bomb
KILL_GRACE = 5.0  # seconds a worker gets past the time budget to return the pages it has
HEADING_RATIO = 1.25  # a box this much larger than body text is a heading
Geometry = tuple[float, float, float, float, bool]  # x0, top, x1, bottom as fractions of the page; vertical
PageBlocks = list[tuple[str, str, float, Geometry]]  # (text, kind, em, where on the page)


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
    count = R.FPDFText_CountChars(tp)
    skip = -1
    for i in range(count):
        if i == skip:
            continue
        code = R.FPDFText_GetUnicode(tp, i)
        if code <= 0x20 or 0xFFF0 <= code <= 0xFFFF:
            continue
        if 0xD800 <= code <= 0xDFFF:  # pdfium hands out UTF-16 units, a pair sometimes low half first
            joined = _pair(code, R.FPDFText_GetUnicode(tp, i + 1) if i + 1 < count else 0)
            if joined != code:
                code, skip = joined, i + 1
        angle = R.FPDFText_GetCharAngle(tp, i)
        if 0.01 < angle < 6.27:  # rotated text (side labels) does not flow with the page
            continue
        if not R.FPDFText_GetLooseCharBox(tp, i, box) or not R.FPDFText_GetCharOrigin(tp, i, ox, oy):
            continue
        if box.right - box.left <= 0 or box.top - box.bottom <= 0:
            continue
        out.append(Char(chr(code), box.left, box.right, height - box.top, height - box.bottom, height - oy.value))
    return out


def _pair(unit: int, following: int) -> int:
    """The code point of a surrogate pair in either order; a lone surrogate stays (the text layer
    turns it into U+FFFD)."""
    hi, lo = (unit, following) if unit < 0xDC00 else (following, unit)
    if 0xD800 <= hi <= 0xDBFF and 0xDC00 <= lo <= 0xDFFF:
        return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
    return unit


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
    width, height = page.get_width() or 1.0, page.get_height() or 1.0
    for box in order_boxes(boxes):
        geom = (round(box.x0 / width, 4), round(box.top / height, 4), round(box.x1 / width, 4),
                round(box.bottom / height, 4), box.vertical)
        if box.rows is not None:
            out += [(row, "row", 0.0, geom) for row in box.rows]
        else:
            text = clean_text(box.text())
            if text:
                out.append((text, "para", box.em, geom))
    return out


def _extract_range(body: bytes, start: int, stop: int, deadline: float | None = None) -> list[tuple[PageBlocks, str | None]]:
    """(blocks, note) of pages [start, stop); also the worker entry point of the child processes.

    A page with more than MAX_PAGE_CHARS characters is skipped (note says so); past
    ``deadline`` (``time.monotonic()``, the same clock in every process) the remaining pages
    are not read and the result is shorter than ``stop - start``.
    """
    pdf = _open(body)
    try:
        result: list[tuple[PageBlocks, str | None]] = []
        for index in range(start, stop):
            if deadline is not None and time.monotonic() > deadline:
                break
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                n = textpage.count_chars()
                if n > MAX_PAGE_CHARS:
                    result.append(([], f"page {index + 1}: {n} characters, more than {MAX_PAGE_CHARS}; skipped"))
                else:
                    result.append((_page_blocks(page, textpage), None))
            finally:
                textpage.close()
                page.close()
        return result
    finally:
        pdf.close()


def _all_pages(body: bytes, count: int, workers: int, budget: Budget,
               deadline: float) -> list[tuple[PageBlocks, str | None]]:
    """Every page's (blocks, note): in limited child processes unless ``budget.memory_bytes`` is 0."""
    workers = max(1, min(workers, count))
    step = -(-count // workers) if count else 1
    ranges = [(i, min(i + step, count)) for i in range(0, count, step)]
    if budget.memory_bytes and ranges:
        try:
            parts = run_limited(ranges, body, deadline=deadline, memory_bytes=budget.memory_bytes,
                                seconds=max(0.0, deadline - time.monotonic()) + KILL_GRACE)
            parts = [[([(t, k, em, tuple(g)) for t, k, em, g in blocks], note) for blocks, note in part] for part in parts]
        except OSError:  # no worker process can be started here: parse in-process (streams were checked)
            parts = [_extract_range(body, a, b, deadline) for a, b in ranges]
    else:
        parts = [_extract_range(body, a, b, deadline) for a, b in ranges]
    out: list[tuple[PageBlocks, str | None]] = []
    for (a, b), part in zip(ranges, parts):
        out += part
        if len(part) < b - a:  # this range ran out of time: later ranges' pages would leave a gap
            break
    return out


def _level(em: float, body_em: float) -> int | None:
    ratio = em / body_em if body_em else 1.0
    if ratio < HEADING_RATIO:
        return None
    return 1 if ratio >= 2.0 else 2 if ratio >= 1.5 else 3


def _union(a: Geometry, b: Geometry) -> Geometry:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]), a[4] and b[4])


def _join_headings(page: PageBlocks, body_em: float) -> PageBlocks:
    """Join a heading broken over consecutive boxes ("児童扶養手当・" + "特別児童扶養手当について")."""
    out: PageBlocks = []
    for text, kind, em, geom in page:
        if out and kind == "para" and out[-1][1] == "para":
            prev_text, _, prev_em, prev_geom = out[-1]
            level = _level(em, body_em)
            if level and level == _level(prev_em, body_em) and len(prev_text) + len(text) <= 60:
                out[-1] = (prev_text + text, kind, max(em, prev_em), _union(prev_geom, geom))
                continue
        out.append((text, kind, em, geom))
    return out


# A period broken over two boxes: "…4月1日から" + "令和8年3月31日まで", "4月1日～" + "5月31日",
# "4月1日" + "～5月31日". Tested on the NFKC form, so full-width digits and every dash/tilde count.
_OPEN_END = re.compile(r"[0-9][^0-9]{0,4}(?:から|~|-)$")
_DATE_START = re.compile(r"^(?:[0-9]|令和|平成|昭和|同年|翌年|翌月|同月)")
_DATE_END = re.compile(r"[0-9](?:日|月|年|年度)?(?:\([^)]{1,3}\))?$")
_CLOSE_START = re.compile(r"^(?:~|まで)")


def _continues(prev: str, nxt: str) -> bool:
    """Does box ``nxt`` finish a period that box ``prev`` leaves open (a class of line ends, not strings)?"""
    a = normalize(prev[-12:]).text.replace("\u301c", "~")
    b = normalize(nxt[:12]).text
    return bool((_OPEN_END.search(a) and (_DATE_START.match(b) or _CLOSE_START.match(b)))
                or (_DATE_END.search(a) and _CLOSE_START.match(b)))


def _join_periods(page: PageBlocks) -> PageBlocks:
    """Consecutive paragraph boxes of one page joined where a period runs from one into the next."""
    out: PageBlocks = []
    for text, kind, em, geom in page:
        if out and kind == "para" and out[-1][1] == "para" and len(out[-1][0]) + len(text) <= 400 \
                and _continues(out[-1][0], text):
            prev_text, _, prev_em, prev_geom = out[-1]
            out[-1] = (prev_text + text, kind, max(em, prev_em), _union(prev_geom, geom))
            continue
        out.append((text, kind, em, geom))
    return out


def _clean_title(raw: str | None) -> str | None:
    """Metadata titles are often file names ("2504.indd", "Microsoft Word - x.docx")."""
    title = clean_text(raw or "").removeprefix("Microsoft Word - ")
    if re.search(r"\.(indd|docx?|xlsx?|pptx?|pdf|jtd|ai|rtf)$", title, re.I) or re.fullmatch(r"[\w.-]*", title):
        return None
    return title


def extract_pdf(body: bytes, workers: int | None = None, budget: Budget | None = None) -> Document:
    """Extract a PDF's text as blocks; ``workers`` None = several processes only for big PDFs.

    Within ``budget`` (default ``Budget()``): streams that inflate past
    ``decompressed_bytes`` are refused before parsing (ExtractionError "pdf too large when
    decompressed"); pages are parsed in a child process capped at ``memory_bytes`` and killed
    past ``seconds``; only the first ``pages`` pages are read; a document cut short by the page
    or time budget comes back with ``Document.partial`` saying so.
    """
    budget = budget or Budget()
    deadline = time.monotonic() + budget.seconds
    check_streams(body, budget.decompressed_bytes)
    pdf = _open(body)
    try:
        count = len(pdf)
        title = _clean_title(pdf.get_metadata_dict().get("Title"))
    finally:
        pdf.close()
    todo = min(count, budget.pages)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if todo >= POOL_MIN_PAGES else 1
    results = _all_pages(body, todo, workers, budget, deadline)
    partial = None
    if len(results) < todo:
        partial = (f"time budget of {budget.seconds:g} s used up: {len(results)} of {count} pages extracted "
                   f"(WARDWATCH_EXTRACT_SECONDS)")
    elif todo < count:
        partial = f"page budget: the first {todo} of {count} pages extracted (WARDWATCH_EXTRACT_PAGES)"
    pages = [blocks for blocks, _ in results]
    notes = [note for _, note in results if note]
    if notes:
        partial = "; ".join([*([partial] if partial else []), *notes])
    pages = drop_furniture(pages)
    ems = [em for page in pages for text, kind, em, _ in page for _ in range(min(len(text), 200)) if em]
    body_em = median(ems) if ems else 0.0
    blocks: list[tuple[str, dict]] = []
    program, program_level = None, 99
    heads: dict[int, str] = {}  # the open headings by level: the heading path of what follows
    for number, page in enumerate(pages, start=1):
        for text, kind, em, _ in _join_periods(_join_headings(page, body_em)):
            level = _level(em, body_em) if kind == "para" and len(text) <= 60 else None
            attrs: dict = {"kind": "heading" if level else kind, "page": number}
            if level:
                attrs["level"] = level
                heads = {lv: t for lv, t in heads.items() if lv < level}
                heads[level] = text
                if names_program(text):
                    program, program_level = text, level
                elif level <= program_level:
                    program, program_level = None, 99
            attrs["program"] = program
            attrs["headings"] = tuple(heads[lv] for lv in sorted(heads))
            blocks.append((text, attrs))
    warnings = () if blocks else ("no text layer",)
    return Document.from_blocks(blocks, "application/pdf", title=title, pages=count, warnings=warnings,
                                partial=partial)
