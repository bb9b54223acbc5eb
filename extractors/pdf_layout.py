"""Reading order for one PDF page: chars -> lines -> paragraph boxes -> ordered boxes.

Coordinates are top-down (``top`` < ``bottom``), in PDF points. Columns are never
interleaved: boxes are ordered by a recursive XY-cut that prefers vertical gutters and
merges horizontal bands that share a gutter (a title band above two columns does not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

SPLIT_EM = 1.5  # a gap wider than this (in em) ends a line fragment if it is a column gutter
HARD_SPLIT_EM = 15.0  # a gap wider than this always ends a line fragment
SPACE_EM = 0.5  # a gap wider than this inside a fragment becomes one space (0.25 em 和欧間 is not)
SPACE_EM_ASCII = 0.18  # between two half-width chars a word space is ~0.25 em
MAX_DEPTH = 60


class Char:
    """One glyph with its loose box; ``em`` estimates the font size from the advance."""

    __slots__ = ("ch", "x0", "x1", "top", "bottom", "base", "em")

    def __init__(self, ch: str, x0: float, x1: float, top: float, bottom: float, base: float) -> None:
        self.ch, self.x0, self.x1, self.top, self.bottom, self.base = ch, x0, x1, top, bottom, base
        w = x1 - x0
        self.em = w if ord(ch) >= 0x2E80 else max(w * 2, (bottom - top) * 0.5)


@dataclass
class Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    base: float
    em: float
    vertical: bool = False


@dataclass
class Box:
    """A paragraph (stacked lines) or a table (``rows`` set)."""

    lines: list[Line] = field(default_factory=list)
    rows: list[str] | None = None
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0

    @property
    def em(self) -> float:
        return median(ln.em for ln in self.lines) if self.lines else 0.0

    @property
    def vertical(self) -> bool:
        return bool(self.lines) and self.lines[0].vertical

    def add(self, ln: Line) -> None:
        if not self.lines:
            self.x0, self.x1, self.top, self.bottom = ln.x0, ln.x1, ln.top, ln.bottom
        else:
            self.x0, self.x1 = min(self.x0, ln.x0), max(self.x1, ln.x1)
            self.top, self.bottom = min(self.top, ln.top), max(self.bottom, ln.bottom)
        self.lines.append(ln)

    def text(self) -> str:
        out = ""
        for ln in self.lines:
            if out and out[-1].isascii() and out[-1].isalnum() and ln.text[:1].isascii() and ln.text[:1].isalnum():
                out += " "
            out += ln.text
        return out


def _row_em(row: list[Char]) -> float:
    """Font size of a row: the advance of its full-width chars, else the per-char estimate."""
    wide = [c.x1 - c.x0 for c in row if ord(c.ch) >= 0x2E80]
    return median(wide) if wide else median(c.em for c in row)


def dedupe(chars: list[Char]) -> list[Char]:
    """Drop fake-bold overprints: the same glyph drawn again a fraction of its width away."""
    by_glyph: dict[str, list[Char]] = {}
    for c in chars:
        by_glyph.setdefault(c.ch, []).append(c)
    dropped: set[int] = set()
    for group in by_glyph.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda c: c.x0)
        for i, c in enumerate(group):
            j = i - 1
            while j >= 0 and c.x0 - group[j].x0 < 0.6 * (c.x1 - c.x0):
                if id(group[j]) not in dropped and abs(c.base - group[j].base) < 0.3 * c.em:
                    dropped.add(id(c))
                    break
                j -= 1
    return [c for c in chars if id(c) not in dropped] if dropped else chars


def _fragment(chars: list[Char], em: float) -> Line:
    parts = [chars[0].ch]
    for prev, cur in zip(chars, chars[1:]):
        narrow = ord(prev.ch) < 0x2E80 and ord(cur.ch) < 0x2E80
        if cur.x0 - prev.x1 > (SPACE_EM_ASCII if narrow else SPACE_EM) * em:
            parts.append(" ")
        parts.append(cur.ch)
    return Line(
        text="".join(parts).strip(), x0=chars[0].x0, x1=max(c.x1 for c in chars),
        top=min(c.top for c in chars), bottom=max(c.bottom for c in chars),
        base=median(c.base for c in chars), em=median(c.em for c in chars),
    )


def _rows(chars: list[Char]) -> list[list[Char]]:
    """Chars grouped by shared baseline, each row sorted left to right."""
    rows: list[list[Char]] = []
    for c in sorted(chars, key=lambda c: (c.base, c.x0)):
        if rows and c.base - rows[-1][0].base <= 0.25 * min(c.bottom - c.top, rows[-1][0].bottom - rows[-1][0].top):
            rows[-1].append(c)
        else:
            rows.append([c])
    for row in rows:
        row.sort(key=lambda c: c.x0)
    return rows


def _vertical_runs(chars: list[Char]) -> tuple[list[Line], list[Char]]:
    """Split off vertical writing (tategaki): stacks of chars that have no horizontal neighbour."""
    lonely: list[Char] = []
    for row in _rows(chars):
        for i, c in enumerate(row):
            left = i > 0 and c.x0 - row[i - 1].x1 <= 0.3 * c.em
            right = i + 1 < len(row) and row[i + 1].x0 - c.x1 <= 0.3 * c.em
            if not left and not right:
                lonely.append(c)
    columns: list[list[Char]] = []
    for c in sorted(lonely, key=lambda c: (c.x0 + c.x1) / 2):
        cx = (c.x0 + c.x1) / 2
        if columns and cx - (columns[-1][-1].x0 + columns[-1][-1].x1) / 2 <= 0.35 * c.em:
            columns[-1].append(c)
        else:
            columns.append([c])
    runs: list[list[Char]] = []
    for col in columns:
        col.sort(key=lambda c: c.top)
        run = [col[0]]
        for c in col[1:]:
            if -0.3 * c.em <= c.top - run[-1].bottom <= 0.6 * c.em:
                run.append(c)
            else:
                runs.append(run)
                run = [c]
        runs.append(run)
    lines, used = [], set()
    for run in runs:
        if len(run) >= 2:
            used.update(id(c) for c in run)
            lines.append(Line(text="".join(c.ch for c in run), x0=min(c.x0 for c in run), x1=max(c.x1 for c in run),
                              top=run[0].top, bottom=run[-1].bottom, base=run[0].base,
                              em=median(c.em for c in run), vertical=True))
    return lines, [c for c in chars if id(c) not in used]


Rect = tuple[float, float, float, float]  # x0, top, x1, bottom


def _gutter(rows: list[list[Char]], idx: int, lo: float, hi: float, em: float, obstacles: list[Rect]) -> bool:
    """Is the gap [lo, hi] in rows[idx] part of a tall empty strip (a column gutter)?

    A tab-like gap ("問 保健福祉センター    ☎ 9-3050") is crossed by the lines (or the
    tables) around it; a gutter stays empty while text runs beside it.
    """
    base = rows[idx][0].base
    lo, hi = lo + 0.2 * em, hi - 0.2 * em
    near_lo, near_hi = lo - 8 * em, hi + 8 * em
    crossed = beside = 0
    for r in rows[max(0, idx - 40): idx + 41]:
        if r is rows[idx] or abs(r[0].base - base) > 12 * em:
            continue
        if any(c.x0 < hi and c.x1 > lo for c in r):
            crossed += 1
        elif any(c.x0 < near_hi and c.x1 > near_lo for c in r):
            beside += 1
    for x0, top, x1, bottom in obstacles:
        if x0 < hi and x1 > lo and top - 12 * em < base < bottom + 12 * em:
            crossed += 3
    return beside >= 3 and crossed <= 0.2 * (crossed + beside)


def build_lines(chars: list[Char], vertical: bool = True, obstacles: list[Rect] | None = None) -> list[Line]:
    """Group chars sharing a baseline, then cut each row at column gutters (``obstacles``: tables)."""
    lines: list[Line] = []
    if vertical:
        lines, chars = _vertical_runs(chars)
    rows = _rows(chars)
    for idx, row in enumerate(rows):
        start, em = 0, _row_em(row)
        for i in range(1, len(row) + 1):
            gap = row[i].x0 - row[i - 1].x1 if i < len(row) else 0.0
            cut = i == len(row) or gap > HARD_SPLIT_EM * em or (
                gap > SPLIT_EM * em and _gutter(rows, idx, row[i - 1].x1, row[i].x0, em, obstacles or []))
            if cut:
                frag = [c for c in row[start:i] if not c.ch.isspace()]
                if frag:
                    lines.append(_fragment(frag, em))
                start = i
    return [ln for ln in lines if ln.text]


def _joins(box: Box, ln: Line) -> bool:
    last = box.lines[-1]
    em = max(last.em, ln.em)
    if not 0.8 <= ln.em / last.em <= 1.25:
        return False
    if ln.top - last.bottom > 0.6 * em or ln.base - last.base > 2.2 * em or ln.base <= last.base:
        return False
    overlap = min(box.x1, ln.x1) - max(box.x0, ln.x0)
    if overlap < 0.5 * min(box.x1 - box.x0, ln.x1 - ln.x0):
        return False
    if len(box.lines) == 1 and abs(ln.x0 - box.x0) <= 0.5 * em:
        return True  # a short first line (e.g. a heading broken after "・") then a longer one
    return ln.x0 >= box.x0 - 1.5 * em and ln.x1 <= box.x1 + 1.5 * em


def _vertical_boxes(lines: list[Line]) -> list[Box]:
    """Vertical lines side by side (right to left, tops aligned) form one box."""
    boxes: list[Box] = []
    for ln in sorted(lines, key=lambda ln: -ln.x1):
        for box in reversed(boxes):
            last = box.lines[-1]
            if abs(ln.top - box.top) <= 1.5 * ln.em and -0.2 * ln.em <= last.x0 - ln.x1 <= 1.0 * ln.em \
                    and 0.8 <= ln.em / last.em <= 1.25:
                box.add(ln)
                break
        else:
            boxes.append(Box())
            boxes[-1].add(ln)
    return boxes


def build_boxes(lines: list[Line]) -> list[Box]:
    """Stack lines into paragraph boxes; a box closes once something else lands below it."""
    open_boxes: list[Box] = []
    done: list[Box] = [] + _vertical_boxes([ln for ln in lines if ln.vertical])
    for ln in sorted((ln for ln in lines if not ln.vertical), key=lambda ln: (ln.top, ln.x0)):
        target = next((b for b in reversed(open_boxes) if _joins(b, ln)), None)
        for b in list(open_boxes):
            if b is not target and min(b.x1, ln.x1) - max(b.x0, ln.x0) > 0 and ln.top >= b.bottom - 0.5 * ln.em:
                open_boxes.remove(b)
                done.append(b)
        if target is None:
            target = Box()
            open_boxes.append(target)
        target.add(ln)
    return done + open_boxes


def _gaps(spans: list[tuple[float, float]], min_gap: float) -> list[tuple[float, float]]:
    """Empty intervals (wider than min_gap) between the union of 1-D spans."""
    out = []
    spans = sorted(spans)
    reach = spans[0][1]
    for lo, hi in spans[1:]:
        if lo - reach > min_gap:
            out.append((reach, lo))
        reach = max(reach, hi)
    return out


def _y_span(b: Box) -> tuple[float, float]:
    shrink = 0.15 * (b.bottom - b.top) if b.rows is None and len(b.lines) == 1 else 0.0
    return b.top + shrink, b.bottom - shrink


def _split(boxes: list[Box], cuts: list[tuple[float, float]], key) -> list[list[Box]]:
    groups: list[list[Box]] = [[] for _ in range(len(cuts) + 1)]
    for b in boxes:
        lo = key(b)
        idx = sum(1 for c in cuts if lo >= c[1] - 1e-6)
        groups[idx].append(b)
    return [g for g in groups if g]


def _free(boxes: list[Box], lo: float, hi: float, min_gap: float) -> list[tuple[float, float]]:
    """Horizontal free intervals of a band within the region [lo, hi] (margins included)."""
    return _gaps([(lo - 2 * min_gap, lo - min_gap - 1)] + [(b.x0, b.x1) for b in boxes] + [(hi + min_gap + 1, hi + 2 * min_gap)], min_gap)


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(max(p[0], q[0]), min(p[1], q[1])) for p in a for q in b if min(p[1], q[1]) > max(p[0], q[0])]


def _merge_bands(bands: list[list[Box]], lo: float, hi: float, min_gap: float) -> list[list[Box]]:
    """Join consecutive bands that share an interior gutter (so columns stay whole).

    The gutter must be free over at least half the region's height: a true column
    gutter, not the gap between two short items that happen to sit on one line.
    """
    frees = [_free(band, lo, hi, min_gap) for band in bands]
    heights = [max(b.bottom for b in band) - min(b.top for b in band) for band in bands]
    total = sum(heights) or 1.0

    def tall(gap: tuple[float, float]) -> bool:
        covered = sum(h for f, h in zip(frees, heights) if any(min(g[1], gap[1]) - max(g[0], gap[0]) >= min(min_gap, gap[1] - gap[0]) for g in f))
        return covered >= 0.5 * total

    out: list[list[Box]] = []
    free: list[tuple[float, float]] = []
    for band, band_free in zip(bands, frees):
        if out:
            merged = out[-1] + band
            x0, x1 = min(b.x0 for b in merged), max(b.x1 for b in merged)
            inner = [g for g in _intersect(free, band_free) if g[1] - g[0] > min_gap and g[0] > x0 and g[1] < x1]
            inner = [g for g in inner if tall(g)]
            if inner:
                out[-1], free = merged, inner
                continue
        out.append(list(band))
        free = band_free
    return out


def order_boxes(boxes: list[Box], depth: int = 0) -> list[Box]:
    """Reading order: columns left to right, bands top to bottom, recursively."""
    if len(boxes) <= 1 or depth > MAX_DEPTH:
        return sorted(boxes, key=lambda b: (b.top, b.x0))
    min_gap = 0.5 * median(b.em or 8.0 for b in boxes)
    if all(b.vertical for b in boxes):  # tategaki: tiers top to bottom, columns right to left
        rows = _gaps([(b.top, b.bottom) for b in boxes], 0.0)
        if rows:
            return [b for g in _split(boxes, rows, lambda b: b.top) for b in order_boxes(g, depth + 1)]
        cols = _gaps([(b.x0, b.x1) for b in boxes], min_gap)
        groups = _split(boxes, cols, lambda b: b.x0)[::-1] if cols else [sorted(boxes, key=lambda b: -b.x1)]
        return [b for g in groups for b in (order_boxes(g, depth + 1) if len(groups) > 1 else g)]
    cols = _gaps([(b.x0, b.x1) for b in boxes], min_gap)
    if cols:
        return [b for g in _split(boxes, cols, lambda b: b.x0) for b in order_boxes(g, depth + 1)]
    rows = _gaps([_y_span(b) for b in boxes], 0.0)
    if rows:
        bands = _split(boxes, rows, lambda b: _y_span(b)[0])
        lo, hi = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
        bands = _merge_bands(bands, lo, hi, min_gap)
        if len(bands) > 1:
            return [b for g in bands for b in order_boxes(g, depth + 1)]
    return sorted(boxes, key=lambda b: (b.top, b.x0))
