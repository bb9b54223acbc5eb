"""PDF page furniture: text that belongs to the page, not to an article.

Newsletters repeat a masthead on every (odd or even) page — the title, the issue number, the
issue date ("令和三年四月", often set vertically one character per line), the page number — in
the page margins. Those blocks would yield a date or fiscal-year fact per page that says
nothing about any program. A block is furniture when

* it lies in the page's periphery (its box within the outer PERIPHERY of the page height or
  width), and
* a block with the same text — digits and kanji numerals masked, so page numbers and
  issue numbers match — sits at nearly the same place (within NEAR of the page size) on at
  least MIN_PAGES pages and MIN_SHARE of all pages (odd and even pages mirror each other, so
  each side is counted by itself), or it is a bare page number (digits and a few marks).

Geometry and repetition only: no phrase list. Pure function over the blocks of
``extractors.pdf`` (``(text, kind, em, (x0, top, x1, bottom, vertical))``, fractions of the page).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

PERIPHERY = 0.08
NEAR = 0.03
MIN_PAGES = 3
MIN_SHARE = 0.25
MAX_CHARS = 40  # furniture is short; longer blocks are never dropped
MAX_PER_KEY = 2000  # positions compared per repeated text (bounds hostile documents)

_NUMERALS = re.compile(r"[0-9〇零一二三四五六七八九十百千]+")
_PAGE_NUMBER = re.compile(r"[-‐ ()pP.no]*[0-9]{1,4}[-‐ ()]*")


def _key(text: str) -> str:
    return _NUMERALS.sub("#", unicodedata.normalize("NFKC", text)).replace(" ", "")


def _peripheral(geom: Any) -> bool:
    x0, top, x1, bottom = geom[:4]
    return top >= 1 - PERIPHERY or bottom <= PERIPHERY or x1 <= PERIPHERY or x0 >= 1 - PERIPHERY


def furniture(pages: list[list[tuple]]) -> set[tuple[int, int]]:
    """(page index, block index) of every furniture block."""
    candidates: dict[str, list[tuple[int, int, float, float]]] = {}
    found: set[tuple[int, int]] = set()
    for p, blocks in enumerate(pages):
        for b, (text, kind, _em, geom) in enumerate(blocks):
            if kind != "para" or len(text) > MAX_CHARS or not _peripheral(geom):
                continue
            if _PAGE_NUMBER.fullmatch(unicodedata.normalize("NFKC", text)):
                found.add((p, b))
                continue
            entries = candidates.setdefault(_key(text), [])
            if len(entries) < MAX_PER_KEY:
                entries.append((p, b, geom[0], geom[1]))
    need = max(MIN_PAGES, MIN_SHARE * len(pages))
    for entries in candidates.values():
        if len({e[0] for e in entries}) < need:
            continue
        for p, b, x0, top in entries:
            same_place = {q for q, _, x, t in entries if abs(x - x0) <= NEAR and abs(t - top) <= NEAR}
            if len(same_place) >= need:
                found.add((p, b))
    return found


def drop_furniture(pages: list[list[tuple]]) -> list[list[tuple]]:
    """``pages`` without their furniture blocks (see the module doc)."""
    if len(pages) < MIN_PAGES:
        return pages
    drop = furniture(pages)
    if not drop:
        return pages
    return [[blk for b, blk in enumerate(blocks) if (p, b) not in drop] for p, blocks in enumerate(pages)]
