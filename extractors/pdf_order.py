"""Reading order of a page's boxes: a recursive XY-cut that never interleaves columns.

Vertical gutters are cut first (columns left to right); otherwise horizontal bands are
cut top to bottom, after merging consecutive bands that share a tall column gutter (a
title band above two columns does not share it). Vertical writing reads right to left.
"""

from __future__ import annotations

from statistics import median

from extractors.pdf_layout import Box

MAX_DEPTH = 60


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
