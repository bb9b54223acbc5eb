"""Layout of one PDF page: chars -> lines (cut at column gutters) -> paragraph boxes.

Coordinates are top-down (``top`` < ``bottom``), in PDF points. Horizontal text and
vertical writing (tategaki) are both handled; ``pdf_order`` puts the boxes in reading order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

SPLIT_EM = 1.5  # a gap wider than this (in em) ends a line fragment if it is a column gutter
HARD_SPLIT_EM = 15.0  # a gap wider than this always ends a line fragment
SPACE_EM = 0.5  # a gap wider than this inside a fragment becomes one space (0.25 em 和欧間 is not)
SPACE_EM_ASCII = 0.18  # between two half-width chars a word space is ~0.25 em


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


def _spans(row: list[Char], em: float) -> list[tuple[float, float]]:
    """Horizontal extents of a row's text, merging chars closer than one em."""
    out = [(row[0].x0, row[0].x1)]
    for c in row[1:]:
        if c.x0 - out[-1][1] <= em:
            out[-1] = (out[-1][0], max(out[-1][1], c.x1))
        else:
            out.append((c.x0, c.x1))
    return out


def _gutter(rows: list[list[Char]], spans: list[list[tuple[float, float]]], idx: int,
            lo: float, hi: float, em: float, obstacles: list[Rect]) -> bool:
    """Does the gap [lo, hi] in rows[idx] contain a column gutter?

    A gutter is a strip (at least 0.8 em wide) that the rows around stay out of while
    their text ends just left of it and starts just right of it. A tab-like gap
    ("問 保健福祉センター    ☎ 9-3050") is crossed by nearby lines or tables instead.
    """
    base = rows[idx][0].base
    width = int(hi - lo) + 1
    cover = [0] * width
    near: list[tuple[float, float]] = []
    count = 0
    for r, sp in zip(rows[max(0, idx - 40): idx + 41], spans[max(0, idx - 40): idx + 41]):
        if r is rows[idx] or abs(r[0].base - base) > 12 * em or not any(a < hi + 8 * em and b > lo - 8 * em for a, b in sp):
            continue
        count += 1
        near += sp
        for a, b in sp:
            for x in range(max(0, int(a - lo)), min(width, int(b - lo) + 1)):
                cover[x] += 1
    for x0, top, x1, bottom in obstacles:
        if top - 12 * em < base < bottom + 12 * em and x0 < hi and x1 > lo:
            count += 3
            for x in range(max(0, int(x0 - lo)), min(width, int(x1 - lo) + 1)):
                cover[x] += 3
    limit, need, start = 0.2 * count, max(1, int(0.8 * em)), None
    for x, n in enumerate(cover + [count + 1]):
        if n <= limit:
            start = x if start is None else start
            continue
        if start is not None and x - start >= need:
            a, b = lo + start, lo + x
            left = any(a - 2 * em <= end <= a + 0.5 * em for _, end in near)
            right = any(b - 0.5 * em <= beg <= b + 2 * em for beg, _ in near)
            if left and right:
                return True
        start = None
    return False


def build_lines(chars: list[Char], vertical: bool = True, obstacles: list[Rect] | None = None) -> list[Line]:
    """Group chars sharing a baseline, then cut each row at column gutters (``obstacles``: tables)."""
    lines: list[Line] = []
    if vertical:
        lines, chars = _vertical_runs(chars)
    rows = _rows(chars)
    ems = [_row_em(row) for row in rows]
    spans = [_spans(row, em) for row, em in zip(rows, ems)]
    for idx, row in enumerate(rows):
        start, em = 0, ems[idx]
        for i in range(1, len(row) + 1):
            gap = row[i].x0 - row[i - 1].x1 if i < len(row) else 0.0
            cut = i == len(row) or gap > HARD_SPLIT_EM * em or (
                gap > SPLIT_EM * em and _gutter(rows, spans, idx, row[i - 1].x1, row[i].x0, em, obstacles or []))
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
